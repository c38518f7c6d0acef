package traceroute

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/rawsock/rawsock/rawsock/packet"
)

var (
	mSrc4, mDst4, mHop4 = netip.MustParseAddr("10.0.1.1"), netip.MustParseAddr("10.0.4.2"), netip.MustParseAddr("10.0.2.2")
	mSrc6, mDst6, mHop6 = netip.MustParseAddr("fd00:0:0:1::1"), netip.MustParseAddr("fd00:0:0:4::2"), netip.MustParseAddr("fd00:0:0:2::2")
)

const (
	mID    = 0x4242
	mBase  = 1000
	mSport = 50000
	mDport = 80
)

var mISN = uint32(0xfffffff0) // the probes' sequence numbers wrap past 2^32

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// ip wraps payload in an IPv4 header, or returns it alone for IPv6 (raw
// ICMPv6 and TCP sockets deliver no IPv6 header).
func ip(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	if dst.Is6() {
		return payload
	}
	h := packet.IPv4{TTL: 61, Protocol: proto, Src: src, Dst: dst}
	return must(h.Append(nil, payload))
}

// probeEcho and probeSYN are probes as sent, IP header included.
func probeEcho(v6 bool, id, seq uint16) []byte {
	src, dst, proto, typ := mSrc4, mDst4, packet.ProtoICMP, uint8(packet.ICMPv4EchoRequest)
	if v6 {
		src, dst, proto, typ = mSrc6, mDst6, packet.ProtoICMPv6, packet.ICMPv6EchoRequest
	}
	m := packet.ICMP{Proto: proto, Type: typ, ID: id, Seq: seq, Data: make([]byte, 32)}
	return withIP(src, dst, uint8(proto), must(m.Append(nil, src, dst)))
}

func probeSYN(v6 bool, sport, dport uint16, seq uint32) []byte {
	src, dst := mSrc4, mDst4
	if v6 {
		src, dst = mSrc6, mDst6
	}
	h := packet.TCP{SrcPort: sport, DstPort: dport, Seq: seq, Flags: packet.TCPSyn, Window: 64240}
	return withIP(src, dst, packet.ProtoTCP, must(h.Append(nil, src, dst, nil)))
}

func withIP(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	if dst.Is6() {
		h := packet.IPv6{NextHeader: proto, HopLimit: 1, Src: src, Dst: dst}
		return must(h.Append(nil, payload))
	}
	h := packet.IPv4{TTL: 1, Protocol: proto, Src: src, Dst: dst}
	return must(h.Append(nil, payload))
}

// icmpErr is an ICMP error from a router quoting probe (its first n bytes).
func icmpErr(v6 bool, typ, code uint8, probe []byte, n int) []byte {
	proto, from, to := packet.ProtoICMP, mHop4, mSrc4
	if v6 {
		proto, from, to = packet.ProtoICMPv6, mHop6, mSrc6
	}
	if n > len(probe) {
		n = len(probe)
	}
	m := packet.ICMP{Proto: proto, Type: typ, Code: code, Data: probe[:n]}
	return ip(from, to, uint8(proto), must(m.Append(nil, from, to)))
}

func echoReply(v6 bool, id, seq uint16) []byte {
	proto, typ, from, to := packet.ProtoICMP, uint8(packet.ICMPv4EchoReply), mDst4, mSrc4
	if v6 {
		proto, typ, from, to = packet.ProtoICMPv6, packet.ICMPv6EchoReply, mDst6, mSrc6
	}
	m := packet.ICMP{Proto: proto, Type: typ, ID: id, Seq: seq, Data: make([]byte, 32)}
	return ip(from, to, uint8(proto), must(m.Append(nil, from, to)))
}

func tcpAnswer(v6 bool, sport, dport uint16, ack uint32, flags packet.TCPFlags) []byte {
	from, to := mDst4, mSrc4
	if v6 {
		from, to = mDst6, mSrc6
	}
	h := packet.TCP{SrcPort: sport, DstPort: dport, Seq: 7, Ack: ack, Flags: flags, Window: 100}
	return ip(from, to, packet.ProtoTCP, must(h.Append(nil, from, to, nil)))
}

func newMatcher(method Method, v6 bool) *matcher {
	m := &matcher{method: method, v6: v6, dst: mDst4, n: 90, id: mID, base: mBase, sport: mSport, dport: mDport}
	if method == TCP {
		m.base = mISN
	}
	if v6 {
		m.dst = mDst6
	}
	return m
}

// TestMatcher: each answer to one of the trace's probes is matched to it,
// with the right kind; what quotes or acknowledges anything else is not.
func TestMatcher(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		te, unreach, portUnreach := uint8(11), uint8(3), uint8(3)
		hop, dst := mHop4, mDst4
		if v6 {
			te, unreach, portUnreach, hop, dst = 3, 1, 4, mHop6, mDst6
		}
		type tc struct {
			name   string
			method Method
			pkt    []byte
			tcp    bool // read from the raw TCP socket
			seq    int  // -1: no match
			kind   Kind
			from   netip.Addr
		}
		cases := []tc{
			{"icmp time exceeded", ICMP, icmpErr(v6, te, 0, probeEcho(v6, mID, mBase+5), 1000), false, 5, TimeExceeded, hop},
			{"icmp time exceeded, 8 bytes quoted", ICMP, icmpErr(v6, te, 0, probeEcho(v6, mID, mBase+89), ipLen(v6)+8), false, 89, TimeExceeded, hop},
			{"icmp echo reply", ICMP, echoReply(v6, mID, mBase), false, 0, EchoReply, dst},
			{"icmp echo reply, seq wraps", ICMP, echoReply(v6, mID, mBase+7), false, 7, EchoReply, dst},
			{"icmp unreachable", ICMP, icmpErr(v6, unreach, 1, probeEcho(v6, mID, mBase+3), 1000), false, 3, Unreachable, hop},
			{"icmp another id", ICMP, icmpErr(v6, te, 0, probeEcho(v6, mID+1, mBase), 1000), false, -1, 0, hop},
			{"icmp reply, another id", ICMP, echoReply(v6, mID+1, mBase), false, -1, 0, dst},
			{"icmp seq past the trace", ICMP, echoReply(v6, mID, mBase+90), false, -1, 0, dst},
			{"icmp seq before the trace", ICMP, echoReply(v6, mID, mBase-1), false, -1, 0, dst},
			{"icmp quote cut in the header", ICMP, icmpErr(v6, te, 0, probeEcho(v6, mID, mBase), 10), false, -1, 0, hop},
			{"icmp quoted TCP", ICMP, icmpErr(v6, te, 0, probeSYN(v6, mSport, mDport, mBase), 1000), false, -1, 0, hop},
			{"icmp echo request (our own, on lo)", ICMP, asReceived(v6, probeEcho(v6, mID, mBase)), false, -1, 0, dst},
			{"tcp time exceeded", TCP, icmpErr(v6, te, 0, probeSYN(v6, mSport, mDport, mISN+4), 1000), false, 4, TimeExceeded, hop},
			{"tcp port unreachable, 8 bytes quoted", TCP, icmpErr(v6, unreach, portUnreach, probeSYN(v6, mSport, mDport, mISN+20), ipLen(v6)+8), false, 20, PortUnreachable, hop},
			{"tcp quote of 4 bytes: no seq", TCP, icmpErr(v6, te, 0, probeSYN(v6, mSport, mDport, mISN), ipLen(v6)+4), false, -1, 0, hop},
			{"tcp quote, another port", TCP, icmpErr(v6, te, 0, probeSYN(v6, mSport+1, mDport, mISN), 1000), false, -1, 0, hop},
			{"tcp syn-ack", TCP, tcpAnswer(v6, mDport, mSport, mISN+1, packet.TCPSyn|packet.TCPAck), true, 0, SynAck, dst},
			{"tcp rst, ack wraps past 2^32", TCP, tcpAnswer(v6, mDport, mSport, mISN+30, packet.TCPRst|packet.TCPAck), true, 29, Reset, dst},
			{"tcp syn-ack to another port", TCP, tcpAnswer(v6, mDport, mSport+1, mISN+1, packet.TCPSyn|packet.TCPAck), true, -1, 0, dst},
			{"tcp from another port", TCP, tcpAnswer(v6, mDport+1, mSport, mISN+1, packet.TCPSyn|packet.TCPAck), true, -1, 0, dst},
			{"tcp rst without ack", TCP, tcpAnswer(v6, mDport, mSport, mISN+1, packet.TCPRst), true, -1, 0, dst},
			{"tcp plain ack", TCP, tcpAnswer(v6, mDport, mSport, mISN+1, packet.TCPAck), true, -1, 0, dst},
			{"tcp ack of no probe", TCP, tcpAnswer(v6, mDport, mSport, mISN+91, packet.TCPSyn|packet.TCPAck), true, -1, 0, dst},
		}
		for _, c := range cases {
			m := newMatcher(c.method, v6)
			var r reply
			var ok bool
			if c.tcp {
				r, ok = m.tcpPacket(c.pkt, c.from)
			} else {
				r, ok = m.icmpPacket(c.pkt, c.from)
			}
			switch {
			case c.seq < 0 && ok:
				t.Errorf("v6 %v, %s: matched probe %d", v6, c.name, r.seq)
			case c.seq >= 0 && (!ok || r.seq != c.seq || r.kind != c.kind || r.from != c.from):
				t.Errorf("v6 %v, %s: matched %v, probe %d, %v from %v; want probe %d, %v from %v", v6, c.name, ok, r.seq, r.kind, r.from, c.seq, c.kind, c.from)
			}
		}
	}
}

// asReceived is a packet as a raw socket delivers it: an IPv6 one without
// its header.
func asReceived(v6 bool, pkt []byte) []byte {
	if v6 {
		return pkt[packet.IPv6HeaderLen:]
	}
	return pkt
}

func ipLen(v6 bool) int {
	if v6 {
		return packet.IPv6HeaderLen
	}
	return packet.IPv4HeaderLen
}

// TestMatcherOtherDestination: an error quoting a probe to another
// destination (another trace's) is not ours.
func TestMatcherOtherDestination(t *testing.T) {
	m := newMatcher(ICMP, false)
	m.dst = netip.MustParseAddr("10.9.9.9")
	if r, ok := m.icmpPacket(icmpErr(false, 11, 0, probeEcho(false, mID, mBase), 1000), mHop4); ok {
		t.Errorf("matched probe %d of a trace to another destination", r.seq)
	}
}

// TestMatcherAllocs: matching reuses the matcher's parse structs.
func TestMatcherAllocs(t *testing.T) {
	m := newMatcher(TCP, false)
	te := icmpErr(false, 11, 0, probeSYN(false, mSport, mDport, mISN+4), 1000)
	syn := tcpAnswer(false, mDport, mSport, mISN+1, packet.TCPSyn|packet.TCPAck)
	if n := testing.AllocsPerRun(100, func() {
		m.icmpPacket(te, netip.Addr{})
		m.tcpPacket(syn, netip.Addr{})
	}); n != 0 {
		t.Errorf("%v allocations per match, want 0", n)
	}
}

// fuzzSeeds are the packets of TestMatcher, for both fuzz targets.
func fuzzSeeds(f *testing.F) {
	for _, v6 := range []bool{false, true} {
		for _, b := range [][]byte{
			icmpErr(v6, 11, 0, probeEcho(v6, mID, mBase+5), 1000),
			icmpErr(v6, 3, 1, probeSYN(v6, mSport, mDport, mISN+4), 1000),
			echoReply(v6, mID, mBase),
			tcpAnswer(v6, mDport, mSport, mISN+1, packet.TCPSyn|packet.TCPAck),
		} {
			f.Add(b, v6, uint8(ICMP))
			f.Add(b, v6, uint8(TCP))
		}
	}
}

// FuzzMatch feeds untrusted bytes to the matcher as both raw sockets
// deliver them: it must never panic, and a match must name a probe of the
// trace and come from the destination when it is an answer only the
// destination gives.
func FuzzMatch(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool, method uint8) {
		mt := Method(method % 3)
		if mt == UDP {
			mt = ICMP
		}
		m := newMatcher(mt, v6)
		for _, tcp := range []bool{false, true} {
			from := mDst4
			if v6 {
				from = mDst6
			}
			var r reply
			var ok bool
			if tcp {
				r, ok = m.tcpPacket(b, from)
			} else {
				r, ok = m.icmpPacket(b, from)
			}
			if !ok {
				continue
			}
			if r.seq < 0 || r.seq >= m.n {
				t.Fatalf("matched probe %d of %d", r.seq, m.n)
			}
			if (r.kind == SynAck || r.kind == Reset) && r.from != m.dst {
				t.Fatalf("%v from %v, not the destination %v", r.kind, r.from, m.dst)
			}
			if r.kind == NoAnswer {
				t.Fatal("a match with no kind")
			}
		}
	})
}

// TestFuzzCorpusPresent keeps the seed corpus honest: FuzzMatch's testdata
// directory exists and holds inputs (go test runs them with the seeds).
func TestFuzzCorpusPresent(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzMatch"))
	if err != nil || len(ents) == 0 {
		t.Errorf("no seed corpus in testdata/fuzz/FuzzMatch: %v", err)
	}
}
