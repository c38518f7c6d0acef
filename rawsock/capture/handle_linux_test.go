package capture_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/capture"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// captureSlack bounds every wait in these tests: generous, since the machine may
// be loaded; pass or fail never depends on how fast it is.
const captureSlack = 5 * time.Second

// needCapture skips t, with the reason, unless an AF_PACKET socket opens:
// the capability is probed, not guessed from the uid.
func needCapture(t testing.TB) {
	t.Helper()
	c, err := rawsock.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Skipf("capture needs CAP_NET_RAW: %v", err)
	}
	c.Close()
}

// host returns a namespace of the test's own with only lo, up: the packets
// counted there are the test's.
func captureHost(t testing.TB) *netns.Namespace {
	t.Helper()
	needCapture(t)
	return netns.New(t).Host("cap")
}

// openCapture opens a capture inside ns; Close is left to the cleanup.
func openCapture(t testing.TB, ns *netns.Namespace, cfg capture.Config) *capture.Handle {
	t.Helper()
	var h *capture.Handle
	if err := ns.Do(func() (err error) {
		h, err = capture.Open(cfg)
		return err
	}); err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// socketInNS opens a socket inside ns, bound to addr (port 0 picks one).
func socketInNS(t testing.TB, ns *netns.Namespace, typ, proto int, addr netip.AddrPort) *rawsock.Conn {
	t.Helper()
	var c *rawsock.Conn
	if err := ns.Do(func() (err error) {
		if c, err = rawsock.Socket(unix.AF_INET, typ, proto); err != nil {
			return err
		}
		if typ == unix.SOCK_DGRAM {
			return c.Bind(&unix.SockaddrInet4{Addr: addr.Addr().As4(), Port: int(addr.Port())})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func localPort(t testing.TB, c *rawsock.Conn) uint16 {
	t.Helper()
	sa, err := c.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	return uint16(sa.(*unix.SockaddrInet4).Port)
}

var lo4 = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)

// udpLo is the common setup: a namespace of the test's own, two UDP
// sockets on 127.0.0.1 (a sends, b receives on port pb), and a capture on
// lo of the datagrams to pb.
type udpLo struct {
	ns   *netns.Namespace
	a, b *rawsock.Conn
	pb   uint16
	h    *capture.Handle
}

// newUDPLo makes it; cfg's Interface and Filter are set here.
func newUDPLo(t testing.TB, cfg capture.Config) *udpLo {
	t.Helper()
	u := &udpLo{ns: captureHost(t)}
	u.a = socketInNS(t, u.ns, unix.SOCK_DGRAM, 0, lo4)
	u.b = socketInNS(t, u.ns, unix.SOCK_DGRAM, 0, lo4)
	u.pb = localPort(t, u.b)
	cfg.Interface, cfg.Filter = "lo", udpDstPortFilter(t, u.pb)
	u.h = openCapture(t, u.ns, cfg)
	return u
}

// jumpPastEnd is a program the kernel's checker refuses.
var jumpPastEnd = []bpf.RawInstruction{{Op: unix.BPF_JMP | unix.BPF_JA, K: 5}, {Op: unix.BPF_RET | unix.BPF_K}}

// udpDstPortFilter is "udp dst port p" on Ethernet frames, by hand until the
// compiler lands: IPv4, protocol 17, not a later fragment, destination
// port p; it keeps the whole packet.
func udpDstPortFilter(t testing.TB, p uint16) []bpf.RawInstruction {
	return assembleFilter(t,
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IP, SkipFalse: 6},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.IPPROTO_UDP, SkipFalse: 4},
		bpf.LoadAbsolute{Off: 20, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 2},
		bpf.LoadMemShift{Off: 14},
		bpf.LoadIndirect{Off: 16, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(p), SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	)
}

// icmpOnlyFilter is "icmp" on Ethernet frames.
func icmpOnlyFilter(t testing.TB) []bpf.RawInstruction {
	return assembleFilter(t,
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.ETH_P_IP, SkipFalse: 3},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.IPPROTO_ICMP, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	)
}

func assembleFilter(t testing.TB, ins ...bpf.Instruction) []bpf.RawInstruction {
	t.Helper()
	prog, err := bpf.Assemble(ins)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// capturedPacket is a packet ReadPacket returned, copied.
type capturedPacket struct {
	ci   capture.CaptureInfo
	data []byte
}

// readPackets reads n packets, or fails the test after captureSlack.
func readPackets(t testing.TB, h *capture.Handle, n int) []capturedPacket {
	t.Helper()
	h.SetReadDeadline(time.Now().Add(captureSlack))
	defer h.SetReadDeadline(time.Time{})
	var got []capturedPacket
	for len(got) < n {
		ci, b, err := h.ReadPacket()
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(got), n, err)
		}
		got = append(got, capturedPacket{ci, append([]byte(nil), b...)})
	}
	return got
}

// expectNoPacket reads for d and fails on any packet.
func expectNoPacket(t testing.TB, h *capture.Handle, d time.Duration) {
	t.Helper()
	h.SetReadDeadline(time.Now().Add(d))
	defer h.SetReadDeadline(time.Time{})
	ci, b, err := h.ReadPacket()
	if err == nil {
		t.Fatalf("unexpected packet %+v: % x", ci, b)
	}
}

// decodeUDP decodes an Ethernet, IPv4, UDP frame.
func decodeUDP(t testing.TB, b []byte) (packet.IPv4, packet.UDP, []byte) {
	t.Helper()
	var eth packet.Ethernet
	var ip packet.IPv4
	var udp packet.UDP
	p, err := eth.Parse(b)
	if err == nil && eth.EtherType != unix.ETH_P_IP {
		err = errors.New("not IPv4")
	}
	if err == nil {
		p, err = ip.Parse(p)
	}
	if err == nil && ip.Protocol != unix.IPPROTO_UDP {
		err = errors.New("not UDP")
	}
	if err == nil {
		p, err = udp.Parse(p)
	}
	if err != nil {
		t.Fatalf("%v: % x", err, b)
	}
	return ip, udp, p
}

func sendUDPTo(t testing.TB, from *rawsock.Conn, to uint16, msg string) {
	t.Helper()
	if _, err := from.SendtoInet([]byte(msg), 0, netip.AddrPortFrom(lo4.Addr(), to)); err != nil {
		t.Fatal(err)
	}
}

// TestUDPLoopback captures datagrams on lo: each appears twice, once
// leaving (PACKET_OUTGOING) and once arriving (PACKET_HOST), with its
// fields intact.
func TestUDPLoopback(t *testing.T) {
	u := newUDPLo(t, capture.Config{})
	a, b, pb, h := u.a, u.b, u.pb, u.h
	pa := localPort(t, a)
	if h.Ifindex() != 1 || h.LinkType() != 1 {
		t.Errorf("Ifindex %d, LinkType %d; want 1 and 1 on lo", h.Ifindex(), h.LinkType())
	}
	const n = 5
	before := time.Now()
	for i := range n {
		sendUDPTo(t, a, pb, "datagram "+string(rune('0'+i)))
	}
	sendUDPTo(t, b, pa, "the other way: filtered out")
	got := readPackets(t, h, 2*n)
	types := map[uint8]int{}
	for i, p := range got {
		ip, udp, payload := decodeUDP(t, p.data)
		want := "datagram " + string(rune('0'+i/2))
		if ip.Src != lo4.Addr() || ip.Dst != lo4.Addr() || udp.SrcPort != pa || udp.DstPort != pb || string(payload) != want {
			t.Errorf("packet %d: %v:%d > %v:%d %q; want 127.0.0.1:%d > 127.0.0.1:%d %q", i, ip.Src, udp.SrcPort, ip.Dst, udp.DstPort, payload, pa, pb, want)
		}
		ci := p.ci
		wantLen := 14 + 20 + 8 + len(want)
		if ci.Length != wantLen || ci.CaptureLength != wantLen || len(p.data) != wantLen {
			t.Errorf("packet %d: Length %d, CaptureLength %d, %d bytes; want %d", i, ci.Length, ci.CaptureLength, len(p.data), wantLen)
		}
		if ci.Ifindex != 1 || ci.Protocol != unix.ETH_P_IP || ci.HardwareType != unix.ARPHRD_LOOPBACK {
			t.Errorf("packet %d: ifindex %d, protocol %#x, hatype %d; want 1, 0x800, %d", i, ci.Ifindex, ci.Protocol, ci.HardwareType, unix.ARPHRD_LOOPBACK)
		}
		if ci.Timestamp.Before(before.Add(-time.Second)) || ci.Timestamp.After(time.Now().Add(time.Second)) {
			t.Errorf("packet %d: timestamp %v, sent after %v", i, ci.Timestamp, before)
		}
		if i > 0 && ci.Timestamp.Before(got[i-1].ci.Timestamp) {
			t.Errorf("packet %d: timestamp %v before the previous one's %v", i, ci.Timestamp, got[i-1].ci.Timestamp)
		}
		types[ci.PacketType]++
	}
	if types[unix.PACKET_OUTGOING] != n || types[unix.PACKET_HOST] != n {
		t.Errorf("packet types %v; want %d PACKET_OUTGOING (%d) and %d PACKET_HOST (%d)", types, n, unix.PACKET_OUTGOING, n, unix.PACKET_HOST)
	}
	expectNoPacket(t, h, 50*time.Millisecond)
}
