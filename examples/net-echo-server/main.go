// Command net-echo-server is the timestamp echo server on the standard
// library's net package, a goroutine per connection: the yardstick the
// benchmark (rawsock bench echo) holds rawsock's servers against. Each
// Read of up to 1024 bytes is answered with ctime(3) (24 bytes, without
// its newline) followed by the bytes read, as the tutorial's server does.
//
//	go run ./examples/net-echo-server [-addr :9999]
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", ":9999", "TCP address to listen on; port 0 lets the kernel pick one")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "net-echo-server:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
			time.Sleep(10 * time.Millisecond) // out of fds: wait for a client to leave
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "net-echo-server:", err)
			os.Exit(1)
		}
		go serve(c)
	}
}

// serve answers each Read, reusing one buffer: recv into it after room for
// the stamp, stamp, write (net sets TCP_NODELAY by default).
func serve(c net.Conn) {
	defer c.Close()
	const stampLen = 24
	buf := make([]byte, stampLen+1024)
	var last int64
	for {
		n, err := c.Read(buf[stampLen:])
		if err != nil {
			return
		}
		if now := time.Now(); now.Unix() != last { // the stamp changes once a second
			now.AppendFormat(buf[:0], time.ANSIC)
			last = now.Unix()
		}
		if _, err := c.Write(buf[:stampLen+n]); err != nil {
			return
		}
	}
}
