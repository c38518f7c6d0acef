// Command tcp-echo-client is the tutorial's timestamp client ported line for
// line from Python onto rawsock: it reads a line at the ">>:" prompt, sends
// it, and prints the reply; an empty line (or the end of stdin) quits.
//
//	go run ./examples/tcp-echo-client [-host 127.0.0.1] [-port 9999]
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
	host := flag.String("host", "127.0.0.1", "server address, as HOST = '127.0.0.1' in Python")
	port := flag.Int("port", 9999, "server TCP port")
	flag.Parse()

	// socket(2): tcpCliSock = socket(AF_INET, SOCK_STREAM)
	cs, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	check(err)
	// connect(2): tcpCliSock.connect(ADDR)
	addr, err := rawsock.InetAddr(*host, *port)
	check(err)
	check(cs.Connect(addr))

	in := bufio.NewScanner(os.Stdin)
	buf := make([]byte, bufsiz)
	for {
		// data = input('>>:'); if not data: break
		fmt.Print(">>:")
		if !in.Scan() || in.Text() == "" {
			break
		}
		// sendto(2): tcpCliSock.send(bytes(data, 'utf-8'))
		check(cs.Sendall([]byte(in.Text()), 0))
		// recvfrom(2): data = tcpCliSock.recv(BUFSIZ); if not data: break
		n, err := cs.Recv(buf, 0)
		check(err)
		if n == 0 {
			break
		}
		fmt.Println(string(buf[:n]))
	}
	// close(2): tcpCliSock.close()
	check(cs.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcp-echo-client:", err)
		os.Exit(1)
	}
}
