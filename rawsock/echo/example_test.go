package echo_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock/echo"
)

func ExampleCtime() {
	t := time.Date(2016, 9, 13, 19, 11, 20, 0, time.UTC)
	fmt.Println(echo.Ctime(t) + "i")
	// Output: Tue Sep 13 19:11:20 2016i
}

// The tutorial's server and client, on loopback.
func ExampleListen() {
	s, err := echo.Listen(echo.ServerConfig{Network: "tcp", Addr: "127.0.0.1:0", Log: os.Stderr})
	if err != nil {
		log.Fatal(err) // "bind: address already in use (127.0.0.1:9999)", ...
	}
	go s.Serve()
	defer s.Shutdown(context.Background())

	c, err := echo.Dial("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	answer, err := c.Exchange([]byte("i"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", answer) // Tue Sep 13 19:11:20 2016i
}

// The same protocol as one epoll(7) event loop, on an AF_UNIX
// SOCK_SEQPACKET socket.
func ExampleServerConfig_epoll() {
	path := fmt.Sprintf("%s/echo-example-%d.sock", os.TempDir(), os.Getpid())
	s, err := echo.Listen(echo.ServerConfig{Network: "unixpacket", Addr: path, Loop: echo.LoopEpoll})
	if err != nil {
		log.Fatal(err)
	}
	go s.Serve()
	defer s.Close() // also removes the socket file

	c, err := echo.Dial("unixpacket", path, 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	answer, _ := c.Exchange([]byte("one message, one answer"))
	fmt.Printf("%s\n", answer[echo.CtimeLen:])
	// Output: one message, one answer
}
