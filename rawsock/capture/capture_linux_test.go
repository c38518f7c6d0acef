package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/capture"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/sys/unix"
)

// TestICMPEcho captures an echo request sent on a raw socket of the core
// and the kernel's reply, each leaving and arriving on lo.
func TestICMPEcho(t *testing.T) {
	ns := host(t)
	c := socketIn(t, ns, unix.SOCK_RAW, unix.IPPROTO_ICMP, loopback)
	h := openIn(t, ns, capture.Config{Interface: "lo", Filter: icmpFilter(t)})
	const id, seq = 0x7273, 9
	req := packet.ICMP{Proto: packet.ProtoICMP, Type: 8, ID: id, Seq: seq, Data: []byte("capture")}
	b, err := req.Append(nil, loopback.Addr(), loopback.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Sendto(b, 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	got := readN(t, h, 4)
	want := []struct {
		typ   uint8
		ptype uint8
	}{{8, unix.PACKET_OUTGOING}, {8, unix.PACKET_HOST}, {0, unix.PACKET_OUTGOING}, {0, unix.PACKET_HOST}}
	for i, p := range got {
		var eth packet.Ethernet
		var ip packet.IPv4
		var m packet.ICMP
		rest, err := eth.Parse(p.data)
		if err == nil {
			rest, err = ip.Parse(rest)
		}
		if err == nil {
			err = m.Parse(packet.ProtoICMP, rest)
		}
		if err != nil {
			t.Fatalf("packet %d: %v: % x", i, err, p.data)
		}
		if m.Type != want[i].typ || p.ci.PacketType != want[i].ptype || m.ID != id || m.Seq != seq || string(m.Data) != "capture" {
			t.Errorf("packet %d: ICMP type %d id %#x seq %d %q, packet type %d; want type %d id %#x seq %d \"capture\", packet type %d",
				i, m.Type, m.ID, m.Seq, m.Data, p.ci.PacketType, want[i].typ, id, seq, want[i].ptype)
		}
	}
	expectNone(t, h, 50*time.Millisecond)
}

// TestVeth captures across a veth pair: on the receiving end by name, and
// on the sending side on all interfaces at once.
func TestVeth(t *testing.T) {
	needCapture(t)
	tp := netns.New(t)
	a, b := tp.Host("a"), tp.Host("b")
	l := tp.Connect(a, b)
	src := socketIn(t, a, unix.SOCK_DGRAM, 0, netip.AddrPortFrom(l.A4, 0))
	dst := socketIn(t, b, unix.SOCK_DGRAM, 0, netip.AddrPortFrom(l.B4, 0))
	pdst := port(t, dst)
	hb := openIn(t, b, capture.Config{Interface: l.BIf, Filter: udpPortFilter(t, pdst)})
	ha := openIn(t, a, capture.Config{Filter: udpPortFilter(t, pdst)})
	if ha.Ifindex() != 0 || hb.Ifindex() == 0 || hb.LinkType() != 1 {
		t.Fatalf("Ifindex %d on all interfaces, %d on %s (LinkType %d)", ha.Ifindex(), hb.Ifindex(), l.BIf, hb.LinkType())
	}
	const n = 3
	for i := range n {
		if err := src.SendtoInet([]byte(fmt.Sprint("veth ", i)), 0, netip.AddrPortFrom(l.B4, pdst)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, got []pkt, ptype uint8, ifindex int) {
		for i, p := range got {
			ip, udp, payload := udpOf(t, p.data)
			var eth packet.Ethernet
			eth.Parse(p.data)
			if eth.Src.String() != l.AMAC || eth.Dst.String() != l.BMAC || ip.Src != l.A4 || ip.Dst != l.B4 ||
				udp.DstPort != pdst || string(payload) != fmt.Sprint("veth ", i) {
				t.Errorf("%s packet %d: %v > %v, %v > %v:%d %q", name, i, eth.Src, eth.Dst, ip.Src, ip.Dst, udp.DstPort, payload)
			}
			if p.ci.PacketType != ptype || p.ci.Ifindex != ifindex || p.ci.HardwareType != unix.ARPHRD_ETHER {
				t.Errorf("%s packet %d: type %d on ifindex %d (hatype %d); want type %d on %d", name, i, p.ci.PacketType, p.ci.Ifindex, p.ci.HardwareType, ptype, ifindex)
			}
		}
	}
	check("receiver", readN(t, hb, n), unix.PACKET_HOST, hb.Ifindex())
	check("sender", readN(t, ha, n), unix.PACKET_OUTGOING, hb.Ifindex()-1) // netns numbers the A end one below
	expectNone(t, hb, 50*time.Millisecond)
}

// TestSnaplen: a packet longer than the snap length is cut, its length on
// the wire kept.
func TestSnaplen(t *testing.T) {
	ns := host(t)
	a := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	b := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	h := openIn(t, ns, capture.Config{Interface: "lo", Snaplen: 60})
	msg := strings.Repeat("x", 200)
	sendUDP(t, a, port(t, b), msg)
	for _, p := range readN(t, h, 2) {
		if p.ci.CaptureLength != 60 || len(p.data) != 60 || p.ci.Length != 14+20+8+200 {
			t.Errorf("CaptureLength %d (%d bytes), Length %d; want 60 and %d", p.ci.CaptureLength, len(p.data), p.ci.Length, 14+20+8+200)
		}
	}
}

// flood sends datagrams to port to from c until stop is closed, at most
// max of them, and returns how many it sent.
func flood(c *rawsock.Conn, to uint16, max int, stop <-chan struct{}, sent *atomic.Int64) {
	msg := []byte("flood")
	dst := netip.AddrPortFrom(loopback.Addr(), to)
	for i := 0; i < max; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if c.SendtoInet(msg, 0, dst) == nil {
			sent.Add(1)
		}
	}
}

// TestFilterRace opens 100 captures filtering on one UDP port while lo is
// flooded with datagrams to another: not one of them may deliver a packet
// of the flood, which a socket bound before its filter is attached would.
func TestFilterRace(t *testing.T) {
	ns := host(t)
	sink := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback) // takes the flood, never read
	want := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	src := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	pwant := port(t, want)
	stop := make(chan struct{})
	var sent atomic.Int64
	done := make(chan struct{})
	go func() { flood(src, port(t, sink), 5_000_000, stop, &sent); close(done) }()
	defer func() { close(stop); <-done }()
	for sent.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	hs := make([]*capture.Handle, 100)
	for i := range hs {
		hs[i] = openIn(t, ns, capture.Config{Interface: "lo", Filter: udpPortFilter(t, pwant), RingBlockSize: 1 << 16, RingBlocks: 2})
	}
	floodSent := sent.Load()
	const n = 3
	for i := range n {
		sendUDP(t, src, pwant, fmt.Sprint("wanted ", i))
	}
	bad := 0
	for i, h := range hs {
		for _, p := range readN(t, h, 2*n) {
			if _, udp, _ := udpOf(t, p.data); udp.DstPort != pwant {
				bad++
				t.Errorf("handle %d: a datagram to port %d, outside its filter", i, udp.DstPort)
			}
		}
	}
	t.Logf("100 captures opened while %d datagrams flooded lo; %d delivered outside the filter", floodSent, bad)
	if floodSent < 2000 {
		t.Logf("the flood was slow (%d datagrams): the race was barely exercised", floodSent)
	}
}

// TestSetFilter replaces a filter while datagrams to both ports keep
// coming and the ring holds packets of the old one: once SetFilter returns,
// no packet of the old filter is read, by a reader that was parked or busy.
func TestSetFilter(t *testing.T) {
	ns := host(t)
	sink1 := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	sink2 := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	src := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	p1, p2 := port(t, sink1), port(t, sink2)
	h := openIn(t, ns, capture.Config{Interface: "lo", Filter: udpPortFilter(t, p1), RingBlockSize: 1 << 16, RingBlocks: 4})

	// Both ports, paced, so that the ring's current block always holds
	// some packets to p1 when the filter changes.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200_000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
			sendUDP(t, src, p1, "old")
			sendUDP(t, src, p2, "new")
		}
	}()
	defer func() { close(stop); <-done }()

	if p := readN(t, h, 10); true {
		for _, q := range p {
			if _, udp, _ := udpOf(t, q.data); udp.DstPort != p1 {
				t.Fatalf("before SetFilter: a datagram to %d, want %d", udp.DstPort, p1)
			}
		}
	}
	time.Sleep(30 * time.Millisecond) // let the ring fill with old packets

	// A reader keeps reading in another goroutine; every ReadPacket it
	// starts after SetFilter returned must bring the new filter's packets.
	var filtered atomic.Bool
	var stale, fresh atomic.Int64
	rdone := make(chan error, 1)
	go func() {
		for {
			after := filtered.Load()
			_, b, err := h.ReadPacket()
			if err != nil {
				rdone <- err
				return
			}
			var eth packet.Ethernet
			var ip packet.IPv4
			var udp packet.UDP
			rest, _ := eth.Parse(b)
			rest, _ = ip.Parse(rest)
			udp.Parse(rest)
			if after {
				if udp.DstPort != p2 {
					stale.Add(1)
				} else if fresh.Add(1) == 100 {
					rdone <- nil
					return
				}
			}
		}
	}()
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	if err := h.SetFilter(udpPortFilter(t, p2)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	filtered.Store(true)
	select {
	case err := <-rdone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(slack):
		t.Fatalf("the reader saw %d packets of the new filter in %v", fresh.Load(), slack)
	}
	if stale.Load() != 0 {
		t.Errorf("%d packets of the old filter read after SetFilter returned", stale.Load())
	}
	t.Logf("SetFilter took %v", took)
}

// TestSetFilterIdle: SetFilter takes the ring from a reader parked on an
// idle interface, which then goes on to read under the new filter.
func TestSetFilterIdle(t *testing.T) {
	ns := host(t)
	a := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	b := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	pb := port(t, b)
	h := openIn(t, ns, capture.Config{Interface: "lo", Filter: udpPortFilter(t, 9)})
	h.SetReadDeadline(time.Now().Add(slack))
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		_, b, err := h.ReadPacket()
		got <- result{append([]byte(nil), b...), err}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := h.SetFilter(udpPortFilter(t, pb)); err != nil {
		t.Fatal(err)
	}
	sendUDP(t, a, pb, "after")
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, udp, payload := udpOf(t, r.b); udp.DstPort != pb || string(payload) != "after" {
		t.Errorf("the parked reader got a datagram to %d %q; want %d \"after\"", udp.DstPort, payload, pb)
	}
}

// TestStats: the totals add up across reads of PACKET_STATISTICS (which
// the kernel resets), and with a ring too small to hold a burst, what was
// read plus what was dropped is what the filter passed.
func TestStats(t *testing.T) {
	ns := host(t)
	a := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	b := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	pb := port(t, b)
	h := openIn(t, ns, capture.Config{Interface: "lo", Filter: udpPortFilter(t, pb)})
	sendUDP(t, b, port(t, a), "not counted: filtered out")
	for round, want := range []uint64{20, 40} {
		for range 10 {
			sendUDP(t, a, pb, "counted")
		}
		readN(t, h, 20)
		for range 2 { // the second read finds the kernel's counters at 0
			st, err := h.Stats()
			if err != nil || st != (capture.Stats{Packets: want}) {
				t.Fatalf("round %d: Stats %+v, %v; want %d packets, 0 drops", round, st, err, want)
			}
		}
	}

	small := openIn(t, ns, capture.Config{Interface: "lo", Filter: udpPortFilter(t, pb), RingBlockSize: 4096, RingBlocks: 2})
	msg := strings.Repeat("y", 500)
	for range 200 {
		sendUDP(t, a, pb, msg)
	}
	read := 0
	for {
		small.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, _, err := small.ReadPacket(); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
		read++
	}
	st, err := small.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Drops == 0 || uint64(read)+st.Drops != st.Packets || st.Packets != 400 {
		t.Errorf("read %d, Stats %+v; want drops, and read + drops = packets = 400", read, st)
	}
	t.Logf("a ring of 2 blocks of 4 KiB took %d of 400 packets: %+v", read, st)
	small.Close()
	if again, err := small.Stats(); err != nil || again != st {
		t.Errorf("Stats after Close: %+v, %v; want %+v", again, err, st)
	}
}

// TestCloseWakesReader: Close from another goroutine ends a ReadPacket
// parked on an idle interface, with an error matching net.ErrClosed.
func TestCloseWakesReader(t *testing.T) {
	ns := host(t)
	var waits []time.Duration
	for range 10 {
		h := openIn(t, ns, capture.Config{Interface: "lo"})
		errc := make(chan error, 1)
		var woke time.Time
		go func() {
			_, _, err := h.ReadPacket()
			woke = time.Now()
			errc <- err
		}()
		time.Sleep(20 * time.Millisecond)
		start := time.Now()
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("ReadPacket woken by Close: %v, want net.ErrClosed", err)
			}
			waits = append(waits, woke.Sub(start))
		case <-time.After(slack):
			t.Fatalf("ReadPacket still parked %v after Close", slack)
		}
		if _, _, err := h.ReadPacket(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadPacket after Close: %v", err)
		}
		if err := h.SetFilter(nil); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SetFilter after Close: %v", err)
		}
	}
	t.Logf("Close to the reader's return, 10 runs: %v", waits)
}

// TestReadDeadline: a deadline ends a wait on an idle interface.
func TestReadDeadline(t *testing.T) {
	ns := host(t)
	h := openIn(t, ns, capture.Config{Interface: "lo"})
	h.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := h.ReadPacket(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadPacket past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
}

// TestAllocs: ReadPacket allocates nothing per packet, ring walking and
// waits for blocks included.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are skipped in -short mode")
	}
	ns := host(t)
	a := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	b := socketIn(t, ns, unix.SOCK_DGRAM, 0, loopback)
	pb := port(t, b)
	h := openIn(t, ns, capture.Config{Interface: "lo", Filter: udpPortFilter(t, pb), RingBlockSize: 1 << 16})
	for range 300 {
		sendUDP(t, a, pb, "alloc")
	}
	h.SetReadDeadline(time.Now().Add(slack))
	buf := make([]byte, 128)
	n := testing.AllocsPerRun(200, func() {
		if _, _, err := h.ReadPacket(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.ReadPacketInto(buf); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("ReadPacket+ReadPacketInto: %v allocs per call, want 0", n)
	}
}

// TestTraceOrder: the trace shows the order that keeps unfiltered packets
// out: filter, ring, then bind.
func TestTraceOrder(t *testing.T) {
	ns := host(t)
	var mu sync.Mutex
	var buf bytes.Buffer
	rawsock.SetTrace(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	h := openIn(t, ns, capture.Config{Interface: "lo"})
	h.Stats()
	rawsock.SetTrace(nil)
	mu.Lock()
	trace := buf.String()
	mu.Unlock()
	last := -1
	for _, step := range []string{"socket(AF_PACKET, SOCK_RAW", "SO_ATTACH_FILTER", "PACKET_VERSION, 2", "PACKET_RX_RING", "bind(", "PACKET_STATISTICS"} {
		i := strings.Index(trace, step)
		if i < last {
			t.Fatalf("%q missing or out of order in the trace:\n%s", step, trace)
		}
		last = i
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestPromiscuous: the interface is promiscuous while the capture is open.
func TestPromiscuous(t *testing.T) {
	needCapture(t)
	tp := netns.New(t)
	a, b := tp.Host("a"), tp.Host("b")
	l := tp.Connect(a, b)
	promiscuity := func() string {
		f := strings.Fields(b.IP("-d", "link", "show", l.BIf))
		for i, w := range f {
			if w == "promiscuity" && i+1 < len(f) {
				return f[i+1]
			}
		}
		t.Fatalf("no promiscuity in ip -d link show %s", l.BIf)
		return ""
	}
	h := openIn(t, b, capture.Config{Interface: l.BIf, Promiscuous: true})
	if p := promiscuity(); p != "1" {
		t.Errorf("promiscuity %s with the capture open, want 1", p)
	}
	h.Close()
	if p := promiscuity(); p != "0" {
		t.Errorf("promiscuity %s after Close, want 0", p)
	}
}
