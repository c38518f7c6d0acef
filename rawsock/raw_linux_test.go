package rawsock_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

func TestRawICMPEcho(t *testing.T) {
	socktest.NeedRaw(t)
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP)
	id, seq := os.Getpid()&0xffff, 7
	payload := []byte("rawsock echo test")
	req, err := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddrPort("127.0.0.1:0")
	c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_RCVBUF, 1<<20)
	buf := make([]byte, 1500)
	// A raw socket sees every ICMP message on the host: our own request,
	// other processes' pings, perhaps a flood of them that overflows its
	// buffer. So the request goes again every 200ms, and the wait is
	// bounded by time.
	c.SetTimeout(100 * time.Millisecond)
	var sent time.Time
	for deadline := time.Now().Add(slack); time.Now().Before(deadline); {
		if time.Since(sent) > 200*time.Millisecond {
			if _, err := c.SendtoInet(req, 0, dst); err != nil {
				t.Fatal(err)
			}
			sent = time.Now()
		}
		n, from, err := c.RecvfromInet(buf, 0)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < 20 {
			t.Fatalf("short packet of %d bytes", n)
		}
		// The raw socket hands over the IPv4 header too.
		m, err := icmp.ParseMessage(1, buf[int(buf[0]&0x0f)*4:n])
		if err != nil {
			t.Fatal(err)
		}
		echo, ok := m.Body.(*icmp.Echo)
		if m.Type != ipv4.ICMPTypeEchoReply || !ok || echo.ID != id || echo.Seq != seq {
			continue
		}
		if from.Addr() != dst.Addr() {
			t.Errorf("reply from %v", from)
		}
		if !bytes.Equal(echo.Data, payload) {
			t.Errorf("reply payload %q", echo.Data)
		}
		return
	}
	t.Fatalf("no echo reply in %v", slack)
}

// TestIPHdrincl sets and reads IP_HDRINCL, then sends a UDP datagram whose
// IPv4 header it built itself, and receives it on an ordinary UDP socket.
func TestIPHdrincl(t *testing.T) {
	socktest.NeedRaw(t)
	r := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_UDP)
	if v, err := r.GetsockoptInt(rawsock.SOL_IP, rawsock.IP_HDRINCL); err != nil || v != 0 {
		t.Fatalf("IP_HDRINCL on a fresh IPPROTO_UDP raw socket: %d, %v", v, err)
	}
	if err := r.SetsockoptInt(rawsock.SOL_IP, rawsock.IP_HDRINCL, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := r.GetsockoptInt(rawsock.SOL_IP, rawsock.IP_HDRINCL); err != nil || v != 1 {
		t.Fatalf("IP_HDRINCL after setting it: %d, %v", v, err)
	}
	// IPPROTO_RAW implies IP_HDRINCL (raw(7)).
	rr := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_RAW)
	if v, err := rr.GetsockoptInt(rawsock.SOL_IP, rawsock.IP_HDRINCL); err != nil || v != 1 {
		t.Fatalf("IP_HDRINCL on IPPROTO_RAW: %d, %v", v, err)
	}

	u := socktest.BoundUDP(t, rawsock.AF_INET)
	usa, _ := u.Getsockname()
	dport := port(t, usa)
	payload := []byte("built by hand")
	pkt := make([]byte, 20+8+len(payload))
	pkt[0] = 0x45 // IPv4, 5 words of header
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	pkt[8] = 64 // TTL
	pkt[9] = unix.IPPROTO_UDP
	copy(pkt[12:16], []byte{127, 0, 0, 1})
	copy(pkt[16:20], []byte{127, 0, 0, 1})
	// The kernel always fills in the header checksum (raw(7)).
	binary.BigEndian.PutUint16(pkt[20:], 4242) // source port
	binary.BigEndian.PutUint16(pkt[22:], uint16(dport))
	binary.BigEndian.PutUint16(pkt[24:], uint16(8+len(payload)))
	copy(pkt[28:], payload) // UDP checksum 0: none, allowed over IPv4
	if _, err := r.SendtoInet(pkt, 0, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	u.SetTimeout(2 * time.Second)
	buf := make([]byte, 100)
	n, from, err := u.RecvfromInet(buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != string(payload) || from.Port() != 4242 {
		t.Errorf("received %q from %v, want %q from port 4242", buf[:n], from, payload)
	}
}

// TestPacketSocketLo opens an AF_PACKET socket bound to lo and sees a UDP
// datagram sent on loopback go by, with its link-layer address.
func TestPacketSocketLo(t *testing.T) {
	socktest.NeedRaw(t)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no lo interface: %v", err)
	}
	p := socktest.MustSocket(t, rawsock.AF_PACKET, rawsock.SOCK_RAW, int(rawsock.Htons(rawsock.ETH_P_ALL)))
	if err := p.Bind(&unix.SockaddrLinklayer{Protocol: rawsock.Htons(rawsock.ETH_P_ALL), Ifindex: lo.Index}); err != nil {
		t.Fatal(err)
	}
	// Other processes may flood lo: a big buffer, and the datagram sent
	// again until it shows, for at most a few seconds.
	p.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_RCVBUF, 4<<20)
	a, _ := socktest.UDPPair(t, rawsock.AF_INET)
	magic := []byte(fmt.Sprintf("rawsock-packet-%d-%d", os.Getpid(), time.Now().UnixNano()))
	p.SetTimeout(50 * time.Millisecond)
	buf := make([]byte, 65536)
	deadline := time.Now().Add(slack)
	var sent time.Time
	for time.Now().Before(deadline) {
		if time.Since(sent) > 50*time.Millisecond {
			if _, err := a.Send(magic, 0); err != nil {
				t.Fatal(err)
			}
			sent = time.Now()
		}
		n, sa, err := p.Recvfrom(buf, 0)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf[:n], magic) {
			continue
		}
		ll, ok := sa.(*unix.SockaddrLinklayer)
		if !ok || ll.Ifindex != lo.Index || rawsock.Ntohs(ll.Protocol) != unix.ETH_P_IP {
			t.Errorf("frame address %#v, want lo (%d), ETH_P_IP", sa, lo.Index)
		}
		if n < 14+20 || binary.BigEndian.Uint16(buf[12:]) != unix.ETH_P_IP || buf[14+9] != unix.IPPROTO_UDP {
			t.Errorf("frame is not Ethernet/IPv4/UDP: % x", buf[:min(n, 40)])
		}
		return
	}
	t.Fatalf("our datagram never showed on lo in %v", slack)
}

// privilegeRefusals opens the sockets that need CAP_NET_RAW and describes
// each refusal: "OK <error>" when it is the documented one, "BAD ..."
// otherwise.
func privilegeRefusals() []string {
	var out []string
	for _, tr := range [][3]int{
		{unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP},
		{unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6},
		{unix.AF_PACKET, unix.SOCK_RAW, int(rawsock.Htons(unix.ETH_P_ALL))},
	} {
		c, err := rawsock.Socket(tr[0], tr[1], tr[2])
		if tr[0] == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
			continue // no IPv6 in this kernel: nothing to refuse
		}
		if err == nil {
			c.Close()
			out = append(out, fmt.Sprintf("BAD %v opened without privilege", tr))
			continue
		}
		var se *os.SyscallError
		msg := err.Error()
		ok := errors.As(err, &se) && errors.Is(err, os.ErrPermission) &&
			strings.Contains(msg, "CAP_NET_RAW") && strings.Contains(msg, "setcap cap_net_raw+ep")
		if ok {
			out = append(out, "OK "+msg)
		} else {
			out = append(out, "BAD "+msg)
		}
	}
	return out
}

func unprivilegedChild() error {
	for _, l := range privilegeRefusals() {
		fmt.Println(l)
	}
	return nil
}

// TestRawRefusedUnprivileged checks the refusal a user without CAP_NET_RAW
// gets: EPERM, named as a privilege problem, with the setcap remedy. As
// root it re-executes the test binary as nobody (uid 65534).
func TestRawRefusedUnprivileged(t *testing.T) {
	var lines []string
	switch {
	case os.Geteuid() == 0:
		lines = runAsNobody(t)
	case socktest.RawErr() == nil:
		t.Skip("this process has CAP_NET_RAW without being root (setcap'd binary?): no refusal to see")
	default:
		lines = privilegeRefusals()
	}
	if len(lines) < 2 {
		t.Fatalf("want a refusal for each raw socket tried, got %q", lines)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "OK ") {
			t.Errorf("refusal: %s", l)
		} else {
			t.Log(l)
		}
	}
}

// runAsNobody runs the child as uid 65534, which leaves it no capability.
func runAsNobody(t *testing.T) []string {
	cmd := socktest.NobodyCommand(t, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=unprivileged")
	out, stderr, code := socktest.RunNobody(t, cmd)
	if code != 0 {
		t.Fatalf("child as nobody: exit status %d\n%s", code, stderr)
	}
	return strings.Split(strings.TrimSpace(out), "\n")
}
