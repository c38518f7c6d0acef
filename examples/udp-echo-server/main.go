// Command udp-echo-server is the timestamp server on UDP, ported line for
// line from the tutorial's Python: there is no connection, so each datagram
// is answered with recvfrom's address, ctime() followed by the datagram.
//
//	go run ./examples/udp-echo-server [-host ''] [-port 9999]
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
	port := flag.Int("port", 9999, "UDP port; 0 lets the kernel pick one")
	flag.Parse()

	// socket(2): udpSerSock = socket(AF_INET, SOCK_DGRAM)
	ss, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	check(err)
	// bind(2): udpSerSock.bind(ADDR)
	addr, err := rawsock.InetAddr(*host, *port)
	check(err)
	check(ss.Bind(addr))
	// getsockname(2): not in the Python; says which port -port 0 got.
	me, err := ss.Getsockname()
	check(err)
	fmt.Println("listening on", rawsock.AddrString(me))

	buf := make([]byte, bufsiz)
	for {
		fmt.Println("waiting for message...")
		// recvfrom(2): data, addr = udpSerSock.recvfrom(BUFSIZ)
		n, from, err := ss.Recvfrom(buf, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "udp-echo-server:", err)
			continue
		}
		// sendto(2): udpSerSock.sendto(bytes(ctime()) + data, addr); one
		// datagram, so no loop: a datagram is sent whole or not at all.
		reply := append([]byte(time.Now().Format(time.ANSIC)), buf[:n]...)
		if _, err := ss.Sendto(reply, 0, from); err != nil {
			fmt.Fprintln(os.Stderr, "udp-echo-server:", err)
			continue
		}
		fmt.Println("...received from and returned to:", rawsock.AddrString(from))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "udp-echo-server:", err)
		os.Exit(1)
	}
}
