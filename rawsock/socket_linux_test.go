package rawsock_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// fdFlags returns the fd's FD_* and O_* flags.
func fdFlags(t *testing.T, fd int) (fdflags, flflags int) {
	t.Helper()
	fdflags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	flflags, err = unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fdflags, flflags
}

// TestSocket: the Conn knows its triple, its fd is a socket, close-on-exec
// and non-blocking whatever flags the caller passed.
func TestSocket(t *testing.T) {
	for _, typ := range []int{rawsock.SOCK_DGRAM, rawsock.SOCK_DGRAM | rawsock.SOCK_CLOEXEC, rawsock.SOCK_DGRAM | rawsock.SOCK_NONBLOCK} {
		c := socktest.MustSocket(t, rawsock.AF_INET, typ, rawsock.IPPROTO_UDP)
		if c.Family() != rawsock.AF_INET || c.Type() != rawsock.SOCK_DGRAM || c.Proto() != rawsock.IPPROTO_UDP {
			t.Errorf("%s: Conn says %d/%d/%d", rawsock.TypeName(typ), c.Family(), c.Type(), c.Proto())
		}
		fdf, flf := fdFlags(t, c.Fileno())
		if fdf&unix.FD_CLOEXEC == 0 || flf&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: fd flags %#x, file flags %#x: want FD_CLOEXEC and O_NONBLOCK", rawsock.TypeName(typ), fdf, flf)
		}
		link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(c.Fileno()))
		if err == nil && !strings.HasPrefix(link, "socket:[") {
			t.Errorf("Fileno %d is %s, not a socket", c.Fileno(), link)
		}
	}
}

// TestErrors: errors are *os.SyscallError naming the call, errors.Is finds
// the errno, and the texts read as issue 2 says.
func TestErrors(t *testing.T) {
	_, la := socktest.Listener(t, rawsock.AF_INET)
	x := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	err := x.Bind(la)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "bind" {
		t.Errorf("bind error %T %v, want *os.SyscallError for bind", err, err)
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("errors.Is(%v, EADDRINUSE) is false", err)
	}
	if err == nil || err.Error() != "bind: address already in use" {
		t.Errorf("bind error reads %q", err)
	}

	cases := []struct {
		family, typ, proto int
		errno              unix.Errno
		text               string // exact, or a prefix when hint is set
		hint               string // the words of the remedy
	}{
		{unix.AF_INET, unix.SOCK_SEQPACKET, 0, unix.ESOCKTNOSUPPORT, "socket(AF_INET, SOCK_SEQPACKET, 0): socket type not supported", ""},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP, unix.EPROTONOSUPPORT, "socket(AF_INET, SOCK_STREAM, IPPROTO_UDP): protocol not supported", ""},
		{unix.AF_UNIX, unix.SOCK_STREAM, 6, unix.EPROTONOSUPPORT, "socket(AF_UNIX, SOCK_STREAM, 6): protocol not supported", ""},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP, unix.EPROTONOSUPPORT, "socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): protocol not supported (", "SCTP"},
		{unix.AF_INET, unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP, unix.ESOCKTNOSUPPORT, "socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP): socket type not supported (", "SCTP"},
		{unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_SCTP, unix.EPROTONOSUPPORT, "socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP): protocol not supported (", "SCTP"},
		{unix.AF_INET, unix.SOCK_RDM, 0, unix.ESOCKTNOSUPPORT, "socket(AF_INET, SOCK_RDM, 0): socket type not supported (", "SOCK_RDM"},
		{unix.AF_UNIX, unix.SOCK_RDM, 0, unix.ESOCKTNOSUPPORT, "socket(AF_UNIX, SOCK_RDM, 0): socket type not supported (", "SOCK_RDM"},
	}
	for _, tc := range cases {
		c, err := rawsock.Socket(tc.family, tc.typ, tc.proto)
		if tc.family == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
			continue // no IPv6 in this kernel
		}
		if err == nil {
			c.Close()
			if tc.hint == "SCTP" {
				t.Logf("this kernel has SCTP: %s opened", tc.text)
				continue
			}
			t.Errorf("%s: opened", tc.text)
			continue
		}
		if !errors.Is(err, tc.errno) || !errors.As(err, &se) {
			t.Errorf("%v: want %s in an *os.SyscallError", err, unix.ErrnoName(tc.errno))
		}
		switch msg := err.Error(); {
		case tc.hint == "" && msg != tc.text:
			t.Errorf("error reads %q, want %q", msg, tc.text)
		case tc.hint != "" && (!strings.HasPrefix(msg, tc.text) || !strings.Contains(msg[len(tc.text):], tc.hint)):
			t.Errorf("error reads %q, want %q followed by a hint about %s", msg, tc.text, tc.hint)
		default:
			t.Log(msg)
		}
	}

	_, _, err = rawsock.Socketpair(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err == nil || err.Error() != "socketpair(AF_INET, SOCK_STREAM, 0): operation not supported" || !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("socketpair(AF_INET): %v", err)
	}
	u := socktest.BoundUDP(t, rawsock.AF_INET)
	if err := u.Listen(1); err == nil || err.Error() != "listen: operation not supported" {
		t.Errorf("listen on UDP: %v", err)
	}
	if _, _, err := x.Accept(); err == nil || err.Error() != "accept4: invalid argument" {
		t.Errorf("accept on a socket that is not listening: %v", err)
	}
	if err := x.Bind(nil); !errors.Is(err, unix.EINVAL) || !strings.HasPrefix(err.Error(), "bind: ") {
		t.Errorf("Bind(nil): %v", err)
	}
	if err := x.Connect((*unix.SockaddrInet4)(nil)); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Connect of a typed nil: %v", err)
	}
}

// TestSocketpair: each type carries data both ways.
func TestSocketpair(t *testing.T) {
	for _, typ := range []int{rawsock.SOCK_STREAM, rawsock.SOCK_DGRAM, rawsock.SOCK_SEQPACKET} {
		a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, typ, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range [][2]*rawsock.Conn{{a, b}, {b, a}} {
			if _, err := p[0].Send([]byte("hi"), 0); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if n, err := p[1].Recv(buf, 0); err != nil || string(buf[:n]) != "hi" {
				t.Errorf("%s: %q, %v", rawsock.TypeName(typ), buf[:n], err)
			}
		}
		if a.Type() != typ || b.Family() != rawsock.AF_UNIX {
			t.Errorf("pair says %d/%d", b.Family(), a.Type())
		}
		a.Close()
		b.Close()
	}
}

// TestFromFD: FromFD duplicates; the caller's fd stays open and usable
// after the Conn is closed, and the triple is read from the socket.
func TestFromFD(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	c, err := rawsock.FromFD(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Fileno() == fds[0] {
		t.Errorf("FromFD kept fd %d: it must duplicate", fds[0])
	}
	if c.Family() != rawsock.AF_UNIX || c.Type() != rawsock.SOCK_SEQPACKET || c.Proto() != 0 {
		t.Errorf("FromFD read %d/%d/%d", c.Family(), c.Type(), c.Proto())
	}
	if fdf, _ := fdFlags(t, c.Fileno()); fdf&unix.FD_CLOEXEC == 0 {
		t.Error("FromFD's copy is not close-on-exec")
	}
	if _, err := c.Send([]byte("via conn"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 20)
	if n, err := unix.Read(fds[1], buf); err != nil || string(buf[:n]) != "via conn" {
		t.Errorf("peer read %q, %v", buf[:max(n, 0)], err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds[0], []byte("still mine")); err != nil {
		t.Fatalf("caller's fd after the Conn's Close: %v", err)
	}
	if n, err := unix.Read(fds[1], buf); err != nil || string(buf[:n]) != "still mine" {
		t.Errorf("peer read %q, %v", buf[:max(n, 0)], err)
	}

	// A listener from the standard library, adopted.
	nl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	f, err := nl.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := rawsock.FromFD(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Go's listeners use MPTCP where the kernel has it.
	if l.Proto() != unix.IPPROTO_TCP && l.Proto() != unix.IPPROTO_MPTCP {
		t.Errorf("adopted listener's protocol %d", l.Proto())
	}
	go func() {
		if c, err := net.Dial("tcp4", nl.Addr().String()); err == nil {
			c.Close()
		}
	}()
	l.SetTimeout(5 * time.Second)
	if s, _, err := l.Accept(); err != nil {
		t.Errorf("Accept on the adopted listener: %v", err)
	} else {
		s.Close()
	}

	// Refusals.
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if _, err := rawsock.FromFD(int(r.Fd())); !errors.Is(err, unix.ENOTSOCK) {
		t.Errorf("FromFD(pipe): %v, want ENOTSOCK", err)
	}
	if _, err := rawsock.FromFD(-1); !errors.Is(err, unix.EBADF) {
		t.Errorf("FromFD(-1): %v, want EBADF", err)
	}
}

// TestDup: two Conns on one socket; closing one leaves the other working.
func TestDup(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	d, err := a.Dup()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Fileno() == a.Fileno() || d.Type() != a.Type() || d.Family() != a.Family() {
		t.Errorf("Dup: fd %d (original %d), %d/%d", d.Fileno(), a.Fileno(), d.Family(), d.Type())
	}
	a.Close()
	if _, err := d.Send([]byte("dup"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "dup" {
		t.Errorf("%q, %v", buf[:n], err)
	}
	if _, err := a.Dup(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dup of a closed Conn: %v", err)
	}
}

// TestDetach: an fd for the same socket comes back, open (a copy of the
// Conn's, which Detach closes); a blocked call is woken; the Conn is
// unusable afterwards.
func TestDetach(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	done := make(chan error, 1)
	go func() {
		_, err := a.Recv(make([]byte, 1), 0)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the Recv park (it fails the same way if not)
	got, err := a.Detach()
	if err != nil || got < 0 {
		t.Fatalf("Detach: %d, %v", got, err)
	}
	defer unix.Close(got)
	if fdfl, fl := fdFlags(t, got); fdfl&unix.FD_CLOEXEC == 0 || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("detached fd: fd flags %#x, status flags %#x; want FD_CLOEXEC and O_NONBLOCK", fdfl, fl)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Recv woken by Detach with %v, want net.ErrClosed", err)
		}
	case <-time.After(slack):
		t.Fatal("Detach did not wake the blocked Recv")
	}
	if _, err := unix.Write(got, []byte("detached")); err != nil {
		t.Fatalf("write on the detached fd: %v", err)
	}
	buf := make([]byte, 16)
	if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "detached" {
		t.Errorf("peer got %q, %v", buf[:n], err)
	}
	if _, err := a.Send([]byte("x"), 0); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Detach: %v, want net.ErrClosed", err)
	}
	if _, err := a.Detach(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Detach: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close after Detach: %v", err)
	}
	// Close did not close the caller's fd.
	if _, _, err := unix.Syscall(unix.SYS_FCNTL, uintptr(got), unix.F_GETFD, 0); err != 0 {
		t.Errorf("fd %d closed behind the caller: %v", got, err)
	}
	// It can be wrapped again.
	c, err := rawsock.FromFD(got)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Send([]byte("again"), 0)
	if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "again" {
		t.Errorf("peer got %q, %v", buf[:n], err)
	}
}

// TestClosed: Close twice is fine, and every call on a closed Conn fails
// with net.ErrClosed, naming itself.
func TestClosed(t *testing.T) {
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	sa := socktest.Loopback(t, rawsock.AF_INET)
	ap := netip.MustParseAddrPort("127.0.0.1:9")
	b := make([]byte, 8)
	ctx := context.Background()
	msgs := []rawsock.Message{{Buf: b}}
	calls := map[string]func() error{
		"bind":        func() error { return c.Bind(sa) },
		"listen":      func() error { return c.Listen(1) },
		"accept4":     func() error { _, _, err := c.Accept(); return err },
		"connect":     func() error { return c.Connect(sa) },
		"recvfrom":    func() error { _, err := c.Recv(b, 0); return err },
		"recvfrom ":   func() error { _, _, err := c.RecvfromInet(b, 0); return err },
		"recvfrom  ":  func() error { _, err := c.RecvContext(ctx, b, 0); return err },
		"recvmsg":     func() error { _, _, _, _, err := c.Recvmsg(b, nil, 0); return err },
		"recvmmsg":    func() error { _, err := c.Recvmmsg(msgs, 0); return err },
		"sendto":      func() error { _, err := c.Send(b, 0); return err },
		"sendto ":     func() error { return c.Sendall(b, 0) },
		"sendto  ":    func() error { _, err := c.SendtoInet(b, 0, ap); return err },
		"sendmsg":     func() error { _, err := c.Sendmsg(b, nil, sa, 0); return err },
		"sendmmsg":    func() error { _, err := c.Sendmmsg(msgs, 0); return err },
		"sendfile":    func() error { _, err := c.Sendfile(os.Stdin, 0, 1); return err },
		"shutdown":    func() error { return c.Shutdown(rawsock.SHUT_RDWR) },
		"getsockname": func() error { _, err := c.Getsockname(); return err },
		"getpeername": func() error { _, err := c.Getpeername(); return err },
		"setsockopt":  func() error { return c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1) },
		"getsockopt":  func() error { _, err := c.GetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_TYPE); return err },
		"fcntl":       func() error { _, err := c.Dup(); return err },
		"detach":      func() error { _, err := c.Detach(); return err },
		"setdeadline": func() error { return c.SetDeadline(time.Now()) },
	}
	for name, call := range calls {
		err := call()
		var se *os.SyscallError
		if !errors.Is(err, net.ErrClosed) || !errors.As(err, &se) || se.Syscall != strings.TrimSpace(name) {
			t.Errorf("%s on a closed Conn: %v, want %s: %v", name, err, strings.TrimSpace(name), net.ErrClosed)
		}
	}
}
