//go:build linux

package netns

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// families runs f once for IPv4 and once for IPv6.
func families(t *testing.T, f func(t *testing.T, v4 bool)) {
	for _, v4 := range []bool{true, false} {
		name := "ipv6"
		if v4 {
			name = "ipv4"
		}
		t.Run(name, func(t *testing.T) { f(t, v4) })
	}
}

func pick(v4 bool, a4, a6 netip.Addr) netip.Addr {
	if v4 {
		return a4
	}
	return a6
}

func sockaddr(a netip.Addr, port int) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

func addrOf(sa unix.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr)
	}
	return netip.Addr{}
}

// socketIn opens a socket inside ns, bound to bind:port when bind is valid,
// with a receive timeout, closed at the end of the test.
func socketIn(t *testing.T, ns *Namespace, typ, proto int, bind netip.Addr, port int) int {
	t.Helper()
	fam := unix.AF_INET6
	if bind.Is4() {
		fam = unix.AF_INET
	}
	fd := -1
	err := ns.Do(func() (err error) {
		if fd, err = unix.Socket(fam, typ|unix.SOCK_CLOEXEC, proto); err != nil {
			return os.NewSyscallError("socket", err)
		}
		if typ == unix.SOCK_DGRAM && proto == 0 {
			return os.NewSyscallError("bind", unix.Bind(fd, sockaddr(bind, port)))
		}
		return nil
	})
	if fd >= 0 {
		t.Cleanup(func() { unix.Close(fd) })
	}
	if err != nil {
		t.Fatalf("%s: %v", ns.Label, err)
	}
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

// recvfrom and recvmsg retry EINTR: a blocking socket call with a timeout
// (SO_RCVTIMEO) is never restarted after a signal, and the Go runtime sends
// its threads signals (preemption).
func recvfrom(fd int, buf []byte) (int, unix.Sockaddr, error) {
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if !errors.Is(err, unix.EINTR) {
			return n, from, err
		}
	}
}

func recvmsg(fd int, buf, oob []byte) (n, oobn, flags int, from unix.Sockaddr, err error) {
	for {
		n, oobn, flags, from, err = unix.Recvmsg(fd, buf, oob, 0)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

func localPort(t *testing.T, fd int) int {
	t.Helper()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return sa.Port
	case *unix.SockaddrInet6:
		return sa.Port
	}
	t.Fatalf("getsockname: %T", sa)
	return 0
}
