// Command unix-echo-server is the timestamp server on an AF_UNIX
// SOCK_STREAM socket: the tutorial's TCP server with a filesystem path for
// an address. Like TCP, a stream keeps no message boundaries.
//
//	go run ./examples/unix-echo-server [-path /tmp/rawsock-echo.sock]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

const bufsiz = 1024 // BUFSIZ = 1024

func main() {
	path := flag.String("path", "/tmp/rawsock-echo.sock", "socket path to bind")
	flag.Parse()

	// socket(2): s = socket(AF_UNIX, SOCK_STREAM)
	ss, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	check(err)
	// unlink(2) a socket left by an earlier run, else bind says EADDRINUSE;
	// and unlink ours on Ctrl-C or SIGTERM.
	if fi, err := os.Lstat(*path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(*path)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; os.Remove(*path); os.Exit(0) }()
	// bind(2): s.bind(PATH) creates the socket file; listen(2): s.listen(5)
	check(ss.Bind(rawsock.UnixAddr(*path)))
	check(ss.Listen(5))
	fmt.Println("listening on", *path)

	buf := make([]byte, bufsiz)
	for {
		fmt.Println("waiting for connection...")
		// accept4(2): cs, addr = s.accept(); a client's address is unnamed.
		cs, _, err := ss.Accept()
		check(err)
		fmt.Println("...connected")
		for {
			// recvfrom(2): data = cs.recv(BUFSIZ); if not data: break
			n, err := cs.Recv(buf, 0)
			if err != nil || n == 0 {
				break
			}
			// sendto(2): cs.send(bytes(ctime()) + data), looped by Sendall
			if err := cs.Sendall(append([]byte(time.Now().Format(time.ANSIC)), buf[:n]...), 0); err != nil {
				break
			}
		}
		// close(2): cs.close()
		cs.Close()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "unix-echo-server:", err)
		os.Exit(1)
	}
}
