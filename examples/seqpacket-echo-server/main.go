// Command seqpacket-echo-server is the timestamp server on an AF_UNIX
// SOCK_SEQPACKET socket: connected like a stream, but every send(2) is one
// message and every recv(2) returns exactly one, so each message the client
// sends gets its own reply however quickly they follow each other.
//
//	go run ./examples/seqpacket-echo-server [-path /tmp/rawsock-seqpacket.sock]
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

const bufsiz = 1024 // BUFSIZ = 1024: a longer message is cut (MSG_TRUNC)

func main() {
	path := flag.String("path", "/tmp/rawsock-seqpacket.sock", "socket path to bind")
	flag.Parse()

	// socket(2): s = socket(AF_UNIX, SOCK_SEQPACKET)
	ss, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, 0)
	check(err)
	// unlink(2) a socket left by an earlier run, and ours on exit.
	if fi, err := os.Lstat(*path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(*path)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; os.Remove(*path); os.Exit(0) }()
	// bind(2): s.bind(PATH); listen(2): s.listen(5)
	check(ss.Bind(rawsock.UnixAddr(*path)))
	check(ss.Listen(5))
	fmt.Println("listening on", *path)

	buf := make([]byte, bufsiz)
	for {
		fmt.Println("waiting for connection...")
		// accept4(2): cs, addr = s.accept()
		cs, _, err := ss.Accept()
		check(err)
		fmt.Println("...connected")
		for {
			// recvfrom(2): one message, never two run together; 0 is the
			// client's close (or an empty message: this protocol sends none).
			n, err := cs.Recv(buf, 0)
			if err != nil || n == 0 {
				break
			}
			fmt.Printf("message of %d bytes\n", n)
			// sendto(2): one message back: ctime() + data
			if _, err := cs.Send(append([]byte(time.Now().Format(time.ANSIC)), buf[:n]...), 0); err != nil {
				break
			}
		}
		// close(2): cs.close()
		cs.Close()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "seqpacket-echo-server:", err)
		os.Exit(1)
	}
}
