//go:build linux

// Command epoll-echo-go is ../epoll-echo-c/server.c ported line for line
// onto rawsock.Epoll: the timestamp echo server as one epoll(7) event loop
// with non-blocking fds in a level-triggered set, a table of connections
// indexed by fd, a per-connection output buffer, and EPOLLOUT asked for only
// while a write is short. Each recv(2) of up to 1024 bytes is answered with
// ctime(3) (24 bytes, without its newline) followed by the bytes received.
//
//	go run ./examples/epoll-echo-go [-b HOST] [-p PORT]
//
// It prints "listening on HOST:PORT" once ready (-p 0: the kernel picks the
// port). Where the C calls a libc function the Go calls the *rawsock.Conn
// method of the same name; the C's errno checks become errors.Is.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

const (
	bufSize   = 1024      // the tutorial's BUFSIZ
	stampLen  = 24        // len(ctime) without the '\n'
	maxEvents = 256       // events taken per epoll_wait
	outMax    = 64 * 1024 // stop reading a client that leaves this much unread
)

type conn struct {
	sock   *rawsock.Conn
	out    []byte // unsent answer bytes: out[off:]
	off    int
	events uint32 // the epoll mask now registered
	eof    bool   // the client closed its side: flush, then close
}

var (
	ep        *rawsock.Epoll // the epoll instance
	lsock     *rawsock.Conn  // the listening socket
	lfd       int
	accepting = true  // false while EMFILE/ENFILE keeps lfd out of the set
	conns     []*conn // by fd
	reply     [stampLen + bufSize]byte
)

// yield lets the scheduler see the loop goroutine make progress, at most
// once a millisecond: else sysmon, after 10ms without, forces it off its P.
var lastYield time.Time

func yield() {
	if now := time.Now(); now.Sub(lastYield) > time.Millisecond {
		lastYield = now
		runtime.Gosched()
	}
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "epoll-echo-go: %s: %v\n", what, err)
	os.Exit(1)
}

// nowCtime returns ctime(3) of now without the newline, formatted once a
// second: the string changes no more often than that.
var (
	stamp []byte
	last  int64 = -1
)

func nowCtime() []byte {
	t := time.Now()
	if s := t.Unix(); s != last {
		stamp = t.AppendFormat(stamp[:0], time.ANSIC)
		last = s
	}
	return stamp
}

// raiseNofile lifts the soft RLIMIT_NOFILE to the hard one, so that
// thousands of clients fit, and sizes the connection table to it.
func raiseNofile() {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		die("getrlimit", err)
	}
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		die("setrlimit", err)
	}
	conns = make([]*conn, min(rl.Cur, 1<<20))
}

// setEvents changes fd's epoll mask when it differs: epoll_ctl(MOD).
func setEvents(fd int, c *conn, events uint32) {
	if c.events == events {
		return
	}
	ev := rawsock.EpollEvent{Events: events, Fd: int32(fd)}
	if err := ep.Ctl(rawsock.EPOLL_CTL_MOD, fd, &ev); err != nil {
		die("epoll_ctl", err)
	}
	c.events = events
}

// closeConn: close(2) takes fd out of the epoll set; a paused listener may
// accept again now that an fd is free.
func closeConn(fd int) {
	conns[fd].sock.Close()
	conns[fd] = nil
	if !accepting {
		ev := rawsock.EpollEvent{Events: rawsock.EPOLLIN, Fd: int32(lfd)}
		if err := ep.Ctl(rawsock.EPOLL_CTL_ADD, lfd, &ev); err != nil {
			die("epoll_ctl", err)
		}
		accepting = true
	}
}

// keep appends the unsent tail of an answer to the output buffer (append
// is the C's realloc-and-memcpy).
func keep(c *conn, p []byte) { c.out = append(c.out, p...) }

// flush sends what the output buffer holds; an error means close.
func flush(c *conn) error {
	for c.off < len(c.out) {
		w, err := c.sock.Send(c.out[c.off:], rawsock.MSG_NOSIGNAL)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			return err
		}
		c.off += w
	}
	if c.off == len(c.out) {
		c.out, c.off = c.out[:0], 0
	}
	return nil
}

// update asks for EPOLLOUT while answers wait, and stops reading a client
// that leaves more than outMax of them unread, or that has closed.
func update(fd int, c *conn) {
	var events uint32
	if !c.eof && len(c.out)-c.off < outMax {
		events |= rawsock.EPOLLIN
	}
	if len(c.out) > c.off {
		events |= rawsock.EPOLLOUT
	}
	setEvents(fd, c, events)
}

// onAccept takes every pending connection: accept4(2) until EAGAIN.
func onAccept() {
	for {
		s, _, err := lsock.Accept()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
			return
		}
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			// Out of fds: level-triggered, lfd would wake us at once,
			// forever. Leave it out until a client leaves.
			if err := ep.Ctl(rawsock.EPOLL_CTL_DEL, lfd, nil); err != nil {
				die("epoll_ctl", err)
			}
			accepting = false
			return
		}
		if err != nil {
			die("accept4", err)
		}
		fd := s.Fileno()
		if fd >= len(conns) {
			s.Close()
			continue
		}
		s.SetBlocking(false)
		s.SetsockoptInt(rawsock.IPPROTO_TCP, rawsock.TCP_NODELAY, 1)
		conns[fd] = &conn{sock: s, events: rawsock.EPOLLIN}
		ev := rawsock.EpollEvent{Events: rawsock.EPOLLIN, Fd: int32(fd)}
		if err := ep.Ctl(rawsock.EPOLL_CTL_ADD, fd, &ev); err != nil {
			die("epoll_ctl", err)
		}
	}
}

// onReadable answers one recv(2): ctime + the bytes, sent at once if
// nothing is queued before it, else queued behind what is.
func onReadable(fd int, c *conn) {
	n, err := c.sock.Recv(reply[stampLen:], 0)
	if errors.Is(err, unix.EAGAIN) {
		return
	}
	if err != nil {
		closeConn(fd)
		return
	}
	if n == 0 {
		c.eof = true
	} else {
		copy(reply[:], nowCtime())
		n += stampLen
		off := 0
		if len(c.out) == c.off {
			w, err := c.sock.Send(reply[:n], rawsock.MSG_NOSIGNAL)
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				closeConn(fd)
				return
			}
			off = max(w, 0)
		}
		if off < n {
			keep(c, reply[off:n])
		}
	}
	if c.eof && len(c.out) == c.off {
		closeConn(fd)
		return
	}
	update(fd, c)
}

// onWritable sends what short writes left behind.
func onWritable(fd int, c *conn) {
	if err := flush(c); err != nil || (c.eof && len(c.out) == c.off) {
		closeConn(fd)
		return
	}
	update(fd, c)
}

func main() {
	host := flag.String("b", "0.0.0.0", "address to bind")
	port := flag.Int("p", 9999, "TCP port; 0 lets the kernel pick one")
	flag.Parse()
	sa, err := rawsock.InetAddr(*host, *port)
	if err != nil {
		fmt.Fprintf(os.Stderr, "epoll-echo-go: bad address %s:%d: %v\n", *host, *port, err)
		os.Exit(2)
	}
	raiseNofile()
	// The loop is one thread, as in C: epoll_wait blocks it, not a
	// goroutine the scheduler could move. Not in the C: a goroutine that
	// lives in syscalls and never yields keeps the runtime's sysmon thread
	// waking every 20µs to take its P back (with GOMAXPROCS 1, as under
	// taskset -c 0, there is no idle P to spare), which costs as much CPU
	// as a fifth of the loop. A second P and a yield once a millisecond
	// (see yield) let sysmon sleep.
	runtime.LockOSThread()
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))

	// socket(2), bind(2), listen(2): the listener, non-blocking too.
	if lsock, err = rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0); err != nil {
		die("socket", err)
	}
	lsock.SetBlocking(false)
	lfd = lsock.Fileno()
	lsock.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1)
	if err := lsock.Bind(sa); err != nil {
		die("bind", err)
	}
	if err := lsock.Listen(unix.SOMAXCONN); err != nil {
		die("listen", err)
	}
	me, err := lsock.Getsockname()
	if err != nil {
		die("getsockname", err)
	}
	fmt.Println("listening on", rawsock.AddrString(me))

	// epoll_create1(2), epoll_ctl(2): the set, with the listener in it.
	if ep, err = rawsock.EpollCreate1(0); err != nil {
		die("epoll_create1", err)
	}
	ev := rawsock.EpollEvent{Events: rawsock.EPOLLIN, Fd: int32(lfd)}
	if err := ep.Ctl(rawsock.EPOLL_CTL_ADD, lfd, &ev); err != nil {
		die("epoll_ctl", err)
	}

	// epoll_wait(2): the loop.
	events := make([]rawsock.EpollEvent, maxEvents)
	for {
		yield()
		n, err := ep.Wait(events, -1)
		if err != nil {
			die("epoll_wait", err)
		}
		for _, e := range events[:n] {
			fd := int(e.Fd)
			if fd == lfd {
				onAccept()
				continue
			}
			// An earlier event of this round may have closed fd.
			if conns[fd] != nil && e.Events&(rawsock.EPOLLIN|rawsock.EPOLLHUP|rawsock.EPOLLERR) != 0 {
				onReadable(fd, conns[fd])
			}
			if conns[fd] != nil && e.Events&rawsock.EPOLLOUT != 0 {
				onWritable(fd, conns[fd])
			}
		}
	}
}
