// Command seqpacket-echo-client is the timestamp client on an AF_UNIX
// SOCK_SEQPACKET socket. It sends each line twice, back to back, before
// reading: the two sends arrive as two messages and come back as two
// replies, where on a stream (unix-echo-client) the server may well read
// both in one recv and answer once.
//
//	go run ./examples/seqpacket-echo-client [-path /tmp/rawsock-seqpacket.sock]
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
	path := flag.String("path", "/tmp/rawsock-seqpacket.sock", "server socket path")
	flag.Parse()

	// socket(2): cs = socket(AF_UNIX, SOCK_SEQPACKET)
	cs, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, 0)
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
		// sendto(2) twice: two messages, each sent whole or not at all.
		for range 2 {
			_, err := cs.Send([]byte(in.Text()), 0)
			check(err)
		}
		// recvfrom(2) twice: one reply per message, one message per recv.
		for range 2 {
			n, err := cs.Recv(buf, 0)
			check(err)
			if n == 0 {
				return
			}
			fmt.Println(string(buf[:n]))
		}
	}
	// close(2): cs.close()
	check(cs.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "seqpacket-echo-client:", err)
		os.Exit(1)
	}
}
