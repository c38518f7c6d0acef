package rawsock

import (
	"time"

	"golang.org/x/sys/unix"
)

// SetsockoptInt wraps setsockopt(2) for an int option:
// s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) in Python.
func (c *Conn) SetsockoptInt(level, opt, v int) error { return c.setsockoptInt(level, opt, v) }

// GetsockoptInt wraps getsockopt(2) for an int option.
func (c *Conn) GetsockoptInt(level, opt int) (int, error) { return c.getsockoptInt(level, opt) }

// SetsockoptBytes wraps setsockopt(2) with the option's raw bytes, for
// options that take a struct (ip_mreq, a BPF program, ICMP_FILTER, ...), as
// Python's setsockopt(level, opt, bytes).
func (c *Conn) SetsockoptBytes(level, opt int, b []byte) error {
	return c.setsockoptBytes(level, opt, b)
}

// GetsockoptBytes wraps getsockopt(2): the option's value is written into
// b and its length returned, as Python's getsockopt(level, opt, buflen).
func (c *Conn) GetsockoptBytes(level, opt int, b []byte) (int, error) {
	return c.getsockoptBytes(level, opt, b)
}

// SetsockoptLinger wraps setsockopt(SOL_SOCKET, SO_LINGER): on a linger of
// 0, Close resets the connection (RST) instead of the orderly FIN.
func (c *Conn) SetsockoptLinger(onoff bool, seconds int) error {
	l := unix.Linger{Linger: int32(seconds)}
	if onoff {
		l.Onoff = 1
	}
	return c.setsockoptLinger(&l)
}

// SetsockoptTimeval wraps setsockopt(2) for a struct timeval option, such
// as SO_RCVTIMEO. Those kernel timeouts do not apply to this package's
// calls, which never block in the kernel; SetTimeout is the one to use.
func (c *Conn) SetsockoptTimeval(level, opt int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return c.setsockoptTimeval(level, opt, &tv)
}
