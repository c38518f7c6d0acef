package rawsock_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// stalledListener returns the address of a listener whose accept queue is
// full, so that the next connect to it waits: TCP drops the SYN (the client
// retransmits), AF_UNIX refuses with EAGAIN.
func stalledListener(t *testing.T, family int) unix.Sockaddr {
	t.Helper()
	l := socktest.MustSocket(t, family, rawsock.SOCK_STREAM, 0)
	var sa unix.Sockaddr = rawsock.UnixAddr(filepath.Join(t.TempDir(), "full"))
	if family != rawsock.AF_UNIX {
		sa = socktest.Loopback(t, family)
	}
	if err := l.Bind(sa); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(0); err != nil { // room for one connection
		t.Fatal(err)
	}
	la, _ := l.Getsockname()
	first := socktest.MustSocket(t, family, rawsock.SOCK_STREAM, 0)
	first.SetTimeout(slack)
	if err := first.Connect(la); err != nil {
		t.Fatal(err)
	}
	return la
}

// udpReceiver is a bound, connected UDP socket that nothing is sent to.
func udpReceiver(t *testing.T) *rawsock.Conn {
	_, b := socktest.UDPPair(t, rawsock.AF_INET)
	return b
}

// fullUnixSender is an AF_UNIX stream socket whose send buffer is full,
// its peer never reading.
func fullUnixSender(t *testing.T) *rawsock.Conn {
	_, c := socktest.Pair(t, rawsock.SOCK_STREAM)
	fillSendBuffer(t, c)
	return c
}

// blockingCall is one call that blocks until its peer acts. setup makes
// the socket (and its peer, which never acts) and returns the Conn and the
// call.
type blockingCall struct {
	name  string // the syscall its errors name
	setup func(t *testing.T) (*rawsock.Conn, func() error)
}

func blockingCalls() []blockingCall {
	recvSide, fullSender := udpReceiver, fullUnixSender
	buf := func() []byte { return make([]byte, 64) }
	return []blockingCall{
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := recvSide(t)
			return c, func() error { _, err := c.Recv(buf(), 0); return err }
		}},
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := recvSide(t)
			return c, func() error { _, _, err := c.Recvfrom(buf(), 0); return err }
		}},
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := recvSide(t)
			return c, func() error { _, _, err := c.RecvfromInet(buf(), 0); return err }
		}},
		{"recvmsg", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := recvSide(t)
			return c, func() error { _, _, _, _, err := c.Recvmsg(buf(), buf(), 0); return err }
		}},
		{"recvmmsg", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := recvSide(t)
			return c, func() error {
				_, err := c.Recvmmsg([]rawsock.Message{{Buf: buf()}, {Buf: buf()}}, 0)
				return err
			}
		}},
		{"accept4", func(t *testing.T) (*rawsock.Conn, func() error) {
			l, _ := socktest.Listener(t, rawsock.AF_INET)
			return l, func() error { _, _, err := l.Accept(); return err }
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := fullSender(t)
			return c, func() error { _, err := c.Send(buf(), 0); return err }
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := fullSender(t)
			return c, func() error { return c.Sendall(make([]byte, 1<<20), 0) }
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, func() error) {
			_, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
			fillSendBuffer(t, c)
			to, _ := c.Getpeername()
			ap, _ := rawsock.AddrPortFromSockaddr(to)
			return c, func() error { _, err := c.SendtoInet(buf(), 0, ap); return err }
		}},
		{"sendmsg", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := fullSender(t)
			return c, func() error { _, err := c.Sendmsg(buf(), nil, nil, 0); return err }
		}},
		{"sendmmsg", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := fullSender(t)
			return c, func() error { _, err := c.Sendmmsg([]rawsock.Message{{Buf: buf()}}, 0); return err }
		}},
		{"sendfile", func(t *testing.T) (*rawsock.Conn, func() error) {
			c := fullSender(t)
			path := filepath.Join(t.TempDir(), "f")
			os.WriteFile(path, make([]byte, 1<<20), 0o644)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return c, func() error { _, err := c.Sendfile(f, 0, 0); return err }
		}},
		{"connect", func(t *testing.T) (*rawsock.Conn, func() error) {
			sa := stalledListener(t, rawsock.AF_INET)
			c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			return c, func() error { return c.Connect(sa) }
		}},
		{"connect", func(t *testing.T) (*rawsock.Conn, func() error) {
			sa := stalledListener(t, rawsock.AF_UNIX)
			c := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			return c, func() error { return c.Connect(sa) }
		}},
	}
}

func callName(i int, bc blockingCall) string { return strconv.Itoa(i) + "-" + bc.name }

// syscallIs checks that err is an *os.SyscallError for name matching target.
func syscallIs(t *testing.T, err error, name string, target error) {
	t.Helper()
	var se *os.SyscallError
	if !errors.Is(err, target) || !errors.As(err, &se) || se.Syscall != name {
		t.Errorf("error %v, want %s: %v", err, name, target)
	}
}

// TestTimeoutPerCall: with SetTimeout(d), each call fails after d with
// os.ErrDeadlineExceeded, and the next call waits its own full d.
func TestTimeoutPerCall(t *testing.T) {
	const d = 50 * time.Millisecond
	for i, bc := range blockingCalls() {
		t.Run(callName(i, bc), func(t *testing.T) {
			t.Parallel()
			c, call := bc.setup(t)
			if err := c.SetTimeout(d); err != nil {
				t.Fatal(err)
			}
			if c.GetTimeout() != d || !c.GetBlocking() {
				t.Errorf("GetTimeout %v, GetBlocking %v", c.GetTimeout(), c.GetBlocking())
			}
			for n := 0; n < 2; n++ {
				start := time.Now()
				err := call()
				within(t, "call with a timeout", start, d)
				syscallIs(t, err, bc.name, os.ErrDeadlineExceeded)
			}
		})
	}
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	if err := c.SetTimeout(-time.Second); !errors.Is(err, unix.EINVAL) {
		t.Errorf("SetTimeout(-1s): %v", err)
	}
}

// TestNonblocking: after SetBlocking(false) each call that would block
// returns at once with EAGAIN (EINPROGRESS for a TCP connect).
func TestNonblocking(t *testing.T) {
	for i, bc := range blockingCalls() {
		t.Run(callName(i, bc), func(t *testing.T) {
			t.Parallel()
			c, call := bc.setup(t)
			c.SetTimeout(time.Minute)
			if err := c.SetBlocking(false); err != nil {
				t.Fatal(err)
			}
			if c.GetBlocking() || c.GetTimeout() != 0 {
				t.Errorf("after SetBlocking(false): GetBlocking %v, GetTimeout %v", c.GetBlocking(), c.GetTimeout())
			}
			want := unix.EAGAIN
			if bc.name == "connect" && c.Family() == rawsock.AF_INET {
				want = unix.EINPROGRESS
			}
			start := time.Now()
			err := call()
			within(t, "non-blocking call", start, 0)
			syscallIs(t, err, bc.name, want)
			c.SetBlocking(true)
			if !c.GetBlocking() || c.GetTimeout() != 0 {
				t.Errorf("after SetBlocking(true): GetBlocking %v, GetTimeout %v", c.GetBlocking(), c.GetTimeout())
			}
		})
	}
}

// TestCloseWakesBlocked: Close from another goroutine wakes every call
// blocked on the socket, three goroutines per call, each with
// net.ErrClosed.
func TestCloseWakesBlocked(t *testing.T) {
	type blocked struct {
		name string
		err  chan error
	}
	var all []blocked
	var conns []*rawsock.Conn
	for i, bc := range blockingCalls() {
		c, call := bc.setup(t)
		conns = append(conns, c)
		for g := 0; g < 3; g++ {
			b := blocked{callName(i, bc), make(chan error, 1)}
			all = append(all, b)
			go func() { b.err <- call() }()
		}
	}
	time.Sleep(100 * time.Millisecond) // let them park; a late one fails the same way
	for _, b := range all {
		select {
		case err := <-b.err:
			t.Fatalf("%s returned before Close: %v", b.name, err)
		default:
		}
	}
	go func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	timeout := time.After(slack)
	for _, b := range all {
		select {
		case err := <-b.err:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s woken with %v, want net.ErrClosed", b.name, err)
			}
		case <-timeout:
			t.Fatalf("%s still blocked %v after Close", b.name, slack)
		}
	}
}

// TestDeadlines: SetReadDeadline and SetWriteDeadline bound calls already
// blocked and later ones; zero clears them; with SetTimeout the earlier of
// the two wins.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	buf := make([]byte, 8)

	b.SetReadDeadline(time.Now().Add(-time.Second))
	start := time.Now()
	_, err := b.Recv(buf, 0)
	within(t, "Recv past its deadline", start, 0)
	syscallIs(t, err, "recvfrom", os.ErrDeadlineExceeded)

	// A deadline set while the call is blocked ends it.
	b.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	start = time.Now()
	go func() { _, err := b.Recv(buf, 0); done <- err }()
	time.Sleep(20 * time.Millisecond)
	b.SetDeadline(time.Now().Add(30 * time.Millisecond))
	err = <-done
	within(t, "Recv given a deadline while blocked", start, 50*time.Millisecond)
	syscallIs(t, err, "recvfrom", os.ErrDeadlineExceeded)

	// Cleared, the call waits again: data sent later arrives.
	b.SetDeadline(time.Time{})
	go func() { time.Sleep(50 * time.Millisecond); a.Send([]byte("late"), 0) }()
	if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "late" {
		t.Errorf("Recv after clearing the deadline: %q, %v", buf[:n], err)
	}

	// The earlier of timeout and deadline wins, either way round.
	// (start is taken before an absolute deadline is set: the wait is
	// measured from there.)
	b.SetTimeout(time.Minute)
	start = time.Now()
	b.SetReadDeadline(start.Add(50 * time.Millisecond))
	_, err = b.Recv(buf, 0)
	within(t, "deadline before timeout", start, 50*time.Millisecond)
	syscallIs(t, err, "recvfrom", os.ErrDeadlineExceeded)
	b.SetTimeout(50 * time.Millisecond)
	b.SetReadDeadline(time.Now().Add(time.Minute))
	start = time.Now()
	_, err = b.Recv(buf, 0)
	within(t, "timeout before deadline", start, 50*time.Millisecond)
	// The per-call timeout does not eat the user's deadline: with the
	// timeout gone, the deadline alone bounds the call.
	b.SetTimeout(0)
	start = time.Now()
	b.SetReadDeadline(start.Add(80 * time.Millisecond))
	_, err = b.Recv(buf, 0)
	within(t, "deadline after a timed-out call", start, 80*time.Millisecond)
	syscallIs(t, err, "recvfrom", os.ErrDeadlineExceeded)

	// Write side.
	_, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
	fillSendBuffer(t, c)
	start = time.Now()
	c.SetWriteDeadline(start.Add(50 * time.Millisecond))
	_, err = c.Send(buf, 0)
	within(t, "Send with a write deadline", start, 50*time.Millisecond)
	syscallIs(t, err, "sendto", os.ErrDeadlineExceeded)
	// The read side is not affected by the write deadline.
	c.SetTimeout(30 * time.Millisecond)
	start = time.Now()
	_, err = c.Recv(buf, 0)
	within(t, "Recv beside a past write deadline", start, 30*time.Millisecond)
}

// TestFlagsNonblocking: MSG_DONTWAIT makes one call non-blocking on a
// blocking socket, and so does it for MSG_ERRQUEUE (which alone waits for
// an error to arrive); a non-blocking call is one try, which an expired
// deadline does not stop.
func TestFlagsNonblocking(t *testing.T) {
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	a.SetTimeout(time.Minute) // a wait would show as a timeout far later
	buf := make([]byte, 64)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Recv MSG_DONTWAIT", func() error { _, err := a.Recv(buf, unix.MSG_DONTWAIT); return err }},
		{"Recvfrom MSG_DONTWAIT", func() error { _, _, err := a.Recvfrom(buf, unix.MSG_DONTWAIT); return err }},
		{"RecvfromInet MSG_DONTWAIT", func() error { _, _, err := a.RecvfromInet(buf, unix.MSG_DONTWAIT); return err }},
		{"Recvmsg MSG_ERRQUEUE|MSG_DONTWAIT", func() error {
			_, _, _, _, err := a.Recvmsg(buf, make([]byte, 128), unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			return err
		}},
		{"Recvmmsg MSG_DONTWAIT", func() error {
			_, err := a.Recvmmsg([]rawsock.Message{{Buf: buf}}, unix.MSG_DONTWAIT)
			return err
		}},
	} {
		start := time.Now()
		err := tc.call()
		if !errors.Is(err, unix.EAGAIN) {
			t.Errorf("%s on an empty socket: %v, want EAGAIN", tc.name, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s waited %v", tc.name, d)
		}
	}
	// The flag belongs to that one call: the next plain Recv waits again.
	go func() {
		time.Sleep(20 * time.Millisecond)
		b.Send([]byte("late"), 0)
	}()
	if n, err := a.Recv(buf, 0); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("blocking Recv after MSG_DONTWAIT calls: %q, %v", buf[:n], err)
	}

	// An expired deadline fails a blocking call, but not a non-blocking one.
	a.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := a.Recv(buf, 0); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("blocking Recv past its deadline: %v", err)
	}
	b.Send([]byte("here"), 0)
	time.Sleep(10 * time.Millisecond)
	if n, err := a.Recv(buf, unix.MSG_DONTWAIT); err != nil || string(buf[:n]) != "here" {
		t.Fatalf("MSG_DONTWAIT Recv past the deadline, data queued: %q, %v", buf[:n], err)
	}
	a.SetBlocking(false)
	if _, err := a.Recv(buf, 0); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("non-blocking Recv past the deadline, nothing queued: %v, want EAGAIN", err)
	}

	a.SetBlocking(true)
	a.SetReadDeadline(time.Time{})

	// A blocking MSG_ERRQUEUE read waits until an error is queued: the
	// ICMP port unreachable of a datagram to a closed port, with IP_RECVERR.
	if err := a.SetsockoptInt(rawsock.SOL_IP, rawsock.IP_RECVERR, 1); err != nil {
		t.Fatal(err)
	}
	b.Close()
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.Send([]byte("to nobody"), 0)
	}()
	a.SetTimeout(10 * time.Second)
	_, _, flags, _, err := a.Recvmsg(buf, make([]byte, 512), unix.MSG_ERRQUEUE)
	if err != nil || flags&unix.MSG_ERRQUEUE == 0 {
		t.Fatalf("blocking Recvmsg(MSG_ERRQUEUE): flags %#x, %v; want the queued error", flags, err)
	}
}
