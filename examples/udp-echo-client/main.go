// Command udp-echo-client is the timestamp client on UDP, ported line for
// line from the tutorial's Python: no connect, each line goes out with
// sendto(2) to the server's address and the reply comes back by recvfrom(2).
//
//	go run ./examples/udp-echo-client [-host 127.0.0.1] [-port 9999]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

const bufsiz = 1024 // BUFSIZ = 1024

func main() {
	host := flag.String("host", "127.0.0.1", "server address, as HOST = '127.0.0.1' in Python")
	port := flag.Int("port", 9999, "server UDP port")
	flag.Parse()

	// socket(2): udpCliSock = socket(AF_INET, SOCK_DGRAM)
	cs, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	check(err)
	addr, err := rawsock.InetAddr(*host, *port)
	check(err)
	// A datagram or its reply may be lost: wait 5 s at most, where the
	// Python would wait for ever.
	check(cs.SetTimeout(5 * time.Second))

	in := bufio.NewScanner(os.Stdin)
	buf := make([]byte, bufsiz)
	for {
		// data = input('>>:'); if not data: break
		fmt.Print(">>:")
		if !in.Scan() || in.Text() == "" {
			break
		}
		// sendto(2): udpCliSock.sendto(bytes(data, 'utf-8'), ADDR)
		_, err := cs.Sendto([]byte(in.Text()), 0, addr)
		check(err)
		// recvfrom(2): data, ADDR = udpCliSock.recvfrom(BUFSIZ)
		n, _, err := cs.Recvfrom(buf, 0)
		check(err)
		fmt.Println(string(buf[:n]))
	}
	// close(2): udpCliSock.close()
	check(cs.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "udp-echo-client:", err)
		os.Exit(1)
	}
}
