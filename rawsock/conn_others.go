//go:build !linux

package rawsock

import (
	"context"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// op carries no state where no call is implemented.
type op struct{}

// EpollEvent mirrors epoll(7)'s struct epoll_event where epoll does not
// exist, so that code using Epoll builds.
type EpollEvent struct {
	Events uint32
	Fd     int32
	Pad    int32
}

func socket(family, typ, proto int) (*Conn, error) { return nil, errNotImplemented }
func socketpair(family, typ, proto int) (*Conn, *Conn, error) {
	return nil, nil, errNotImplemented
}
func fromFD(fd int) (*Conn, error)                  { return nil, errNotImplemented }
func (c *Conn) dup() (*Conn, error)                 { return nil, errNotImplemented }
func (c *Conn) detach() (int, error)                { return -1, errNotImplemented }
func (c *Conn) bind(sa unix.Sockaddr) error         { return errNotImplemented }
func (c *Conn) listen(backlog int) error            { return errNotImplemented }
func (c *Conn) shutdown(how int) error              { return errNotImplemented }
func (c *Conn) getsockname() (unix.Sockaddr, error) { return nil, errNotImplemented }
func (c *Conn) getpeername() (unix.Sockaddr, error) { return nil, errNotImplemented }
func (c *Conn) close() error                        { return errNotImplemented }
func (c *Conn) accept(context.Context) (*Conn, unix.Sockaddr, error) {
	return nil, nil, errNotImplemented
}
func (c *Conn) connect(unix.Sockaddr, context.Context) error { return errNotImplemented }
func (c *Conn) recvfrom([]byte, int, context.Context, bool) (int, unix.Sockaddr, error) {
	return 0, nil, errNotImplemented
}
func (c *Conn) recvfromInet([]byte, int, context.Context) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, errNotImplemented
}
func (c *Conn) recvmsg([]byte, []byte, int, context.Context) (int, int, int, unix.Sockaddr, error) {
	return 0, 0, 0, nil, errNotImplemented
}
func (c *Conn) sendto([]byte, int, unix.Sockaddr, context.Context) (int, error) {
	return 0, errNotImplemented
}
func (c *Conn) sendtoInet([]byte, int, netip.AddrPort, context.Context) (int, error) {
	return 0, errNotImplemented
}
func (c *Conn) sendall([]byte, int, context.Context) (int, error) { return 0, errNotImplemented }
func (c *Conn) sendmsg([]byte, []byte, unix.Sockaddr, int, context.Context) (int, error) {
	return 0, errNotImplemented
}
func (c *Conn) sendfile(*os.File, int64, int) (int, error)               { return 0, errNotImplemented }
func (c *Conn) recvmmsg([]Message, int, context.Context) (int, error)    { return 0, errNotImplemented }
func (c *Conn) sendmmsg([]Message, int, context.Context) (int, error)    { return 0, errNotImplemented }
func (c *Conn) setsockoptInt(level, opt, v int) error                    { return errNotImplemented }
func (c *Conn) getsockoptInt(level, opt int) (int, error)                { return 0, errNotImplemented }
func (c *Conn) setsockoptBytes(level, opt int, b []byte) error           { return errNotImplemented }
func (c *Conn) getsockoptBytes(level, opt int, b []byte) (int, error)    { return 0, errNotImplemented }
func (c *Conn) setsockoptLinger(*unix.Linger) error                      { return errNotImplemented }
func (c *Conn) setsockoptTimeval(level, opt int, tv *unix.Timeval) error { return errNotImplemented }

func selectFds(r, w, x []int, timeout time.Duration) (rr, wr, xr []int, err error) {
	return nil, nil, nil, errNotImplemented
}
func poll(fds []PollFd, timeout time.Duration) (int, error)      { return 0, errNotImplemented }
func epollCreate1(flags int) (*Epoll, error)                     { return nil, errNotImplemented }
func (e *Epoll) ctl(op, fd int, ev *EpollEvent) error            { return errNotImplemented }
func (e *Epoll) wait(events []EpollEvent, msec int) (int, error) { return 0, errNotImplemented }
func (e *Epoll) close() error                                    { return errNotImplemented }

func sockaddrStringOS(sa unix.Sockaddr) string { return "?" }

func (c *Conn) rawWait(string, bool, func(uintptr) bool) error { return errNotImplemented }
