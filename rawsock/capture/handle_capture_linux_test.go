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
	ns := captureHost(t)
	c := socketInNS(t, ns, unix.SOCK_RAW, unix.IPPROTO_ICMP, lo4)
	h := openCapture(t, ns, capture.Config{Interface: "lo", Filter: icmpOnlyFilter(t)})
	const id, seq = 0x7273, 9
	req := packet.ICMP{Proto: packet.ProtoICMP, Type: 8, ID: id, Seq: seq, Data: []byte("capture")}
	b, err := req.Append(nil, lo4.Addr(), lo4.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sendto(b, 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	got := readPackets(t, h, 4)
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
	expectNoPacket(t, h, 50*time.Millisecond)
}

// newVethUDP joins two namespaces of the test's own, a and b, with a veth
// pair, and opens a UDP socket in each: src in a, and in b the receiver,
// whose port it returns.
func newVethUDP(t *testing.T) (a, b *netns.Namespace, l *netns.Link, src *rawsock.Conn, pdst uint16) {
	t.Helper()
	needCapture(t)
	tp := netns.New(t)
	a, b = tp.Host("a"), tp.Host("b")
	l = tp.Connect(a, b)
	src = socketInNS(t, a, unix.SOCK_DGRAM, 0, netip.AddrPortFrom(l.A4, 0))
	dst := socketInNS(t, b, unix.SOCK_DGRAM, 0, netip.AddrPortFrom(l.B4, 0))
	return a, b, l, src, localPort(t, dst)
}

// TestVeth captures across a veth pair: on the receiving end by name, and
// on the sending side on all interfaces at once.
func TestVeth(t *testing.T) {
	a, b, l, src, pdst := newVethUDP(t)
	hb := openCapture(t, b, capture.Config{Interface: l.BIf, Filter: udpDstPortFilter(t, pdst)})
	ha := openCapture(t, a, capture.Config{Filter: udpDstPortFilter(t, pdst)})
	if ha.Ifindex() != 0 || hb.Ifindex() == 0 || hb.LinkType() != 1 {
		t.Fatalf("Ifindex %d on all interfaces, %d on %s (LinkType %d)", ha.Ifindex(), hb.Ifindex(), l.BIf, hb.LinkType())
	}
	const n = 3
	for i := range n {
		if _, err := src.SendtoInet([]byte(fmt.Sprint("veth ", i)), 0, netip.AddrPortFrom(l.B4, pdst)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, got []capturedPacket, ptype uint8, ifindex int) {
		for i, p := range got {
			ip, udp, payload := decodeUDP(t, p.data)
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
	check("receiver", readPackets(t, hb, n), unix.PACKET_HOST, hb.Ifindex())
	check("sender", readPackets(t, ha, n), unix.PACKET_OUTGOING, hb.Ifindex()-1) // netns numbers the A end one below
	expectNoPacket(t, hb, 50*time.Millisecond)
}

// TestSnaplen: a packet longer than the snap length is cut, its length on
// the wire kept.
func TestSnaplen(t *testing.T) {
	ns := captureHost(t)
	a := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	b := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	h := openCapture(t, ns, capture.Config{Interface: "lo", Snaplen: 60})
	msg := strings.Repeat("x", 200)
	sendUDPTo(t, a, localPort(t, b), msg)
	for _, p := range readPackets(t, h, 2) {
		if p.ci.CaptureLength != 60 || len(p.data) != 60 || p.ci.Length != 14+20+8+200 {
			t.Errorf("CaptureLength %d (%d bytes), Length %d; want 60 and %d", p.ci.CaptureLength, len(p.data), p.ci.Length, 14+20+8+200)
		}
	}
}

// flood sends datagrams to port to from c until stop is closed, at most
// max of them, and returns how many it sent.
func floodUDP(c *rawsock.Conn, to uint16, max int, stop <-chan struct{}, sent *atomic.Int64) {
	msg := []byte("flood")
	dst := netip.AddrPortFrom(lo4.Addr(), to)
	for i := 0; i < max; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := c.SendtoInet(msg, 0, dst); err == nil {
			sent.Add(1)
		}
	}
}

// TestFilterRace opens 100 captures filtering on one UDP port while lo is
// flooded with datagrams to another: not one of them may deliver a packet
// of the flood, which a socket bound before its filter is attached would.
func TestFilterRace(t *testing.T) {
	ns := captureHost(t)
	sink := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4) // takes the flood, never read
	want := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	src := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	pwant := localPort(t, want)
	stop := make(chan struct{})
	var sent atomic.Int64
	done := make(chan struct{})
	go func() { floodUDP(src, localPort(t, sink), 5_000_000, stop, &sent); close(done) }()
	stopped := false
	stopFlood := func() {
		if !stopped {
			stopped = true
			close(stop)
			<-done
		}
	}
	defer stopFlood()
	for sent.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	// Small rings, but 4 blocks: with 2, the kernel now and then dropped
	// a packet (counted in Drops) with the ring all but empty, as it
	// handed a block over.
	hs := make([]*capture.Handle, 100)
	for i := range hs {
		hs[i] = openCapture(t, ns, capture.Config{Interface: "lo", Filter: udpDstPortFilter(t, pwant), RingBlockSize: 1 << 14, RingBlocks: 4})
	}
	// The flood stops before the wanted datagrams go: while lo's receive
	// backlog (netdev_max_backlog) is full of it, their arriving copies may
	// be dropped before any capture sees them. A datagram to another
	// socket, once it arrives, shows the backlog has drained.
	stopFlood()
	probe := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	probe.SetTimeout(10 * time.Millisecond)
	for deadline := time.Now().Add(captureSlack); ; {
		sendUDPTo(t, src, localPort(t, probe), "probe")
		if _, err := probe.Recv(make([]byte, 16), 0); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lo's backlog still full %v after the flood", captureSlack)
		}
	}
	floodSent := sent.Load()
	const n = 3
	for i := range n {
		sendUDPTo(t, src, pwant, fmt.Sprint("wanted ", i))
	}
	bad := 0
	for i, h := range hs {
		for _, p := range readPackets(t, h, 2*n) {
			if _, udp, _ := decodeUDP(t, p.data); udp.DstPort != pwant {
				bad++
				t.Errorf("handle %d: a datagram to port %d, outside its filter", i, udp.DstPort)
			}
		}
		// Counted by the kernel: what passed the filter, read or dropped.
		if st, err := h.Stats(); err != nil || st.Packets != 2*n {
			t.Errorf("handle %d: Stats %+v, %v; want %d packets through the filter", i, st, err, 2*n)
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
	ns := captureHost(t)
	sink1 := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	sink2 := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	src := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	p1, p2 := localPort(t, sink1), localPort(t, sink2)
	h := openCapture(t, ns, capture.Config{Interface: "lo", Filter: udpDstPortFilter(t, p1), RingBlockSize: 1 << 16, RingBlocks: 4})

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
			sendUDPTo(t, src, p1, "old")
			sendUDPTo(t, src, p2, "new")
		}
	}()
	defer func() { close(stop); <-done }()

	if p := readPackets(t, h, 10); true {
		for _, q := range p {
			if _, udp, _ := decodeUDP(t, q.data); udp.DstPort != p1 {
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
	if err := h.SetFilter(udpDstPortFilter(t, p2)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	filtered.Store(true)
	select {
	case err := <-rdone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(captureSlack):
		t.Fatalf("the reader saw %d packets of the new filter in %v", fresh.Load(), captureSlack)
	}
	if stale.Load() != 0 {
		t.Errorf("%d packets of the old filter read after SetFilter returned", stale.Load())
	}
	t.Logf("SetFilter took %v", took)
}

// TestSetFilterIdle: SetFilter takes the ring from a reader parked on an
// idle interface, which then goes on to read under the new filter.
func TestSetFilterIdle(t *testing.T) {
	ns := captureHost(t)
	a := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	b := socketInNS(t, ns, unix.SOCK_DGRAM, 0, lo4)
	pb := localPort(t, b)
	h := openCapture(t, ns, capture.Config{Interface: "lo", Filter: udpDstPortFilter(t, 9)})
	h.SetReadDeadline(time.Now().Add(captureSlack))
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
	if err := h.SetFilter(udpDstPortFilter(t, pb)); err != nil {
		t.Fatal(err)
	}
	sendUDPTo(t, a, pb, "after")
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, udp, payload := decodeUDP(t, r.b); udp.DstPort != pb || string(payload) != "after" {
		t.Errorf("the parked reader got a datagram to %d %q; want %d \"after\"", udp.DstPort, payload, pb)
	}
}

// TestStats: the totals add up across reads of PACKET_STATISTICS (which
// the kernel resets), and with a ring too small to hold a burst, what was
// read plus what was dropped is what the filter passed.
func TestStats(t *testing.T) {
	u := newUDPLo(t, capture.Config{})
	ns, a, b, pb, h := u.ns, u.a, u.b, u.pb, u.h
	sendUDPTo(t, b, localPort(t, a), "not counted: filtered out")
	for round, want := range []uint64{20, 40} {
		for range 10 {
			sendUDPTo(t, a, pb, "counted")
		}
		readPackets(t, h, 20)
		for range 2 { // the second read finds the kernel's counters at 0
			st, err := h.Stats()
			if err != nil || st != (capture.Stats{Packets: want}) {
				t.Fatalf("round %d: Stats %+v, %v; want %d packets, 0 drops", round, st, err, want)
			}
		}
	}

	small := openCapture(t, ns, capture.Config{Interface: "lo", Filter: udpDstPortFilter(t, pb), RingBlockSize: 4096, RingBlocks: 2})
	msg := strings.Repeat("y", 500)
	for range 200 {
		sendUDPTo(t, a, pb, msg)
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
	ns := captureHost(t)
	var waits []time.Duration
	for range 10 {
		h := openCapture(t, ns, capture.Config{Interface: "lo"})
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
		case <-time.After(captureSlack):
			t.Fatalf("ReadPacket still parked %v after Close", captureSlack)
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
	ns := captureHost(t)
	h := openCapture(t, ns, capture.Config{Interface: "lo"})
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
	u := newUDPLo(t, capture.Config{RingBlockSize: 1 << 16})
	a, pb, h := u.a, u.pb, u.h
	for range 300 {
		sendUDPTo(t, a, pb, "alloc")
	}
	h.SetReadDeadline(time.Now().Add(captureSlack))
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
	ns := captureHost(t)
	var mu sync.Mutex
	var buf bytes.Buffer
	rawsock.SetTrace(traceWriter(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	h := openCapture(t, ns, capture.Config{Interface: "lo"})
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

type traceWriter func([]byte) (int, error)

func (f traceWriter) Write(p []byte) (int, error) { return f(p) }

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
	h := openCapture(t, b, capture.Config{Interface: l.BIf, Promiscuous: true})
	if p := promiscuity(); p != "1" {
		t.Errorf("promiscuity %s with the capture open, want 1", p)
	}
	h.Close()
	if p := promiscuity(); p != "0" {
		t.Errorf("promiscuity %s after Close, want 0", p)
	}
}

// TestSetFilterRefused: a program the kernel's checker refuses leaves the
// old filter in place.
func TestSetFilterRefused(t *testing.T) {
	u := newUDPLo(t, capture.Config{})
	a, pb, h := u.a, u.pb, u.h
	if err := h.SetFilter(jumpPastEnd); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("SetFilter(a jump past the end): %v, want EINVAL", err)
	}
	sendUDPTo(t, a, localPort(t, a), "filtered out")
	sendUDPTo(t, a, pb, "kept")
	for _, p := range readPackets(t, h, 2) {
		if _, udp, payload := decodeUDP(t, p.data); udp.DstPort != pb || string(payload) != "kept" {
			t.Errorf("after the refused SetFilter: a datagram to %d %q; want %d \"kept\"", udp.DstPort, payload, pb)
		}
	}
}

// TestInterfaceDown: a reader parked on an interface that goes down
// returns ENETDOWN, and reads again once it is back up.
func TestInterfaceDown(t *testing.T) {
	_, b, l, src, pdst := newVethUDP(t)
	h := openCapture(t, b, capture.Config{Interface: l.BIf, Filter: udpDstPortFilter(t, pdst)})
	h.SetReadDeadline(time.Now().Add(captureSlack))
	errc := make(chan error, 1)
	go func() {
		_, _, err := h.ReadPacket()
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	b.IP("link", "set", l.BIf, "down")
	if err := <-errc; !errors.Is(err, unix.ENETDOWN) {
		t.Fatalf("ReadPacket as %s went down: %v, want ENETDOWN", l.BIf, err)
	}
	b.IP("link", "set", l.BIf, "up")
	// The link needs a moment to carry again: resend until one arrives.
	got := make(chan error, 1)
	go func() {
		_, _, err := h.ReadPacket()
		got <- err
	}()
	for {
		src.SendtoInet([]byte("back"), 0, netip.AddrPortFrom(l.B4, pdst))
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("ReadPacket once %s is back up: %v", l.BIf, err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
