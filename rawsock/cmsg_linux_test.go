package rawsock_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// oneMessage parses oob and wants exactly one control message.
func oneMessage(t *testing.T, oob []byte) rawsock.ControlMessage {
	t.Helper()
	cms, err := rawsock.ParseControlMessages(oob)
	if err != nil {
		t.Fatal(err)
	}
	if len(cms) != 1 {
		t.Fatalf("%d control messages, want 1: %v", len(cms), cms)
	}
	return cms[0]
}

// receivedFd checks that a passed fd is close-on-exec and returns it as a
// file.
func receivedFd(t *testing.T, m rawsock.ControlMessage) *os.File {
	t.Helper()
	fds, err := m.Rights()
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 1 {
		t.Fatalf("%d fds, want 1", len(fds))
	}
	f := os.NewFile(uintptr(fds[0]), "passed")
	t.Cleanup(func() { f.Close() })
	flags, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd %d is not close-on-exec", fds[0])
	}
	return f
}

// TestSCMRights passes a file and a socket over AF_UNIX; each received fd
// works and is close-on-exec.
func TestSCMRights(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	path := filepath.Join(t.TempDir(), "passed")
	os.WriteFile(path, []byte("through the socket"), 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := a.Sendmsg([]byte("f"), rawsock.UnixRights(int(f.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	p, oob := make([]byte, 10), make([]byte, rawsock.CmsgSpace(4))
	n, oobn, flags, _, err := b.Recvmsg(p, oob, 0)
	if err != nil || n != 1 || flags != 0 {
		t.Fatalf("Recvmsg: %d, flags %s, %v", n, rawsock.MsgFlagsString(flags), err)
	}
	m := oneMessage(t, oob[:oobn])
	if m.String() != "SOL_SOCKET/SCM_RIGHTS (4 bytes)" {
		t.Errorf("message is %s", m)
	}
	got := make([]byte, 64)
	k, err := receivedFd(t, m).ReadAt(got, 0)
	if string(got[:k]) != "through the socket" {
		t.Errorf("read %q through the passed fd, %v", got[:k], err)
	}

	// A socket passes the same way and works once wrapped with FromFD.
	x, y := socktest.Pair(t, rawsock.SOCK_DGRAM)
	if _, err := a.Sendmsg([]byte("s"), rawsock.UnixRights(x.Fileno()), nil, 0); err != nil {
		t.Fatal(err)
	}
	_, oobn, _, _, err = b.Recvmsg(p, oob, 0)
	if err != nil {
		t.Fatal(err)
	}
	pf := receivedFd(t, oneMessage(t, oob[:oobn]))
	xc, err := rawsock.FromFD(int(pf.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer xc.Close()
	if xc.Family() != rawsock.AF_UNIX || xc.Type() != rawsock.SOCK_DGRAM {
		t.Errorf("passed socket is %d/%d", xc.Family(), xc.Type())
	}
	xc.Send([]byte("via passed"), 0)
	if n, err := y.Recv(p, 0); err != nil || string(p[:n]) != "via passed" {
		t.Errorf("send on the passed socket: %q, %v", p[:n], err)
	}

	// A control buffer too small for the fd: MSG_CTRUNC, and no fd leaks
	// (the kernel closes what it could not deliver).
	before := socktest.FDCount(t)
	a.Sendmsg([]byte("t"), rawsock.UnixRights(int(f.Fd())), nil, 0)
	_, _, flags, _, err = b.Recvmsg(p, make([]byte, 4), 0)
	if err != nil || flags&unix.MSG_CTRUNC == 0 {
		t.Errorf("Recvmsg into a 4-byte control buffer: flags %s, %v; want MSG_CTRUNC", rawsock.MsgFlagsString(flags), err)
	}
	if after := socktest.FDCount(t); after != before {
		t.Errorf("fds %d before, %d after a truncated SCM_RIGHTS", before, after)
	}
}

// TestSCMRightsRecvmmsg: fds received with Recvmmsg are close-on-exec too.
func TestSCMRightsRecvmmsg(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_DGRAM)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := a.Sendmsg([]byte("f"), rawsock.UnixRights(int(f.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	msgs := []rawsock.Message{{Buf: make([]byte, 10), OOB: make([]byte, rawsock.CmsgSpace(4))}}
	n, err := b.Recvmmsg(msgs, 0)
	if err != nil || n != 1 {
		t.Fatalf("Recvmmsg: %d, %v", n, err)
	}
	if msgs[0].Flags&unix.MSG_CMSG_CLOEXEC != 0 {
		t.Errorf("Recvmmsg reports MSG_CMSG_CLOEXEC, a flag the caller did not pass")
	}
	receivedFd(t, oneMessage(t, msgs[0].OOB[:msgs[0].NN]))
}

// TestIPPktinfo: IP_PKTINFO says which address and interface a datagram
// came in on; PktinfoCmsg picks the source of one sent.
func TestIPPktinfo(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no lo interface: %v", err)
	}
	a := socktest.BoundUDP(t, rawsock.AF_INET)
	b := socktest.BoundUDP(t, rawsock.AF_INET)
	if err := b.SetsockoptInt(rawsock.SOL_IP, rawsock.IP_PKTINFO, 1); err != nil {
		t.Fatal(err)
	}
	bsa, _ := b.Getsockname()
	src := netip.MustParseAddr("127.0.0.1")
	if _, err := a.Sendmsg([]byte("pkt"), rawsock.PktinfoCmsg(0, src), bsa, 0); err != nil {
		t.Fatal(err)
	}
	p, oob := make([]byte, 10), make([]byte, 128)
	_, oobn, _, from, err := b.Recvmsg(p, oob, 0)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := oneMessage(t, oob[:oobn]).Pktinfo()
	if err != nil {
		t.Fatal(err)
	}
	if pi.Ifindex != lo.Index || pi.Dst != src || pi.Local != src {
		t.Errorf("pktinfo %+v, want ifindex %d, dst and local 127.0.0.1", pi, lo.Index)
	}
	asa, _ := a.Getsockname()
	if rawsock.AddrString(from) != rawsock.AddrString(asa) {
		t.Errorf("from %s, want %s", rawsock.AddrString(from), rawsock.AddrString(asa))
	}
}

// TestIPRecvTTL: IP_RECVTTL reports the TTL a datagram arrived with, set
// per socket with IP_TTL or per datagram with TTLCmsg.
func TestIPRecvTTL(t *testing.T) {
	a := socktest.BoundUDP(t, rawsock.AF_INET)
	b := socktest.BoundUDP(t, rawsock.AF_INET)
	if err := b.SetsockoptInt(rawsock.SOL_IP, rawsock.IP_RECVTTL, 1); err != nil {
		t.Fatal(err)
	}
	bsa, _ := b.Getsockname()
	p, oob := make([]byte, 10), make([]byte, 64)
	recvTTL := func() int {
		t.Helper()
		_, oobn, _, _, err := b.Recvmsg(p, oob, 0)
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := oneMessage(t, oob[:oobn]).TTL()
		if err != nil {
			t.Fatal(err)
		}
		return ttl
	}
	if _, err := a.Sendmsg([]byte("x"), rawsock.TTLCmsg(7), bsa, 0); err != nil {
		t.Fatal(err)
	}
	if ttl := recvTTL(); ttl != 7 {
		t.Errorf("TTL %d, want the 7 of TTLCmsg", ttl)
	}
	a.SetsockoptInt(rawsock.SOL_IP, rawsock.IP_TTL, 33)
	a.Sendto([]byte("x"), 0, bsa)
	if ttl := recvTTL(); ttl != 33 {
		t.Errorf("TTL %d, want the 33 of IP_TTL", ttl)
	}
}

// TestIPv6Ancillary: IPV6_RECVPKTINFO and IPV6_RECVHOPLIMIT through the
// same helpers.
func TestIPv6Ancillary(t *testing.T) {
	a := socktest.BoundUDP(t, rawsock.AF_INET6)
	b := socktest.BoundUDP(t, rawsock.AF_INET6)
	b.SetsockoptInt(rawsock.SOL_IPV6, rawsock.IPV6_RECVPKTINFO, 1)
	b.SetsockoptInt(rawsock.SOL_IPV6, rawsock.IPV6_RECVHOPLIMIT, 1)
	a.SetsockoptInt(rawsock.SOL_IPV6, rawsock.IPV6_UNICAST_HOPS, 9)
	bsa, _ := b.Getsockname()
	a.Sendto([]byte("x"), 0, bsa)
	p, oob := make([]byte, 10), make([]byte, 256)
	_, oobn, _, _, err := b.Recvmsg(p, oob, 0)
	if err != nil {
		t.Fatal(err)
	}
	cms, err := rawsock.ParseControlMessages(oob[:oobn])
	if err != nil || len(cms) != 2 {
		t.Fatalf("control messages %v, %v; want 2", cms, err)
	}
	seen := 0
	for _, m := range cms {
		if pi, err := m.Pktinfo(); err == nil {
			seen++
			if pi.Dst != netip.IPv6Loopback() {
				t.Errorf("IPV6_PKTINFO dst %v", pi.Dst)
			}
		}
		if hl, err := m.TTL(); err == nil {
			seen++
			if hl != 9 {
				t.Errorf("hop limit %d, want 9", hl)
			}
		}
	}
	if seen != 2 {
		t.Errorf("decoded %d of the 2 messages %v", seen, cms)
	}
}

// TestSOTimestampNS: SO_TIMESTAMPNS gives the kernel's receive time.
func TestSOTimestampNS(t *testing.T) {
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	if err := b.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_TIMESTAMPNS, 1); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	a.Send([]byte("when"), 0)
	p, oob := make([]byte, 10), make([]byte, 64)
	_, oobn, _, _, err := b.Recvmsg(p, oob, 0)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	m := oneMessage(t, oob[:oobn])
	ts, err := m.Timestamp()
	if err != nil {
		t.Fatal(err)
	}
	// The kernel's clock and time.Now's agree to well within this.
	if ts.Before(before.Add(-time.Second)) || ts.After(after.Add(time.Second)) {
		t.Errorf("timestamp %v, outside [%v, %v]", ts, before, after)
	}
	if _, err := m.TTL(); err == nil || !strings.Contains(err.Error(), "not IP_TTL") {
		t.Errorf("TTL() of a timestamp: %v, want an error naming the mismatch", err)
	}
}

// TestParseControlMessagesBad: a lying length is an error, never a panic.
func TestParseControlMessagesBad(t *testing.T) {
	good := rawsock.UnixRights(1, 2)
	for _, cut := range []int{1, 4, 8, 15, len(good) - 1} {
		if _, err := rawsock.ParseControlMessages(good[:cut]); err == nil {
			t.Errorf("%d of %d bytes parsed without error", cut, len(good))
		}
	}
	lying := append([]byte(nil), good...)
	lying[0] = 0xff // cmsg_len far past the end
	if _, err := rawsock.ParseControlMessages(lying); err == nil {
		t.Error("cmsg_len past the buffer parsed without error")
	}
	m := oneMessage(t, good)
	if fds, err := m.Rights(); err != nil || len(fds) != 2 || fds[0] != 1 || fds[1] != 2 {
		t.Errorf("Rights: %v, %v", fds, err)
	}
	if _, err := m.Pktinfo(); err == nil {
		t.Error("Pktinfo of SCM_RIGHTS succeeded")
	}
	if _, err := m.Timestamp(); err == nil {
		t.Error("Timestamp of SCM_RIGHTS succeeded")
	}
}
