// Package socktest holds the helpers the module's tests share: loopback
// pairs on port 0, the CAP_NET_RAW probe, the fd counter of the leak
// checks, a buffer for output shared between goroutines, and a copy of the
// test binary run as nobody.
package socktest

import (
	"errors"
	"os"
	"testing"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// MustSocket opens a socket or fails the test.
func MustSocket(t testing.TB, family, typ, proto int) *rawsock.Conn {
	t.Helper()
	c, err := rawsock.Socket(family, typ, proto)
	if family == rawsock.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
		t.Skipf("no IPv6 in this kernel: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Loopback returns the loopback address of family on port 0.
func Loopback(t testing.TB, family int) unix.Sockaddr {
	t.Helper()
	var sa unix.Sockaddr
	var err error
	if family == rawsock.AF_INET6 {
		sa, err = rawsock.Inet6Addr("::1", 0)
	} else {
		sa, err = rawsock.InetAddr("127.0.0.1", 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// Listener opens a SOCK_STREAM listener on loopback port 0 and returns it
// with its address.
func Listener(t testing.TB, family int) (*rawsock.Conn, unix.Sockaddr) {
	t.Helper()
	if family == rawsock.AF_INET6 {
		SkipIfNoIPv6(t)
	}
	l := MustSocket(t, family, rawsock.SOCK_STREAM, 0)
	if err := l.Bind(Loopback(t, family)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(128); err != nil {
		t.Fatal(err)
	}
	sa, err := l.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	return l, sa
}

// TCPPair returns the two ends of a loopback TCP connection: the accepted
// one first.
func TCPPair(t testing.TB, family int) (server, client *rawsock.Conn) {
	t.Helper()
	l, sa := Listener(t, family)
	client = MustSocket(t, family, rawsock.SOCK_STREAM, 0)
	return connectPair(t, l, sa, client)
}

// SmallTCPPair is TCPPair with the smallest buffers the kernel allows: the
// listener's SO_RCVBUF (which the accepted socket inherits, and which sets
// the window scale) and the client's SO_SNDBUF. A full send buffer then
// stays full, where the peer of an ordinary pair reopens its window some
// tens of milliseconds later.
func SmallTCPPair(t testing.TB, family int) (server, client *rawsock.Conn) {
	t.Helper()
	l := MustSocket(t, family, rawsock.SOCK_STREAM, 0)
	if err := l.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_RCVBUF, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Bind(Loopback(t, family)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	sa, err := l.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	client = MustSocket(t, family, rawsock.SOCK_STREAM, 0)
	if err := client.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_SNDBUF, 1); err != nil {
		t.Fatal(err)
	}
	return connectPair(t, l, sa, client)
}

func connectPair(t testing.TB, l *rawsock.Conn, sa unix.Sockaddr, client *rawsock.Conn) (server, _ *rawsock.Conn) {
	t.Helper()
	if err := client.Connect(sa); err != nil {
		t.Fatal(err)
	}
	server, _, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

// UDPPair returns two UDP sockets bound on loopback and connected to each
// other.
func UDPPair(t testing.TB, family int) (a, b *rawsock.Conn) {
	t.Helper()
	a = BoundUDP(t, family)
	b = BoundUDP(t, family)
	sa, _ := a.Getsockname()
	sb, _ := b.Getsockname()
	if err := a.Connect(sb); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(sa); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// BoundUDP returns a UDP socket bound on loopback port 0.
func BoundUDP(t testing.TB, family int) *rawsock.Conn {
	t.Helper()
	if family == rawsock.AF_INET6 {
		SkipIfNoIPv6(t)
	}
	c := MustSocket(t, family, rawsock.SOCK_DGRAM, 0)
	if err := c.Bind(Loopback(t, family)); err != nil {
		t.Fatal(err)
	}
	return c
}

// Pair returns a socketpair of the given type.
func Pair(t testing.TB, typ int) (a, b *rawsock.Conn) {
	t.Helper()
	a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// RawErr is nil when this process may open raw sockets, or the error that
// says why not.
func RawErr() error {
	c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP)
	if err != nil {
		return err
	}
	return c.Close()
}

// NeedRaw skips the test, with the reason, unless a raw socket opens: the
// capability is probed, not guessed from the uid.
func NeedRaw(t testing.TB) {
	t.Helper()
	if err := RawErr(); err != nil {
		t.Skipf("needs CAP_NET_RAW (run as root, or setcap cap_net_raw+ep on the test binary): raw socket refused: %v", err)
	}
}

// IPv6Err is nil when the host has an IPv6 loopback, or the error that
// says why not (no IPv6 in the kernel, or none on lo).
func IPv6Err() error {
	c, err := rawsock.Socket(rawsock.AF_INET6, rawsock.SOCK_DGRAM, 0)
	if err == nil {
		err = c.Bind(&unix.SockaddrInet6{Addr: [16]byte{15: 1}})
		c.Close()
	}
	return err
}

// SkipIfNoIPv6 skips when the host has no IPv6 loopback.
func SkipIfNoIPv6(t testing.TB) {
	t.Helper()
	if err := IPv6Err(); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
}

// FDCount counts this process's open fds in /proc/self/fd.
func FDCount(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			t.Skip("no /proc/self/fd on this system to count fds in")
		}
		t.Fatal(err)
	}
	return len(ents) - 1 // the directory's own fd
}
