// Command tcp-echo-server is the tutorial's timestamp server ported line for
// line from Python onto rawsock: it answers every recv with ctime() followed
// by the bytes received, one client at a time.
//
//	go run ./examples/tcp-echo-server [-host ''] [-port 9999]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

const bufsiz = 1024 // BUFSIZ = 1024

func main() {
	host := flag.String("host", "", "address to bind; '' is INADDR_ANY, as HOST = '' in Python")
	port := flag.Int("port", 9999, "TCP port; 0 lets the kernel pick one")
	flag.Parse()

	// socket(2): tcpSerSock = socket(AF_INET, SOCK_STREAM)
	ss, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	check(err)
	// bind(2): tcpSerSock.bind(ADDR)
	addr, err := rawsock.InetAddr(*host, *port)
	check(err)
	check(ss.Bind(addr))
	// listen(2): tcpSerSock.listen(5)
	check(ss.Listen(5))
	// getsockname(2): not in the Python; says which port -port 0 got.
	me, err := ss.Getsockname()
	check(err)
	fmt.Println("listening on", rawsock.AddrString(me))

	for {
		fmt.Println("waiting for connection...")
		// accept4(2): tcpCliSock, addr = tcpSerSock.accept()
		cs, from, err := ss.Accept()
		check(err)
		fmt.Println("...connected from:", rawsock.AddrString(from))
		echo(cs)
		// close(2): tcpCliSock.close()
		cs.Close()
	}
}

// echo is the inner loop. Where the Python dies on a reset connection, this
// prints the error and goes back to accept.
func echo(cs *rawsock.Conn) {
	buf := make([]byte, bufsiz)
	for {
		// recvfrom(2): data = tcpCliSock.recv(BUFSIZ)
		n, err := cs.Recv(buf, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcp-echo-server:", err)
			return
		}
		if n == 0 { // if not data: break (the client closed)
			return
		}
		// sendto(2): tcpCliSock.send(bytes(ctime()) + data); Sendall
		// loops over sendto, since one send may write less on a stream.
		reply := append([]byte(time.Now().Format(time.ANSIC)), buf[:n]...)
		if err := cs.Sendall(reply, 0); err != nil {
			fmt.Fprintln(os.Stderr, "tcp-echo-server:", err)
			return
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcp-echo-server:", err)
		os.Exit(1)
	}
}
