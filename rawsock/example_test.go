//go:build linux

// The examples run on Linux only: elsewhere every call returns "not
// implemented", and the outputs would not match.

package rawsock_test

import (
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

// The tutorial's timestamp server, line for line as the Python reads:
//
//	s = socket(AF_INET, SOCK_STREAM); s.bind(('', 9999)); s.listen(5)
//	c, addr = s.accept(); data = c.recv(1024)
func ExampleSocket() {
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0) // socket(2)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1); err != nil {
		log.Fatal(err)
	}
	addr, err := rawsock.InetAddr("", 9999) // Python's ('', 9999)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Bind(addr); err != nil { // bind(2)
		log.Fatal(err) // e.g. "bind: address already in use"
	}
	if err := s.Listen(5); err != nil { // listen(2)
		log.Fatal(err)
	}
	for {
		fmt.Println("waiting for connection...")
		c, from, err := s.Accept() // accept4(2)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("...connected from:", rawsock.AddrString(from))
		buf := make([]byte, 1024)
		for {
			n, err := c.Recv(buf, 0) // recvfrom(2)
			if err != nil || n == 0 {
				break // n == 0: the client closed its end
			}
			reply := append([]byte(time.Now().Format(time.ANSIC)), buf[:n]...)
			if err := c.Sendall(reply, 0); err != nil { // sendto(2) until all is sent
				break
			}
		}
		c.Close() // close(2)
	}
}

// An AF_UNIX SOCK_SEQPACKET pair keeps message boundaries: two sends are
// two receives, where a stream would run them together.
func ExampleSocketpair() {
	a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	a.Send([]byte("hello"), 0)
	a.Send([]byte("world"), 0)
	buf := make([]byte, 100)
	for i := 0; i < 2; i++ {
		n, err := b.Recv(buf, 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("message %d: %q\n", i+1, buf[:n])
	}
	// Output:
	// message 1: "hello"
	// message 2: "world"
}

func ExampleInetPton() {
	b, err := rawsock.InetPton(rawsock.AF_INET, "192.0.2.1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("% x\n", b)
	b6, _ := rawsock.InetPton(rawsock.AF_INET6, "2001:db8::1")
	s, _ := rawsock.InetNtop(rawsock.AF_INET6, b6)
	fmt.Println(len(b6), "bytes:", s)
	// Output:
	// c0 00 02 01
	// 16 bytes: 2001:db8::1
}

// Htons puts the most significant byte first in memory, the order the
// wire wants, whatever the machine's own order.
func ExampleHtons() {
	var mem [2]byte
	binary.NativeEndian.PutUint16(mem[:], rawsock.Htons(9999))
	fmt.Printf("9999 = %#04x, in network order: % x\n", 9999, mem)
	fmt.Println(rawsock.Ntohs(rawsock.Htons(9999)))
	// Output:
	// 9999 = 0x270f, in network order: 27 0f
	// 9999
}

// SetTrace prints one line per syscall, strace-like. (The fd numbers vary
// from run to run, so this example shows its output in the comment.)
func ExampleSetTrace() {
	rawsock.SetTrace(os.Stdout)
	defer rawsock.SetTrace(nil)
	a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	if err != nil {
		log.Fatal(err)
	}
	a.Send([]byte("ping"), 0)
	b.Recv(make([]byte, 16), 0)
	a.Close()
	b.Close()
	// Prints, for example:
	//	socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 0 [3, 4]
	//	sendto(3, 4) = 4
	//	recvfrom(4, 16) = 4
	//	close(3) = 0
	//	close(4) = 0
}

// A timer in an epoll set, as a C event loop keeps its timeouts: epoll_wait
// needs no timeout of its own, and the timer's fd says when it is due.
func ExampleTimerfdCreate() {
	tm, err := rawsock.TimerfdCreate(rawsock.CLOCK_MONOTONIC)
	if err != nil {
		log.Fatal(err)
	}
	defer tm.Close()
	ep, err := rawsock.EpollCreate1(0)
	if err != nil {
		log.Fatal(err)
	}
	defer ep.Close()
	ev := rawsock.EpollEvent{Events: rawsock.EPOLLIN, Fd: int32(tm.Fd())}
	if err := ep.Ctl(rawsock.EPOLL_CTL_ADD, tm.Fd(), &ev); err != nil {
		log.Fatal(err)
	}
	tm.Settime(10*time.Millisecond, 0) // once, 10 ms from now
	events := make([]rawsock.EpollEvent, 8)
	n, err := ep.Wait(events, -1)
	if err != nil {
		log.Fatal(err)
	}
	k, err := tm.Read()
	fmt.Println(n, events[0].Fd == int32(tm.Fd()), k, err)
	// Output: 1 true 1 <nil>
}
