//go:build linux

// Command floor is the timestamp echo server of examples/epoll-echo-c in
// the least Go a Go program needs: golang.org/x/sys/unix and bare
// syscalls, no rawsock. recv(2) and send(2) carry MSG_DONTWAIT and go
// through syscall.RawSyscall6 (they cannot wait), epoll_wait(2) through
// Syscall6 (it sleeps), and the loop keeps C's structure: one locked
// thread, a level-triggered set, a table of connections by fd, EPOLLOUT
// only while a write is short. It is measurement tooling, not an example:
// `rawsock bench echo --servers c,go-floor,rawsock-epoll` puts the Go
// runtime's own cost against C's beside the library's (README, "The epoll
// engine against C").
//
//	go run ./internal/echobench/floor [-b HOST] [-p PORT]
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	bufSize   = 1024
	stampLen  = 24
	maxEvents = 256
	outMax    = 64 * 1024
)

type conn struct {
	out    []byte
	off    int
	events uint32
	eof    bool
}

var (
	ep        int
	lfd       int
	accepting = true
	conns     []*conn
	reply     [stampLen + bufSize]byte
	stamp     []byte
	last      int64     = -1
	now       time.Time // read once per epoll_wait round, as rawsock's engine does
)

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "floor: %s: %v\n", what, err)
	os.Exit(1)
}

func nowCtime() []byte {
	if s := now.Unix(); s != last {
		stamp = now.AppendFormat(stamp[:0], time.ANSIC)
		last = s
	}
	return stamp
}

func recv(fd int, b []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT, 0, 0)
	return int(r), e
}

func send(fd int, b []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	return int(r), e
}

func ctl(op, fd int, events uint32) {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(ep, op, fd, &ev); err != nil {
		die("epoll_ctl", err)
	}
}

func closeConn(fd int) {
	unix.Close(fd)
	conns[fd] = nil
	if !accepting {
		ctl(unix.EPOLL_CTL_ADD, lfd, unix.EPOLLIN)
		accepting = true
	}
}

func update(fd int, c *conn) {
	var events uint32
	if !c.eof && len(c.out)-c.off < outMax {
		events |= unix.EPOLLIN
	}
	if len(c.out) > c.off {
		events |= unix.EPOLLOUT
	}
	if events != c.events {
		ctl(unix.EPOLL_CTL_MOD, fd, events)
		c.events = events
	}
}

func onAccept() {
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case unix.EAGAIN, unix.EINTR, unix.ECONNABORTED:
			return
		case unix.EMFILE, unix.ENFILE:
			if err := unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, lfd, nil); err != nil {
				die("epoll_ctl", err)
			}
			accepting = false
			return
		default:
			die("accept4", err)
		}
		if fd >= len(conns) {
			unix.Close(fd)
			continue
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		conns[fd] = &conn{events: unix.EPOLLIN}
		ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN)
	}
}

func onReadable(fd int, c *conn) {
	n, e := recv(fd, reply[stampLen:])
	switch {
	case e == unix.EAGAIN:
		return
	case e != 0:
		closeConn(fd)
		return
	case n == 0:
		c.eof = true
	default:
		copy(reply[:], nowCtime())
		n += stampLen
		off := 0
		if len(c.out) == c.off {
			w, e := send(fd, reply[:n])
			if e != 0 && e != unix.EAGAIN {
				closeConn(fd)
				return
			}
			if e == 0 {
				off = w
			}
		}
		if off < n {
			c.out = append(c.out, reply[off:n]...)
		}
	}
	if c.eof && len(c.out) == c.off {
		closeConn(fd)
		return
	}
	update(fd, c)
}

func onWritable(fd int, c *conn) {
	for c.off < len(c.out) {
		w, e := send(fd, c.out[c.off:])
		if e == unix.EAGAIN {
			break
		}
		if e != 0 {
			closeConn(fd)
			return
		}
		c.off += w
	}
	if c.off == len(c.out) {
		c.out, c.off = c.out[:0], 0
		if c.eof {
			closeConn(fd)
			return
		}
	}
	update(fd, c)
}

func main() {
	host := flag.String("b", "0.0.0.0", "address to bind")
	port := flag.Int("p", 9999, "TCP port; 0 lets the kernel pick one")
	flag.Parse()
	addr, err := netip.ParseAddr(*host)
	if err != nil || !addr.Is4() || *port < 0 || *port > 65535 {
		fmt.Fprintf(os.Stderr, "floor: bad address %s:%d\n", *host, *port)
		os.Exit(2)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		die("getrlimit", err)
	}
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		die("setrlimit", err)
	}
	conns = make([]*conn, min(rl.Cur, 1<<20))
	// As examples/epoll-echo-go: one locked thread, a second P, a yield a
	// millisecond, so that sysmon sleeps.
	runtime.LockOSThread()
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))

	if lfd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err != nil {
		die("socket", err)
	}
	unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Port: *port, Addr: addr.As4()}); err != nil {
		die("bind", err)
	}
	if err := unix.Listen(lfd, unix.SOMAXCONN); err != nil {
		die("listen", err)
	}
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		die("getsockname", err)
	}
	in4 := sa.(*unix.SockaddrInet4)
	fmt.Printf("listening on %s\n", netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port)))
	if ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		die("epoll_create1", err)
	}
	ctl(unix.EPOLL_CTL_ADD, lfd, unix.EPOLLIN)

	events := make([]unix.EpollEvent, maxEvents)
	var yielded time.Time
	for {
		n, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			die("epoll_wait", err)
		}
		now = time.Now()
		if now.Sub(yielded) > time.Millisecond {
			yielded = now
			runtime.Gosched()
		}
		for _, e := range events[:n] {
			fd := int(e.Fd)
			if fd == lfd {
				onAccept()
				continue
			}
			if conns[fd] != nil && e.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				onReadable(fd, conns[fd])
			}
			if conns[fd] != nil && e.Events&unix.EPOLLOUT != 0 {
				onWritable(fd, conns[fd])
			}
		}
	}
}
