package packet

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Echo requests with checksums computed apart from this package: ICMPv4 id
// 0x1234 seq 1 with Windows ping's 32 data bytes, and ICMPv6 2001:db8::1 ->
// 2001:db8::2 id 7 seq 9 data "ping" (checksum over the pseudo-header).
const (
	echo4     = "08003b27123400016162636465666768696a6b6c6d6e6f7071727374757677616263646566676869"
	echo4Data = "abcdefghijklmnopqrstuvwabcdefghi"
	echo6     = "800045630007000970696e67"
)

func TestICMPEchoKnownAnswer(t *testing.T) {
	tests := []struct {
		name     string
		m        ICMP
		src, dst netip.Addr
		want     string
	}{
		{"ICMPv4", ICMP{Proto: ProtoICMP, Type: ICMPv4EchoRequest, ID: 0x1234, Seq: 1, Data: []byte(echo4Data)}, netip.Addr{}, netip.Addr{}, echo4},
		{"ICMPv6", ICMP{Proto: ProtoICMPv6, Type: ICMPv6EchoRequest, ID: 7, Seq: 9, Data: []byte("ping")}, addrA6, addrB6, echo6},
		// Without addresses the ICMPv6 checksum is left for the kernel.
		{"ICMPv6 no pseudo-header", ICMP{Proto: ProtoICMPv6, Type: ICMPv6EchoRequest, ID: 7, Seq: 9, Data: []byte("ping")}, netip.Addr{}, netip.Addr{}, "800000000007000970696e67"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Append(nil, tt.src, tt.dst)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("Append:\n got %x\nwant %x", got, want)
			}
			var p ICMP
			if err := p.Parse(tt.m.Proto, got); err != nil {
				t.Fatal(err)
			}
			if !p.IsEchoRequest() || p.IsEchoReply() || !p.IsEcho() || p.IsError() || p.ID != tt.m.ID || p.Seq != tt.m.Seq || !bytes.Equal(p.Data, tt.m.Data) {
				t.Errorf("Parse: %+v", p)
			}
			if p.Quoted.Version != 0 {
				t.Errorf("echo has a quoted datagram: %+v", p.Quoted)
			}
			if tt.src.IsValid() || tt.m.Proto == ProtoICMP {
				if err := VerifyICMPChecksum(tt.m.Proto, tt.src, tt.dst, got); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestICMPXNet checks the bytes against x/net/icmp both ways.
func TestICMPXNet(t *testing.T) {
	for _, tc := range []struct {
		proto    int
		typ      icmp.Type
		src, dst netip.Addr
		hexMsg   string
		id, seq  int
		data     string
	}{
		{ProtoICMP, ipv4.ICMPTypeEcho, netip.Addr{}, netip.Addr{}, echo4, 0x1234, 1, echo4Data},
		{ProtoICMPv6, ipv6.ICMPTypeEchoRequest, addrA6, addrB6, echo6, 7, 9, "ping"},
	} {
		want := mustHex(t, tc.hexMsg)
		m, err := ParseMessage(tc.proto, want)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || m.Type != tc.typ || e.ID != tc.id || e.Seq != tc.seq || string(e.Data) != tc.data {
			t.Errorf("x/net parse of our bytes: %+v %+v", m, m.Body)
		}
		b, err := MarshalMessage(&icmp.Message{Type: tc.typ, Body: &icmp.Echo{ID: tc.id, Seq: tc.seq, Data: []byte(tc.data)}}, tc.src, tc.dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("MarshalMessage:\n got %x\nwant %x", b, want)
		}
	}
	if _, err := ParseMessage(ProtoICMP, []byte{8, 0}); !errors.Is(err, ErrTruncated) {
		t.Errorf("ParseMessage of 2 bytes: %v, want ErrTruncated", err)
	}
	if _, err := ParseMessage(17, mustHex(t, echo4)); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseMessage with protocol 17: %v, want ErrMalformed", err)
	}
	if _, err := MarshalMessage(&icmp.Message{}, netip.Addr{}, netip.Addr{}); err == nil {
		t.Error("MarshalMessage without a type succeeded")
	}
	if _, err := MarshalMessage(&icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{}}, addrA4, addrB4); err == nil {
		t.Error("MarshalMessage of ICMPv6 with IPv4 addresses succeeded")
	}
}

// probe4 builds the IPv4 packet a prober sends.
func probe4(t testing.TB, proto uint8, opts []byte, transport []byte) []byte {
	t.Helper()
	h := IPv4{ID: 99, TTL: 1, Protocol: proto, Src: addrA4, Dst: addrB4, Options: opts}
	b, err := h.Append(nil, transport)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func probe6(t testing.TB, next uint8, transport []byte) []byte {
	t.Helper()
	h := IPv6{NextHeader: next, HopLimit: 1, Src: addrA6, Dst: addrB6}
	b, err := h.Append(nil, transport)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func icmpError(t testing.TB, proto int, typ, code uint8, rest uint32, quoted []byte) []byte {
	t.Helper()
	m := ICMP{Proto: proto, Type: typ, Code: code, ID: uint16(rest >> 16), Seq: uint16(rest), Data: quoted}
	b, err := m.Append(nil, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestICMPErrorQuoted(t *testing.T) {
	udp, err := (&UDP{SrcPort: 50000, DstPort: 33434}).Append(nil, addrA4, addrB4, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	udpProbe := probe4(t, ProtoUDP, nil, udp)
	echoProbe := probe4(t, ProtoICMP, nil, mustHex(t, echo4))
	optProbe := probe4(t, ProtoUDP, []byte{148, 4, 0, 0}, udp)
	tcp, err := (&TCP{SrcPort: 40001, DstPort: 443, Flags: TCPSyn}).Append(nil, addrA4, addrB4, nil)
	if err != nil {
		t.Fatal(err)
	}
	tcpProbe := probe4(t, ProtoTCP, nil, tcp)
	udp6, err := (&UDP{SrcPort: 50001, DstPort: 33435}).Append(nil, addrA6, addrB6, make([]byte, 8))
	if err != nil {
		t.Fatal(err)
	}
	fragHdr := []byte{ProtoUDP, 0, 0, 0, 0, 0, 0, 42}
	laterFrag := []byte{ProtoUDP, 0, 0, 8, 0, 0, 0, 42}
	echo6Probe := probe6(t, ProtoICMPv6, mustHex(t, echo6))
	// An RFC 4884 extension structure: version 2 header, one empty object.
	ext := []byte{0x20, 0, 0, 0, 0, 4, 1, 1}

	type want struct {
		version          uint8
		proto            uint8
		sport, dport     uint16
		hasPorts         bool
		id, seq          uint16
		hasEcho          bool
		payloadLen       int
		mtu              int
		fragment         bool
		describedAsError bool
	}
	tests := []struct {
		name  string
		proto int
		msg   []byte
		want  want
	}{
		{"time exceeded, UDP probe, 8 bytes quoted (RFC 792)", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, udpProbe[:28]),
			want{version: 4, proto: ProtoUDP, sport: 50000, dport: 33434, hasPorts: true, payloadLen: 8}},
		{"port unreachable, whole UDP probe quoted (RFC 1812)", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4DestUnreach, 3, 0, udpProbe),
			want{version: 4, proto: ProtoUDP, sport: 50000, dport: 33434, hasPorts: true, payloadLen: 40}},
		{"time exceeded, echo probe", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, echoProbe[:28]),
			want{version: 4, proto: ProtoICMP, id: 0x1234, seq: 1, hasEcho: true, payloadLen: 8}},
		{"host unreachable, probe with IP options", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4DestUnreach, 1, 0, optProbe[:32]),
			want{version: 4, proto: ProtoUDP, sport: 50000, dport: 33434, hasPorts: true, payloadLen: 8}},
		{"time exceeded, TCP SYN probe", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, tcpProbe[:28]),
			want{version: 4, proto: ProtoTCP, sport: 40001, dport: 443, hasPorts: true, payloadLen: 8}},
		{"fragmentation needed, MTU 1400", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4DestUnreach, 4, 1400, udpProbe[:28]),
			want{version: 4, proto: ProtoUDP, sport: 50000, dport: 33434, hasPorts: true, payloadLen: 8, mtu: 1400}},
		{"only 4 bytes of UDP quoted", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, udpProbe[:24]),
			want{version: 4, proto: ProtoUDP, sport: 50000, dport: 33434, hasPorts: true, payloadLen: 4}},
		{"no transport bytes quoted", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, udpProbe[:20]),
			want{version: 4, proto: ProtoUDP, payloadLen: 0}},
		{"RFC 4884: length 7 words, then extensions", ProtoICMP,
			icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 7<<16, append(udpProbe[:28:28], ext...)),
			want{version: 4, proto: ProtoUDP, sport: 50000, dport: 33434, hasPorts: true, payloadLen: 8}},
		{"ICMPv6 time exceeded, echo probe", ProtoICMPv6,
			icmpError(t, ProtoICMPv6, ICMPv6TimeExceeded, 0, 0, echo6Probe),
			want{version: 6, proto: ProtoICMPv6, id: 7, seq: 9, hasEcho: true, payloadLen: 12}},
		{"ICMPv6 port unreachable, UDP after a fragment header", ProtoICMPv6,
			icmpError(t, ProtoICMPv6, ICMPv6DestUnreach, 4, 0, probe6(t, ipv6Fragment, append(fragHdr, udp6...))),
			want{version: 6, proto: ProtoUDP, sport: 50001, dport: 33435, hasPorts: true, payloadLen: 16}},
		{"ICMPv6 time exceeded, later fragment", ProtoICMPv6,
			icmpError(t, ProtoICMPv6, ICMPv6TimeExceeded, 1, 0, probe6(t, ipv6Fragment, append(laterFrag, udp6...))),
			want{version: 6, proto: ipv6Fragment, payloadLen: 16, fragment: true}},
		{"ICMPv6 packet too big, MTU 1280, cut short", ProtoICMPv6,
			icmpError(t, ProtoICMPv6, ICMPv6PacketTooBig, 0, 1280, probe6(t, ProtoUDP, udp6)[:44]),
			want{version: 6, proto: ProtoUDP, sport: 50001, dport: 33435, hasPorts: true, payloadLen: 4, mtu: 1280}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ICMP
			if err := m.Parse(tt.proto, tt.msg); err != nil {
				t.Fatal(err)
			}
			if err := VerifyICMPChecksum(tt.proto, addrA6, addrB6, tt.msg); tt.proto == ProtoICMP && err != nil {
				t.Error(err)
			}
			q := &m.Quoted
			if !m.IsError() || m.IsEcho() {
				t.Errorf("IsError %v IsEcho %v", m.IsError(), m.IsEcho())
			}
			w := tt.want
			if q.Version != w.version || q.Protocol != w.proto || len(q.Payload) != w.payloadLen || q.Fragment != w.fragment {
				t.Errorf("quoted version %d protocol %d payload %d bytes fragment %v; want %d, %d, %d, %v",
					q.Version, q.Protocol, len(q.Payload), q.Fragment, w.version, w.proto, w.payloadLen, w.fragment)
			}
			sp, dp, ok := q.Ports()
			if ok != w.hasPorts || sp != w.sport || dp != w.dport {
				t.Errorf("Ports() = %d, %d, %v; want %d, %d, %v", sp, dp, ok, w.sport, w.dport, w.hasPorts)
			}
			id, seq, ok := q.Echo()
			if ok != w.hasEcho || id != w.id || seq != w.seq {
				t.Errorf("Echo() = %d, %d, %v; want %d, %d, %v", id, seq, ok, w.id, w.seq, w.hasEcho)
			}
			if got := m.MTU(); got != w.mtu {
				t.Errorf("MTU() = %d, want %d", got, w.mtu)
			}
			src, dst := addrA4, addrB4
			if w.version == 6 {
				src, dst = addrA6, addrB6
			}
			if q.Src() != src || q.Dst() != dst {
				t.Errorf("quoted %v -> %v, want %v -> %v", q.Src(), q.Dst(), src, dst)
			}
		})
	}
}

// TestQuotedXNet parses the Data of x/net's TimeExceeded body.
func TestQuotedXNet(t *testing.T) {
	udp, err := (&UDP{SrcPort: 50000, DstPort: 33434}).Append(nil, addrA4, addrB4, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, probe4(t, ProtoUDP, nil, udp))
	m, err := ParseMessage(ProtoICMP, msg)
	if err != nil {
		t.Fatal(err)
	}
	te, ok := m.Body.(*icmp.TimeExceeded)
	if !ok {
		t.Fatalf("x/net body %T", m.Body)
	}
	var q Quoted
	if err := q.Parse(ProtoICMP, te.Data); err != nil {
		t.Fatal(err)
	}
	if s, d, ok := q.Ports(); !ok || s != 50000 || d != 33434 {
		t.Errorf("Ports() = %d, %d, %v", s, d, ok)
	}
	if err := q.Parse(3, te.Data); !errors.Is(err, ErrMalformed) {
		t.Errorf("Parse with protocol 3: %v", err)
	}
}

func TestICMPParseErrors(t *testing.T) {
	udpProbe := probe4(t, ProtoUDP, nil, append([]byte{1, 2, 3, 4, 0, 32, 0, 0}, make([]byte, 24)...))
	badVersion := append([]byte(nil), udpProbe...)
	badVersion[0] = 0x65
	tests := []struct {
		name  string
		proto int
		b     []byte
		kind  error
	}{
		{"protocol 17", ProtoUDP, mustHex(t, echo4), ErrMalformed},
		{"empty", ProtoICMP, nil, ErrTruncated},
		{"7 bytes", ProtoICMP, mustHex(t, echo4)[:7], ErrTruncated},
		{"error quoting nothing", ProtoICMP, icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, nil), ErrTruncated},
		{"error quoting 19 bytes", ProtoICMP, icmpError(t, ProtoICMP, ICMPv4DestUnreach, 3, 0, udpProbe[:19]), ErrTruncated},
		{"error quoting version 6 in ICMPv4", ProtoICMP, icmpError(t, ProtoICMP, ICMPv4DestUnreach, 3, 0, badVersion), ErrMalformed},
		{"ICMPv6 error quoting IPv4", ProtoICMPv6, icmpError(t, ProtoICMPv6, ICMPv6DestUnreach, 3, 0, udpProbe), ErrMalformed},
		{"ICMPv6 error quoting a cut extension header", ProtoICMPv6,
			icmpError(t, ProtoICMPv6, ICMPv6TimeExceeded, 0, 0, probe6(t, ipv6HopByHop, []byte{ProtoUDP, 1, 0, 0, 0, 0, 0, 0, 0, 0})), ErrTruncated},
	}
	// A time exceeded quoting an echo request, parsed first into the
	// reused ICMP: nothing of it may survive a failed parse.
	stale := icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, probe4(t, ProtoICMP, nil, mustHex(t, echo4)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ICMP
			if err := m.Parse(ProtoICMP, stale); err != nil || !m.IsError() || m.Quoted.Version != 4 {
				t.Fatalf("the first parse: %v, %+v", err, m)
			}
			err := m.Parse(tt.proto, tt.b)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Parse: %v, want an error matching %v", err, tt.kind)
			}
			t.Log(err)
			if m.Quoted.Version != 0 || m.Quoted.Payload != nil {
				t.Errorf("the quoted datagram of the message before survived: %+v", m.Quoted)
			}
			if len(tt.b) >= 8 && tt.proto != ProtoUDP {
				if m.Type != tt.b[0] {
					t.Errorf("Type %d not set on a quoted-datagram error", m.Type)
				}
				return
			}
			// Failed before the header: nothing is set, nothing is an
			// error message.
			if m.Proto != 0 || m.Type != 0 || m.Code != 0 || m.ID != 0 || m.Seq != 0 || m.Data != nil || m.IsError() {
				t.Errorf("fields of the message before survived: %+v", m)
			}
		})
	}
}

func TestICMPAppendErrors(t *testing.T) {
	m := ICMP{Proto: 17}
	if _, err := m.Append(nil, netip.Addr{}, netip.Addr{}); err == nil {
		t.Error("Append with protocol 17 succeeded")
	}
	m = ICMP{Proto: ProtoICMPv6, Type: ICMPv6EchoRequest}
	if _, err := m.Append(nil, addrA4, addrB6); err == nil {
		t.Error("ICMPv6 Append with mixed addresses succeeded")
	}
}

func TestVerifyICMPChecksum(t *testing.T) {
	b4, b6 := mustHex(t, echo4), mustHex(t, echo6)
	if err := VerifyICMPChecksum(ProtoICMP, netip.Addr{}, netip.Addr{}, b4); err != nil {
		t.Error(err)
	}
	if err := VerifyICMPChecksum(ProtoICMPv6, addrA6, addrB6, b6); err != nil {
		t.Error(err)
	}
	if err := VerifyICMPChecksum(ProtoICMPv6, addrB6, addrA6, b6); err != nil {
		t.Error("swapping source and destination keeps the sum:", err)
	}
	if err := VerifyICMPChecksum(ProtoICMPv6, addrA6, netip.MustParseAddr("2001:db8::3"), b6); !errors.Is(err, ErrChecksum) {
		t.Errorf("wrong pseudo-header: %v", err)
	}
	b4[9] ^= 1
	if err := VerifyICMPChecksum(ProtoICMP, netip.Addr{}, netip.Addr{}, b4); !errors.Is(err, ErrChecksum) {
		t.Errorf("corrupted: %v", err)
	}
	for _, p := range []int{ProtoICMP, ProtoICMPv6, 0} {
		if err := VerifyICMPChecksum(p, addrA6, addrB6, b6[:7]); err == nil {
			t.Errorf("protocol %d, 7 bytes: no error", p)
		}
	}
	if err := VerifyICMPChecksum(0, addrA6, addrB6, b6); err == nil {
		t.Error("protocol 0: no error")
	}
}

func TestICMPDescribe(t *testing.T) {
	tests := []struct {
		proto     int
		typ, code uint8
		want      string
	}{
		{ProtoICMP, 8, 0, "echo request"},
		{ProtoICMP, 0, 0, "echo reply"},
		{ProtoICMP, 3, 3, "destination unreachable (port unreachable)"},
		{ProtoICMP, 3, 99, "destination unreachable"},
		{ProtoICMP, 11, 0, "time exceeded (time to live exceeded in transit)"},
		{ProtoICMP, 200, 0, "type 200"},
		{ProtoICMPv6, 1, 4, "destination unreachable (port unreachable)"},
		{ProtoICMPv6, 3, 0, "time exceeded (hop limit exceeded in transit)"},
		{ProtoICMPv6, 128, 0, "echo request"},
	}
	for _, tt := range tests {
		if got := icmpDescribe(tt.proto, tt.typ, tt.code); got != tt.want {
			t.Errorf("icmpDescribe(%d, %d, %d) = %q, want %q", tt.proto, tt.typ, tt.code, got, tt.want)
		}
	}
}

func TestICMPAllocs(t *testing.T) {
	echo := mustHex(t, echo4)
	udp, err := (&UDP{SrcPort: 1, DstPort: 2}).Append(nil, addrA4, addrB4, nil)
	if err != nil {
		t.Fatal(err)
	}
	te := icmpError(t, ProtoICMP, ICMPv4TimeExceeded, 0, 0, probe4(t, ProtoUDP, []byte{148, 4, 0, 0}, udp))
	echo6 := mustHex(t, echo6)
	te6 := icmpError(t, ProtoICMPv6, ICMPv6TimeExceeded, 0, 0, probe6(t, ProtoICMPv6, echo6))
	var m ICMP
	out := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() {
		for _, c := range []struct {
			proto int
			b     []byte
		}{{ProtoICMP, echo}, {ProtoICMP, te}, {ProtoICMPv6, te6}} {
			if err := m.Parse(c.proto, c.b); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Parse(ProtoICMP, echo); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Append(out[:0], netip.Addr{}, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
		if err := VerifyICMPChecksum(ProtoICMPv6, addrA6, addrB6, echo6); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ICMP Parse (echo, time exceeded), Append and Verify allocate %v times per run, want 0", n)
	}
}

// BenchmarkICMPParse times the receive path of a raw-socket ping or
// traceroute: IPv4 header, then the ICMP message and its quoted datagram.
func BenchmarkICMPParse(b *testing.B) {
	udp, err := (&UDP{SrcPort: 50000, DstPort: 33434}).Append(nil, addrA4, addrB4, nil)
	if err != nil {
		b.Fatal(err)
	}
	echoReply := mustHex(b, echo4)
	echoReply[0] = ICMPv4EchoReply
	for name, msg := range map[string][]byte{
		"echo-reply":    echoReply,
		"time-exceeded": icmpError(b, ProtoICMP, ICMPv4TimeExceeded, 0, 0, probe4(b, ProtoUDP, nil, udp)),
	} {
		pkt, err := (&IPv4{TTL: 64, Protocol: ProtoICMP, Src: addrB4, Dst: addrA4}).Append(nil, msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var ip IPv4
			var m ICMP
			b.ReportAllocs()
			for b.Loop() {
				p, err := ip.Parse(pkt)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Parse(ProtoICMP, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("x/net-ParseMessage-echo-reply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := icmp.ParseMessage(ProtoICMP, echoReply); err != nil {
				b.Fatal(err)
			}
		}
	})
}
