package rawsock

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is one socket: the fd socket(2) returned, registered with the Go
// runtime poller. Its methods are named after the syscall each makes.
//
// A Conn is safe for concurrent use: calls that read (Accept, Recv*) are
// serialized among themselves, as are calls that write (Connect, Send*), and
// a read may run beside a write.
type Conn struct {
	fd     int
	family int
	sotype int
	proto  int

	file *os.File        // owns fd for the runtime poller
	rc   syscall.RawConn // file's, fetched once

	state atomic.Int32 // stateOpen, stateClosed, stateDetached

	// timeout is Python's: 0 blocks without limit, >0 limits each call,
	// modeNonblock fails at once with EAGAIN.
	timeout atomic.Int64

	// dlmu guards the deadlines of each side. The file's deadline is
	// always their combination, set in one place (apply), so that a
	// user's deadline, a per-call timeout and a context's cancellation
	// never undo each other.
	dlmu   sync.Mutex
	rd, wd deadlines

	rmu, wmu sync.Mutex
	rop, wop op // the read and write call in flight, under rmu and wmu

	rgate, wgate atomic.Int32 // the fast path's, per side (fast_linux.go)
}

const (
	stateOpen int32 = iota
	stateClosed
	stateDetached
)

const modeNonblock = -1

// Socket wraps socket(2). The fd is opened with SOCK_CLOEXEC|SOCK_NONBLOCK
// whatever typ says, and registered with the runtime poller. A refusal names
// the triple in words: "socket(AF_INET, SOCK_SEQPACKET, 0): socket type not
// supported".
func Socket(family, typ, proto int) (*Conn, error) { return socket(family, typ, proto) }

// Socketpair wraps socketpair(2): two connected sockets, as Python's
// socket.socketpair() returns.
func Socketpair(family, typ, proto int) (*Conn, *Conn, error) {
	return socketpair(family, typ, proto)
}

// FromFD duplicates fd (fcntl F_DUPFD_CLOEXEC) and returns a Conn for the
// copy, as Python's socket.fromfd does: the caller's fd stays the caller's
// to close. The family, type and protocol are read from the socket itself.
// The copy shares the open file description, so the caller's fd becomes
// non-blocking too: the runtime poller needs O_NONBLOCK.
func FromFD(fd int) (*Conn, error) { return fromFD(fd) }

// Fileno returns the socket's fd, as Python's fileno() does, or -1 after
// Close or Detach, when the number is no longer this socket's. The fd
// remains owned by the Conn.
func (c *Conn) Fileno() int {
	if c.state.Load() != stateOpen {
		return -1
	}
	return c.fd
}

// Family returns the address family the socket was opened with.
func (c *Conn) Family() int { return c.family }

// Type returns the socket type (SOCK_STREAM, ...), without flags.
func (c *Conn) Type() int { return c.sotype }

// Proto returns the protocol the socket was opened with.
func (c *Conn) Proto() int { return c.proto }

// Dup wraps fcntl(F_DUPFD_CLOEXEC): a second Conn for the same socket,
// with the same timeout or non-blocking mode, as Python's dup(). Deadlines
// are the Conn's own and are not copied.
func (c *Conn) Dup() (*Conn, error) { return c.dup() }

// Bind wraps bind(2).
func (c *Conn) Bind(sa unix.Sockaddr) error { return c.bind(sa) }

// Listen wraps listen(2).
func (c *Conn) Listen(backlog int) error { return c.listen(backlog) }

// Accept wraps accept4(2) with SOCK_CLOEXEC|SOCK_NONBLOCK. It returns the
// new connection and the peer's address.
func (c *Conn) Accept() (*Conn, unix.Sockaddr, error) { return c.accept(nil) }

// Connect wraps connect(2). On a blocking socket it waits for the
// connection to complete, as connect(2) does on a blocking fd: the trace
// shows the non-blocking connect, the wait, and the getsockopt(SO_ERROR)
// that reads the outcome. After SetBlocking(false) it returns at once with
// EINPROGRESS, as in C.
func (c *Conn) Connect(sa unix.Sockaddr) error { return c.connect(sa, nil) }

// Recv wraps recvfrom(2) without an address, as Python's recv(n, flags) and
// recv_into do: it reads into b and returns the count. At the peer's orderly
// shutdown of a stream it returns (0, nil), as recv(2) does.
//
// MSG_WAITALL on a stream makes a blocking call (this and the other
// receive calls) wait until b is full, as on a blocking fd, making as many
// syscalls as it takes: it returns less at the end of the stream, or when
// the timeout, deadline, context or Close ends the wait after data came
// (then without the error, which the next call meets). A socket error
// after data comes with the data. Non-blocking, it returns what is queued.
func (c *Conn) Recv(b []byte, flags int) (int, error) {
	n, _, err := c.recvfrom(b, flags, nil, false)
	return n, err
}

// Recvfrom wraps recvfrom(2) and returns the sender's address. The address
// is decoded here, without the getsockopt(SO_PROTOCOL) x/sys/unix makes.
func (c *Conn) Recvfrom(b []byte, flags int) (int, unix.Sockaddr, error) {
	n, sa, err := c.recvfrom(b, flags, nil, true)
	return n, sa, err
}

// RecvfromInet wraps recvfrom(2) for AF_INET and AF_INET6 sockets and
// returns the sender as a netip.AddrPort. It allocates nothing.
func (c *Conn) RecvfromInet(b []byte, flags int) (int, netip.AddrPort, error) {
	return c.recvfromInet(b, flags, nil)
}

// Recvmsg wraps recvmsg(2): data into p, ancillary data into oob. It
// returns the byte counts, the flags the kernel set (MSG_TRUNC, MSG_CTRUNC,
// ...) and the sender. MSG_CMSG_CLOEXEC is always added, so that fds
// received with SCM_RIGHTS are close-on-exec like every fd this package
// opens.
func (c *Conn) Recvmsg(p, oob []byte, flags int) (n, oobn, recvflags int, from unix.Sockaddr, err error) {
	return c.recvmsg(p, oob, flags, nil)
}

// Send wraps sendto(2) without an address, as Python's send(b, flags). It
// may send less than len(b) on a stream; Sendall does not.
func (c *Conn) Send(b []byte, flags int) (int, error) { return c.sendto(b, flags, nil, nil) }

// Sendall calls sendto(2) until all of b is sent, as Python's sendall. With
// a timeout set, the timeout bounds the whole call, as in Python 3.5 on.
// As in Python, a failure does not say how much went; Write does.
func (c *Conn) Sendall(b []byte, flags int) error {
	_, err := c.sendall(b, flags, nil)
	return err
}

// Sendto wraps sendto(2) with a destination address and returns the count
// sent, as sendto(2) and Python's sendto do: on a stream it may be less
// than len(b).
func (c *Conn) Sendto(b []byte, flags int, to unix.Sockaddr) (int, error) {
	if to == nil {
		return 0, wrapErr(nameSendto, unix.EDESTADDRREQ)
	}
	return c.sendto(b, flags, to, nil)
}

// SendtoInet wraps sendto(2) to an AF_INET or AF_INET6 address given as a
// netip.AddrPort, and returns the count sent. It allocates nothing. An
// IPv4 address on an AF_INET6 socket is sent to its v4-mapped form.
func (c *Conn) SendtoInet(b []byte, flags int, to netip.AddrPort) (int, error) {
	return c.sendtoInet(b, flags, to, nil)
}

// Sendmsg wraps sendmsg(2): data from p, ancillary data from oob (built
// with UnixRights, Pktinfo4Cmsg, ...), to the address to or, when to is
// nil, to the connected peer.
func (c *Conn) Sendmsg(p, oob []byte, to unix.Sockaddr, flags int) (int, error) {
	return c.sendmsg(p, oob, to, flags, nil)
}

// Sendfile calls sendfile(2) until count bytes of f, from offset, are sent,
// or f ends; count 0 sends to the end of f. It returns the bytes sent and,
// as Python's socket.sendfile does, leaves f's position after them.
func (c *Conn) Sendfile(f *os.File, offset int64, count int) (int, error) {
	return c.sendfile(f, offset, count)
}

// Shutdown wraps shutdown(2); how is SHUT_RD, SHUT_WR or SHUT_RDWR.
func (c *Conn) Shutdown(how int) error { return c.shutdown(how) }

// Getsockname wraps getsockname(2).
func (c *Conn) Getsockname() (unix.Sockaddr, error) { return c.getsockname() }

// Getpeername wraps getpeername(2).
func (c *Conn) Getpeername() (unix.Sockaddr, error) { return c.getpeername() }

// Close wraps close(2). It wakes every call blocked on the socket, each
// returning an error that matches net.ErrClosed, waits until none is still
// using the fd, and closes it once. Closing again does nothing and returns
// nil, as in Python.
func (c *Conn) Close() error {
	if !c.state.CompareAndSwap(stateOpen, stateClosed) {
		return nil
	}
	return c.close()
}

// Detach gives up the socket without closing it, as Python's detach(),
// and returns an fd for it that the caller owns. It wakes any blocked
// call (which returns net.ErrClosed) and waits until no call, blocked or
// not, still uses the Conn's fd; later calls fail with net.ErrClosed.
//
// Unlike Python's, the fd returned is a copy (fcntl F_DUPFD_CLOEXEC) of
// Fileno(), which Detach closes as Close does: the runtime poller lets go
// of the fd only by closing it, and a Detach that kept the old number
// would keep its *os.File and poller state for the life of the process.
// The copy is close-on-exec, non-blocking (the mode belongs to the socket,
// not to the number), and registered with no poller, so os.NewFile and
// FromFD take it. When the copy cannot be made (EMFILE), Detach returns
// the error and the Conn stays open.
func (c *Conn) Detach() (int, error) { return c.detach() }

// SetTimeout sets Python's per-call timeout: every later blocking call may
// wait d from its own start, then fails with an error matching
// os.ErrDeadlineExceeded. d 0 means no timeout (and blocking mode).
func (c *Conn) SetTimeout(d time.Duration) error {
	if d < 0 {
		return wrapErr("settimeout", unix.EINVAL)
	}
	c.timeout.Store(int64(d))
	return nil
}

// GetTimeout returns the per-call timeout, 0 for none (or non-blocking).
func (c *Conn) GetTimeout() time.Duration {
	t := c.timeout.Load()
	if t < 0 {
		return 0
	}
	return time.Duration(t)
}

// SetBlocking(false) makes every call that would block return at once with
// an error matching unix.EAGAIN (or EINPROGRESS for Connect);
// SetBlocking(true) makes calls wait without limit, clearing any timeout,
// as Python's setblocking. The fd itself is always O_NONBLOCK: the mode is
// how this Conn waits, not a flag on the fd.
func (c *Conn) SetBlocking(blocking bool) error {
	if blocking {
		c.timeout.Store(0)
	} else {
		c.timeout.Store(modeNonblock)
	}
	return nil
}

// GetBlocking reports whether calls wait (with or without a timeout).
func (c *Conn) GetBlocking() bool { return c.timeout.Load() != modeNonblock }

// SetDeadline sets both deadlines, as net.Conn's SetDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets an absolute deadline for Accept and the Recv calls,
// including any blocked now. Zero means none. A per-call timeout, when set,
// is applied on top: the earlier of the two wins.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.setDeadline(false, t) }

// SetWriteDeadline sets an absolute deadline for Connect and the Send calls.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.setDeadline(true, t) }

// Read implements io.Reader with recvfrom(2); unlike Recv it returns io.EOF
// at the end of a stream.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Recv(b, 0)
	if n == 0 && err == nil && len(b) > 0 && (c.sotype == sockStream || c.sotype == sockSeqpkt) {
		return 0, io.EOF
	}
	return n, err
}

// Write implements io.Writer: all of b on a stream (Sendall), one datagram
// otherwise.
func (c *Conn) Write(b []byte) (int, error) {
	if c.sotype == sockStream {
		// The count sent before a failure, as io.Writer wants.
		return c.sendall(b, 0, nil)
	}
	return c.Send(b, 0)
}

var _ io.ReadWriteCloser = (*Conn)(nil)

var _ = net.ErrClosed
