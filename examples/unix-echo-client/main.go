// Command unix-echo-client is the timestamp client on an AF_UNIX
// SOCK_STREAM socket: the tutorial's TCP client connecting to a path.
//
//	go run ./examples/unix-echo-client [-path /tmp/rawsock-echo.sock]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/rawsock/rawsock/rawsock"
)

const bufsiz = 1024 // BUFSIZ = 1024

func main() {
	path := flag.String("path", "/tmp/rawsock-echo.sock", "server socket path")
	flag.Parse()

	// socket(2): cs = socket(AF_UNIX, SOCK_STREAM)
	cs, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	check(err)
	// connect(2): cs.connect(PATH)
	check(cs.Connect(rawsock.UnixAddr(*path)))

	in := bufio.NewScanner(os.Stdin)
	buf := make([]byte, bufsiz)
	for {
		// data = input('>>:'); if not data: break
		fmt.Print(">>:")
		if !in.Scan() || in.Text() == "" {
			break
		}
		// sendto(2): cs.send(bytes(data, 'utf-8'))
		check(cs.Sendall([]byte(in.Text()), 0))
		// recvfrom(2): data = cs.recv(BUFSIZ); if not data: break
		n, err := cs.Recv(buf, 0)
		check(err)
		if n == 0 {
			break
		}
		fmt.Println(string(buf[:n]))
	}
	// close(2): cs.close()
	check(cs.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "unix-echo-client:", err)
		os.Exit(1)
	}
}
