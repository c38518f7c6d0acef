package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/packet"
)

// The corpus: frames of every kind the printer decodes, and of the kinds it
// must survive, built with package packet. The addresses are documentation
// ranges and the frames only ever go into files: nothing here is sent.

var (
	corpusMAC1 = packet.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	corpusMAC2 = packet.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	corpusA4   = netip.MustParseAddr("192.0.2.1")
	corpusB4   = netip.MustParseAddr("198.51.100.7")
	corpusR4   = netip.MustParseAddr("203.0.113.9") // a router sending ICMP errors
	corpusA6   = netip.MustParseAddr("2001:db8::1")
	corpusB6   = netip.MustParseAddr("2001:db8::2")
	corpusR6   = netip.MustParseAddr("2001:db8:ff::9")
	// corpusStart is the first frame's time; each next one is 1.000123456 s later.
	corpusStart = time.Date(2026, 12, 3, 7, 0, 0, 123456789, time.UTC)
)

// corpusFrame is one frame and how it was made.
type corpusFrame struct {
	name  string
	frame []byte
	wire  int // the length on the wire when the frame is cut short; 0: len(frame)
}

// frameBuilder builds frames and stops the test at the first error, which
// can only be a bug in the corpus.
type frameBuilder struct{ t testing.TB }

func (f frameBuilder) check(b []byte, err error) []byte {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f frameBuilder) eth(etherType uint16, payload []byte) []byte {
	src, dst := corpusMAC1, corpusMAC2
	if etherType == packet.EtherTypeARP && len(payload) >= 8 && payload[7] == packet.ARPRequest {
		dst = packet.Broadcast
	}
	h := packet.Ethernet{Dst: dst, Src: src, EtherType: etherType}
	b := h.Append(nil, payload)
	for len(b) < 60 { // what a driver pads a short frame to
		b = append(b, 0)
	}
	return b
}

func (f frameBuilder) ip4(h packet.IPv4, payload []byte) []byte {
	f.t.Helper()
	if h.TTL == 0 {
		h.TTL = 64
	}
	return f.eth(packet.EtherTypeIPv4, f.check(h.Append(nil, payload)))
}

func (f frameBuilder) ip6(h packet.IPv6, payload []byte) []byte {
	f.t.Helper()
	if h.HopLimit == 0 {
		h.HopLimit = 64
	}
	return f.eth(packet.EtherTypeIPv6, f.check(h.Append(nil, payload)))
}

func (f frameBuilder) icmp(proto int, typ, code uint8, id, seq uint16, data []byte, src, dst netip.Addr) []byte {
	f.t.Helper()
	m := packet.ICMP{Proto: proto, Type: typ, Code: code, ID: id, Seq: seq, Data: data}
	return f.check(m.Append(nil, src, dst))
}

func (f frameBuilder) udp(sport, dport uint16, src, dst netip.Addr, data []byte) []byte {
	f.t.Helper()
	h := packet.UDP{SrcPort: sport, DstPort: dport}
	return f.check(h.Append(nil, src, dst, data))
}

func (f frameBuilder) tcp(h packet.TCP, src, dst netip.Addr, data []byte) []byte {
	f.t.Helper()
	return f.check(h.Append(nil, src, dst, data))
}

// tcpOpts builds TCP options as Linux sends them on a SYN (mss, sackOK, TS,
// nop, wscale) or on later segments (nop, nop, TS).
func tcpOpts(syn bool, val, ecr uint32) []byte {
	var o []byte
	if syn {
		o = append(o, 2, 4, 0xff, 0xd7, 4, 2)
	} else {
		o = append(o, 1, 1)
	}
	o = append(o, 8, 10)
	o = binary.BigEndian.AppendUint32(o, val)
	o = binary.BigEndian.AppendUint32(o, ecr)
	if syn {
		o = append(o, 1, 3, 3, 7)
	}
	return o
}

// echoData is the 56 bytes ping sends: a timestamp, then 0x10, 0x11, ...
func echoData() []byte {
	d := make([]byte, 56)
	for i := 8; i < len(d); i++ {
		d[i] = byte(i)
	}
	copy(d, "\x5f\x3a\x10\x00\x00\x00\x00\x00")
	return d
}

// mangled returns a copy of frame with fn applied to what follows the
// Ethernet header.
func mangled(frame []byte, fn func(b []byte)) []byte {
	b := bytes.Clone(frame)
	fn(b[14:])
	return b
}

// printCorpus returns the corpus in the order it is written to the golden
// pcap file (the order matters: the TCP lines' relative numbers depend on
// what came before).
func printCorpus(t testing.TB) []corpusFrame {
	f := frameBuilder{t}
	var c []corpusFrame
	add := func(name string, frame []byte) { c = append(c, corpusFrame{name: name, frame: frame}) }
	a4, b4, r4, a6, b6, r6 := corpusA4, corpusB4, corpusR4, corpusA6, corpusB6, corpusR6
	v4 := func(proto uint8, src, dst netip.Addr) packet.IPv4 {
		return packet.IPv4{ID: 0x1c46, Flags: packet.DontFragment, Protocol: proto, Src: src, Dst: dst}
	}
	v6 := func(next uint8, src, dst netip.Addr) packet.IPv6 {
		return packet.IPv6{FlowLabel: 0x12345, NextHeader: next, Src: src, Dst: dst}
	}

	// ICMP echo, both versions.
	add("icmp echo request", f.ip4(v4(packet.ProtoICMP, a4, b4), f.icmp(packet.ProtoICMP, 8, 0, 0x1234, 1, echoData(), a4, b4)))
	add("icmp echo reply", f.ip4(v4(packet.ProtoICMP, b4, a4), f.icmp(packet.ProtoICMP, 0, 0, 0x1234, 1, echoData(), b4, a4)))
	add("icmp6 echo request", f.ip6(v6(packet.ProtoICMPv6, a6, b6), f.icmp(packet.ProtoICMPv6, 128, 0, 0x1234, 2, echoData(), a6, b6)))
	add("icmp6 echo reply", f.ip6(v6(packet.ProtoICMPv6, b6, a6), f.icmp(packet.ProtoICMPv6, 129, 0, 0x1234, 2, echoData(), b6, a6)))

	// UDP, and the ICMP errors that quote a UDP probe.
	probe4 := f.check((&packet.IPv4{ID: 0x4242, TTL: 1, Protocol: packet.ProtoUDP, Src: a4, Dst: b4}).Append(nil,
		f.udp(50000, 33434, a4, b4, make([]byte, 32))))
	probe6 := f.check((&packet.IPv6{HopLimit: 1, NextHeader: packet.ProtoUDP, Src: a6, Dst: b6}).Append(nil,
		f.udp(50000, 33434, a6, b6, make([]byte, 32))))
	add("udp", f.ip4(v4(packet.ProtoUDP, a4, b4), f.udp(40000, 40001, a4, b4, []byte("hello"))))
	add("udp6", f.ip6(v6(packet.ProtoUDP, a6, b6), f.udp(40000, 40001, a6, b6, []byte("hello, world"))))
	add("icmp time exceeded", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 11, 0, 0, 0, probe4[:28], r4, a4)))
	add("icmp port unreachable", f.ip4(v4(packet.ProtoICMP, b4, a4), f.icmp(packet.ProtoICMP, 3, 3, 0, 0, probe4[:28], b4, a4)))
	add("icmp host unreachable", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 3, 1, 0, 0, probe4[:28], r4, a4)))
	add("icmp need frag", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 3, 4, 0, 1400, probe4[:28], r4, a4)))
	for code := uint8(0); code < 16; code++ {
		if code == 1 || code == 3 || code == 4 {
			continue // above
		}
		add(fmt.Sprintf("icmp unreachable code %d", code), f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 3, code, 0, 0, probe4[:28], r4, a4)))
	}
	add("icmp unreachable code 16", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 3, 16, 0, 0, probe4[:28], r4, a4)))
	add("icmp reassembly time exceeded", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 11, 1, 0, 0, probe4[:28], r4, a4)))
	add("icmp redirect", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 5, 1, 0xcb00, 0x710a, probe4[:28], r4, a4)))
	add("icmp parameter problem", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 12, 0, 0x0900, 0, probe4[:28], r4, a4)))
	add("icmp source quench", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 4, 0, 0, 0, probe4[:28], r4, a4)))
	add("icmp time stamp request", f.ip4(v4(packet.ProtoICMP, a4, b4), f.icmp(packet.ProtoICMP, 13, 0, 7, 8, make([]byte, 12), a4, b4)))
	add("icmp redirect code 9", f.ip4(v4(packet.ProtoICMP, r4, a4), f.icmp(packet.ProtoICMP, 5, 9, 0xcb00, 0x710a, probe4[:28], r4, a4)))
	add("icmp time stamp reply", f.ip4(v4(packet.ProtoICMP, b4, a4), f.icmp(packet.ProtoICMP, 14, 0, 7, 8,
		[]byte{0x04, 0xf1, 0xa8, 0x3c, 0x45, 0, 0, 0x3c, 0, 0, 0, 1}, b4, a4)))
	add("icmp address mask reply", f.ip4(v4(packet.ProtoICMP, b4, a4), f.icmp(packet.ProtoICMP, 18, 0, 7, 8, []byte{255, 255, 255, 0}, b4, a4)))
	add("icmp type 42", f.ip4(v4(packet.ProtoICMP, a4, b4), f.icmp(packet.ProtoICMP, 42, 0, 0, 0, nil, a4, b4)))
	add("icmp6 time exceeded", f.ip6(v6(packet.ProtoICMPv6, r6, a6), f.icmp(packet.ProtoICMPv6, 3, 0, 0, 0, probe6, r6, a6)))
	add("icmp6 port unreachable", f.ip6(v6(packet.ProtoICMPv6, b6, a6), f.icmp(packet.ProtoICMPv6, 1, 4, 0, 0, probe6, b6, a6)))
	for code := uint8(0); code < 8; code++ {
		if code != 4 {
			add(fmt.Sprintf("icmp6 unreachable code %d", code), f.ip6(v6(packet.ProtoICMPv6, r6, a6), f.icmp(packet.ProtoICMPv6, 1, code, 0, 0, probe6, r6, a6)))
		}
	}
	add("icmp6 reassembly time exceeded", f.ip6(v6(packet.ProtoICMPv6, r6, a6), f.icmp(packet.ProtoICMPv6, 3, 1, 0, 0, probe6, r6, a6)))
	add("icmp6 parameter problem", f.ip6(v6(packet.ProtoICMPv6, r6, a6), f.icmp(packet.ProtoICMPv6, 4, 1, 0, 6, probe6, r6, a6)))
	ns := append(make([]byte, 0, 24), corpusB6.AsSlice()...)
	add("icmp6 neighbor solicitation", f.ip6(v6(packet.ProtoICMPv6, a6, b6), f.icmp(packet.ProtoICMPv6, 135, 0, 0, 0, ns, a6, b6)))
	add("icmp6 neighbor advertisement", f.ip6(v6(packet.ProtoICMPv6, b6, a6), f.icmp(packet.ProtoICMPv6, 136, 0, 0x6000, 0, ns, b6, a6)))
	add("icmp6 router solicitation", f.ip6(v6(packet.ProtoICMPv6, a6, b6), f.icmp(packet.ProtoICMPv6, 133, 0, 0, 0, nil, a6, b6)))
	add("icmp6 type 200", f.ip6(v6(packet.ProtoICMPv6, a6, b6), f.icmp(packet.ProtoICMPv6, 200, 0, 0, 0, []byte("abcd"), a6, b6)))
	add("icmp6 packet too big", f.ip6(v6(packet.ProtoICMPv6, r6, a6), f.icmp(packet.ProtoICMPv6, 2, 0, 0, 1280, probe6, r6, a6)))

	// One TCP connection: handshake, data both ways, FIN both ways.
	const cport, sport = 45678, 12345
	const ciss, siss = 3000000000, 123456789
	seg := func(from4 bool, fl packet.TCPFlags, seq, ack uint32, opts []byte, data string) []byte {
		src, dst, sp, dp := a4, b4, uint16(cport), uint16(sport)
		if !from4 {
			src, dst, sp, dp = b4, a4, sport, cport
		}
		h := packet.TCP{SrcPort: sp, DstPort: dp, Seq: seq, Ack: ack, Flags: fl, Window: 502, Options: opts}
		if fl&packet.TCPSyn != 0 {
			h.Window = 64240
		}
		return f.ip4(v4(packet.ProtoTCP, src, dst), f.tcp(h, src, dst, []byte(data)))
	}
	A, P, S, F, R := packet.TCPAck, packet.TCPPsh, packet.TCPSyn, packet.TCPFin, packet.TCPRst
	add("tcp syn", seg(true, S, ciss, 0, tcpOpts(true, 1000, 0), ""))
	add("tcp syn-ack", seg(false, S|A, siss, ciss+1, tcpOpts(true, 2000, 1000), ""))
	add("tcp ack", seg(true, A, ciss+1, siss+1, tcpOpts(false, 1001, 2000), ""))
	add("tcp data", seg(true, P|A, ciss+1, siss+1, tcpOpts(false, 1002, 2000), "hello"))
	add("tcp data ack", seg(false, A, siss+1, ciss+6, tcpOpts(false, 2001, 1002), ""))
	add("tcp reply data", seg(false, P|A, siss+1, ciss+6, tcpOpts(false, 2002, 1002), "world!\n"))
	add("tcp fin", seg(true, F|A, ciss+6, siss+8, tcpOpts(false, 1003, 2002), ""))
	add("tcp fin-ack", seg(false, F|A, siss+8, ciss+7, tcpOpts(false, 2003, 1003), ""))
	add("tcp last ack", seg(true, A, ciss+7, siss+9, nil, ""))
	add("tcp rst", seg(true, R, ciss+7, 0, nil, ""))
	// A SACK block (relative, as tcpdump prints it), urgent data, ECN flags.
	sack := binary.BigEndian.AppendUint32([]byte{1, 1, 5, 10}, siss+100)
	sack = binary.BigEndian.AppendUint32(sack, siss+200)
	add("tcp sack", seg(true, A, ciss+7, siss+9, sack, ""))
	add("tcp urg", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: cport, DstPort: sport, Seq: ciss + 7, Ack: siss + 9,
		Flags: A | P | packet.TCPUrg, Window: 502, Urgent: 1}, a4, b4, []byte("!"))))
	add("tcp ece cwr syn", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: 45679, DstPort: sport, Seq: 7,
		Flags: S | packet.TCPEce | packet.TCPCwr, Window: 64240, Options: []byte{2, 4, 5, 0xb4, 99, 4, 0xab, 0xcd, 0, 0}}, a4, b4, nil)))
	add("tcp odd options", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: cport, DstPort: sport, Seq: ciss + 7, Ack: siss + 9,
		Flags: A, Window: 502, Options: []byte{6, 6, 0, 0, 0, 1, 11, 6, 0, 0, 0, 2, 4, 4, 1, 1}}, a4, b4, nil)))
	add("tcp ccecho option", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: 1000, DstPort: 2000, Seq: 1,
		Flags: S, Window: 1, Options: []byte{13, 6, 0, 0, 7, 0xd3, 1, 0}}, a4, b4, nil)))
	add("tcp no flags", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: cport, DstPort: sport, Seq: 99, Window: 1}, a4, b4, nil)))
	// Equal ports: tcpdump orders the connection by address instead.
	add("tcp same ports syn-ack", f.ip4(v4(packet.ProtoTCP, b4, a4), f.tcp(packet.TCP{SrcPort: 5000, DstPort: 5000, Seq: 1000, Ack: 501,
		Flags: S | A, Window: 100}, b4, a4, nil)))
	add("tcp same ports data", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: 5000, DstPort: 5000, Seq: 501, Ack: 1001,
		Flags: P | A, Window: 100}, a4, b4, []byte("xy"))))
	add("tcp same ports reply", f.ip4(v4(packet.ProtoTCP, b4, a4), f.tcp(packet.TCP{SrcPort: 5000, DstPort: 5000, Seq: 1001, Ack: 503,
		Flags: A, Window: 100, Options: sack}, b4, a4, nil)))
	// SACK blocks count from the acknowledgment base, whichever side sends them.
	sackS := binary.BigEndian.AppendUint32([]byte{1, 1, 5, 10}, ciss+2)
	sackS = binary.BigEndian.AppendUint32(sackS, ciss+4)
	add("tcp sack from the server", seg(false, A, siss+9, ciss+1, sackS, ""))
	add("tcp sack opening a connection", f.ip4(v4(packet.ProtoTCP, a4, b4), f.tcp(packet.TCP{SrcPort: 6000, DstPort: 6000, Seq: 1001, Ack: 5001,
		Flags: A, Window: 100, Options: sack}, a4, b4, nil)))
	add("tcp6 syn", f.ip6(v6(packet.ProtoTCP, a6, b6), f.tcp(packet.TCP{SrcPort: cport, DstPort: sport, Seq: 42,
		Flags: S, Window: 64800, Options: tcpOpts(true, 5, 0)}, a6, b6, nil)))
	add("tcp6 syn-ack", f.ip6(v6(packet.ProtoTCP, b6, a6), f.tcp(packet.TCP{SrcPort: sport, DstPort: cport, Seq: 77, Ack: 43,
		Flags: S | A, Window: 64800, Options: tcpOpts(true, 6, 5)}, b6, a6, nil)))
	add("tcp6 data", f.ip6(v6(packet.ProtoTCP, a6, b6), f.tcp(packet.TCP{SrcPort: cport, DstPort: sport, Seq: 43, Ack: 78,
		Flags: P | A, Window: 507}, a6, b6, []byte("GET"))))

	// ARP.
	arp := func(op uint16, smac packet.MAC, sip netip.Addr, tmac packet.MAC, tip netip.Addr) []byte {
		h := packet.ARP{Op: op, SenderMAC: smac, SenderIP: sip, TargetMAC: tmac, TargetIP: tip}
		return f.eth(packet.EtherTypeARP, f.check(h.Append(nil)))
	}
	add("arp request", arp(packet.ARPRequest, corpusMAC1, a4, packet.MAC{}, b4))
	add("arp reply", arp(packet.ARPReply, corpusMAC2, b4, corpusMAC1, a4))
	add("arp request with target", arp(packet.ARPRequest, corpusMAC1, a4, corpusMAC2, b4))
	add("arp reverse request", arp(3, corpusMAC1, a4, corpusMAC1, b4))

	// IPv4 with options (router alert, then a no-op and end of list), and fragments.
	ra := v4(packet.ProtoUDP, a4, b4)
	ra.Options = []byte{0x94, 4, 0, 0, 1, 0, 0, 0}
	add("ipv4 options", f.ip4(ra, f.udp(40000, 40001, a4, b4, []byte("opts"))))
	big := f.udp(40002, 40003, a4, b4, make([]byte, 1600))
	frag1 := packet.IPv4{ID: 0x7777, Flags: packet.MoreFragments, Protocol: packet.ProtoUDP, Src: a4, Dst: b4}
	add("first fragment", f.ip4(frag1, big[:1480]))
	frag2 := packet.IPv4{ID: 0x7777, FragOff: 1480 / 8, Protocol: packet.ProtoUDP, Src: a4, Dst: b4}
	add("last fragment", f.ip4(frag2, big[1480:]))
	add("icmp fragment", f.ip4(packet.IPv4{ID: 0x7778, FragOff: 185, Protocol: packet.ProtoICMP, Src: a4, Dst: b4}, make([]byte, 100)))

	// Other protocols over IP, and an EtherType nobody decodes.
	add("ipv4 gre", f.ip4(v4(47, a4, b4), make([]byte, 24)))
	add("ipv6 no next header", f.ip6(v6(59, a6, b6), nil))
	add("ipv4 protocol 253", f.ip4(v4(253, a4, b4), make([]byte, 12)))
	add("ipv6 protocol 253", f.ip6(v6(253, a6, b6), make([]byte, 12)))
	add("icmp over ipv6", f.ip6(v6(packet.ProtoICMP, a6, b6), f.icmp(packet.ProtoICMP, 8, 0, 1, 1, nil, a6, b6)))
	add("udp dns port", f.ip4(v4(packet.ProtoUDP, a4, b4), f.udp(40000, 53, a4, b4, make([]byte, 12))))
	unknown := f.eth(0x88b5, []byte("local experimental ethertype"))
	add("unknown ethertype", unknown)

	// Cut short and malformed: the printer must say so and go on.
	find := func(name string) []byte {
		for _, x := range c {
			if x.name == name {
				return x.frame
			}
		}
		t.Fatalf("no frame %q in the corpus", name)
		return nil
	}
	udp, tcpData, echo := find("udp"), find("tcp data"), find("icmp echo request")
	c = append(c,
		corpusFrame{name: "short ethernet", frame: echo[:10]},
		corpusFrame{name: "ethernet only", frame: echo[:14]},
		corpusFrame{name: "truncated ipv4 header", frame: echo[:14+16]},
		corpusFrame{name: "truncated icmp", frame: echo[:14+20+4], wire: len(echo)},
		corpusFrame{name: "truncated udp header", frame: udp[:14+20+6], wire: 60},
		corpusFrame{name: "truncated tcp header", frame: tcpData[:14+20+10], wire: len(tcpData)},
		corpusFrame{name: "truncated tcp options", frame: tcpData[:14+20+24], wire: len(tcpData)},
		corpusFrame{name: "tcp cut before options", frame: tcpData[:14+20+20], wire: len(tcpData)},
		corpusFrame{name: "icmp port unreachable cut", frame: find("icmp port unreachable")[:14+20+20], wire: 14 + 20 + 36},
		corpusFrame{name: "icmp time exceeded cut", frame: find("icmp time exceeded")[:14+20+20], wire: 14 + 20 + 36},
		corpusFrame{name: "icmp6 echo cut", frame: find("icmp6 echo request")[:14+40+4], wire: 14 + 40 + 64},
		corpusFrame{name: "icmp6 port unreachable cut in the header", frame: find("icmp6 port unreachable")[:14+40+4], wire: 14 + 40 + 88},
		corpusFrame{name: "icmp6 port unreachable cut", frame: find("icmp6 port unreachable")[:14+40+8+30], wire: 14 + 40 + 88},
		corpusFrame{name: "ipv4 options past the capture", frame: find("ipv4 options")[:14+26], wire: 60},
		corpusFrame{name: "icmp6 neighbor solicitation cut", frame: find("icmp6 neighbor solicitation")[:14+40+20], wire: 14 + 40 + 24},
		corpusFrame{name: "icmp6 time exceeded cut", frame: find("icmp6 time exceeded")[:14+40+40], wire: 14 + 40 + 88},
		corpusFrame{name: "icmp port unreachable cut in the quoted header", frame: find("icmp port unreachable")[:14+20+12], wire: 14 + 20 + 36},
		corpusFrame{name: "icmp protocol unreachable cut", frame: find("icmp unreachable code 2")[:14+20+9], wire: 14 + 20 + 36},
		corpusFrame{name: "udp with options past the capture", frame: mangled(find("udp"), func(b []byte) { b[0] = 0x47 })[:14+26], wire: 60},
		corpusFrame{name: "fragment with options past the capture", frame: mangled(find("last fragment"), func(b []byte) { b[0] = 0x47 })[:14+26], wire: 60},
		corpusFrame{name: "tcp options end before the cut", frame: mangled(tcpData, func(b []byte) { b[41] = 0 })[:14+20+30], wire: len(tcpData)},
		corpusFrame{name: "icmp time stamp reply cut", frame: find("icmp time stamp reply")[:14+20+12], wire: 14 + 20 + 20},
		corpusFrame{name: "dccp with options past the capture", frame: mangled(find("udp"), func(b []byte) { b[0], b[9] = 0x47, 33 })[:14+26], wire: 60},
		corpusFrame{name: "snaplen cut udp", frame: f.ip4(v4(packet.ProtoUDP, a4, b4), f.udp(40000, 40001, a4, b4, make([]byte, 1000)))[:96], wire: 14 + 20 + 8 + 1000},
		corpusFrame{name: "truncated ipv6 header", frame: find("icmp6 echo request")[:14+30], wire: 14 + 40 + 64},
		corpusFrame{name: "truncated arp", frame: find("arp request")[:14+20], wire: 60},
	)
	mangle := func(name string, from []byte, fn func(b []byte)) { add(name, mangled(from, fn)) }
	mangle("ipv4 bad version", udp, func(b []byte) { b[0] = 0x55 })
	mangle("ipv6 in ipv4 ethertype", udp, func(b []byte) { b[0] = 0x65 })
	mangle("ipv4 bad ihl", udp, func(b []byte) { b[0] = 0x43 })
	mangle("ipv4 total length below header", udp, func(b []byte) { b[3] = 10 })
	mangle("ipv4 total length past the frame", udp, func(b []byte) { b[2] = 0x05 })
	mangle("udp length below 8", udp, func(b []byte) { b[25] = 4 })
	mangle("udp length past ip", udp, func(b []byte) { b[25] = 200 })
	mangle("tcp data offset below 5", tcpData, func(b []byte) { b[32] = 0x40 | b[32]&0x0f })
	mangle("tcp data offset past ip", tcpData, func(b []byte) { b[32] = 0xf0 | b[32]&0x0f })
	mangle("tcp bad option length", tcpData, func(b []byte) { b[41] = 40 })
	mangle("ipv6 bad version", find("udp6"), func(b []byte) { b[0] = 0x40 })
	mangle("ipv6 payload length 0", find("ipv6 protocol 253"), func(b []byte) { b[4], b[5] = 0, 0 })
	mangle("icmp6 port unreachable quoting version 13", find("icmp6 port unreachable"), func(b []byte) { b[48] = 0xd0 })
	mangle("arp with 7-byte hardware addresses", find("arp reverse request"), func(b []byte) { b[4] = 7 })
	mangle("ipv6 payload length past the frame", find("udp6"), func(b []byte) { b[4] = 0x10 })
	return c
}

var updatePrintGoldens = flag.Bool("update-print-goldens", false, "rewrite testdata/print/ (the corpus, and what tcpdump prints for it)")

// printDifferences are the frames whose line deliberately differs from
// tcpdump's: what Printer prints instead, and why. The golden test checks
// both that Printer prints this and that tcpdump still prints otherwise.
var printDifferences = map[string]struct{ want, why string }{
	"ipv4 gre": {"IP 192.0.2.1 > 198.51.100.7:  ip-proto-47 24",
		"GRE is not decoded: it is printed as tcpdump prints an IP protocol it does not know"},
	"udp dns port": {"IP 192.0.2.1.40000 > 198.51.100.7.53: UDP, length 12",
		"application protocols are not decoded by port (tcpdump decodes DNS, NTP, HTTP and dozens more)"},
}

// printModes are the tcpdump flags the goldens are made with, and the
// Printer that must print the same.
var printModes = []struct {
	suffix string
	flags  []string
	hex    bool
}{
	{"-n.txt", []string{"-n"}, false},
	{"-nX.txt", []string{"-n", "-X"}, true},
}

// splitPackets splits tcpdump's output into one string per packet: a line,
// and the tab-indented lines after it.
func splitPackets(out string) []string {
	var ps []string
	for _, l := range strings.SplitAfter(out, "\n") {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "\t") && len(ps) > 0 {
			ps[len(ps)-1] += l
			continue
		}
		ps = append(ps, l)
	}
	return ps
}

// printFile prints every record of a pcap file with Printer.
func printFile(t *testing.T, file []byte, hex bool) string {
	t.Helper()
	var out bytes.Buffer
	pr := Printer{W: &out, Hex: hex, Location: time.UTC}
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for {
		ci, data, err := r.ReadPacket(buf)
		if err == io.EOF {
			return out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.Print(ci, data); err != nil {
			t.Fatal(err)
		}
		buf = data
	}
}

// runTcpdump prints file with tcpdump, in UTC.
func runTcpdump(t *testing.T, tcpdump, file string, flags []string) string {
	t.Helper()
	cmd := exec.Command(tcpdump, append(append([]string{}, flags...), "-r", file)...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd, err)
	}
	return string(out)
}

// protocolCorpus is an IPv4 packet of every protocol number, each with 20
// zero bytes of payload: what tcpdump prints for one it does not decode.
func protocolCorpus(t testing.TB) []corpusFrame {
	f := frameBuilder{t}
	var c []corpusFrame
	for p := range 256 {
		h := packet.IPv4{ID: 1, Protocol: uint8(p), Src: corpusA4, Dst: corpusB4}
		c = append(c, corpusFrame{name: fmt.Sprintf("ip protocol %d", p), frame: f.ip4(h, make([]byte, 20))})
	}
	return c
}

// tcpdumpDecodes are the IP protocols tcpdump decodes and Printer does not
// (it prints them as any protocol it does not know).
var tcpdumpDecodes = map[int]string{2: "IGMP", 4: "IP in IP", 8: "EGP", 9: "IGRP", 33: "DCCP", 41: "IPv6 in IPv4",
	46: "RSVP", 47: "GRE", 50: "ESP", 51: "AH", 55: "mobile IP", 88: "EIGRP", 89: "OSPF", 103: "PIM", 108: "IPComp",
	112: "VRRP", 113: "PGM", 132: "SCTP", 143: "Ethernet in IPv6"}

func init() {
	for p, name := range tcpdumpDecodes {
		printDifferences[fmt.Sprintf("ip protocol %d", p)] = struct{ want, why string }{
			fmt.Sprintf("IP 192.0.2.1 > 198.51.100.7:  ip-proto-%d 20", p), name + " is not decoded"}
	}
}

// packetsOf gives frames the times and lengths the golden files have.
func packetsOf(frames []corpusFrame) []pcapPacket {
	var ps []pcapPacket
	for i, c := range frames {
		ps = append(ps, pcapPacket{
			ci:   CaptureInfo{Timestamp: corpusStart.Add(time.Duration(i) * 1000123456), CaptureLength: len(c.frame), Length: max(c.wire, len(c.frame))},
			data: c.frame,
		})
	}
	return ps
}

// TestPrintGolden prints each corpus with Printer and compares it, packet
// by packet, with what tcpdump 4.99.3 prints for the same file: the goldens
// in testdata/print (made with -update-print-goldens), and tcpdump itself
// when it is installed.
func TestPrintGolden(t *testing.T) {
	tcpdump, _ := exec.LookPath("tcpdump")
	if tcpdump == "" {
		t.Logf("tcpdump is not installed: comparing with the committed goldens only")
	}
	dir := filepath.Join("testdata", "print")
	for _, cp := range []struct {
		name  string
		build func(testing.TB) []corpusFrame
	}{{"corpus", printCorpus}, {"protocols", protocolCorpus}} {
		corpusName, corpus := cp.name, cp.build(t)
		pcapPath := filepath.Join(dir, corpusName+".pcap")
		file := writePcap(t, packetsOf(corpus))
		if *updatePrintGoldens {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pcapPath, file, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if committed, err := os.ReadFile(pcapPath); err != nil || !bytes.Equal(committed, file) {
			t.Fatalf("%s is missing or not the corpus the test builds (%v): run go test -run TestPrintGolden -update-print-goldens", pcapPath, err)
		}
		for _, m := range printModes {
			golden := corpusName + m.suffix
			t.Run(golden, func(t *testing.T) {
				goldenPath := filepath.Join(dir, golden)
				if *updatePrintGoldens {
					if tcpdump == "" {
						t.Fatal("-update-print-goldens needs tcpdump")
					}
					if err := os.WriteFile(goldenPath, []byte(runTcpdump(t, tcpdump, pcapPath, m.flags)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				golden, err := os.ReadFile(goldenPath)
				if err != nil {
					t.Fatal(err)
				}
				if tcpdump != "" {
					if live := runTcpdump(t, tcpdump, pcapPath, m.flags); live != string(golden) {
						t.Errorf("tcpdump %s now prints other than %s (another tcpdump version?):\n%s", strings.Join(m.flags, " "), goldenPath, live)
					}
				}
				comparePrinted(t, corpus, splitPackets(printFile(t, file, m.hex)), splitPackets(string(golden)), m.flags)
			})
		}
	}
}

// comparePrinted compares what Printer printed for each frame of corpus
// with what tcpdump did, but for the listed differences, which must print
// as listed and not as tcpdump does.
func comparePrinted(t *testing.T, corpus []corpusFrame, got, want []string, flags []string) {
	t.Helper()
	if len(want) != len(corpus) || len(got) != len(corpus) {
		t.Fatalf("%d packets in the golden, %d printed, %d in the corpus", len(want), len(got), len(corpus))
	}
	same, differ := 0, 0
	for i, c := range corpus {
		d, differs := printDifferences[c.name]
		line := strings.TrimRight(strings.SplitN(got[i], "\n", 2)[0], " ")
		switch {
		case differs && got[i] == want[i]:
			t.Errorf("%s: listed as a difference, but prints as tcpdump does: %q", c.name, got[i])
		case differs && len(line) > 16 && line[16:] != d.want:
			t.Errorf("%s: printed\n%q\nwant (a deliberate difference: %s)\n%q", c.name, got[i], d.why, d.want)
		case differs:
			differ++
		case got[i] != want[i]:
			t.Errorf("%s: printed\n%s\ntcpdump %s prints\n%s", c.name, got[i], strings.Join(flags, " "), want[i])
		default:
			same++
		}
	}
	t.Logf("%d of %d packets print as tcpdump %s prints them; %d differ on purpose", same, len(corpus), strings.Join(flags, " "), differ)
}

// TestPrintAllocs: the common lines cost no allocation once the Printer's
// buffer has grown and the connection is in its table.
func TestPrintAllocs(t *testing.T) {
	frames := map[string][]byte{}
	for _, c := range printCorpus(t) {
		frames[c.name] = c.frame
	}
	for _, name := range []string{"icmp echo request", "icmp6 echo reply", "udp", "udp6", "icmp port unreachable",
		"icmp6 port unreachable", "tcp syn", "tcp data", "tcp sack", "tcp6 data", "arp request"} {
		for _, hex := range []bool{false, true} {
			p := Printer{W: io.Discard, Hex: hex, Location: time.UTC}
			ci := CaptureInfo{Timestamp: corpusStart}
			if err := p.Print(ci, frames[name]); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(200, func() {
				if err := p.Print(ci, frames[name]); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%s (hex %v): %v allocations per packet, want 0", name, hex, n)
			}
		}
	}
}

func BenchmarkPrint(b *testing.B) {
	corpus := printCorpus(b)
	for _, name := range []string{"icmp echo request", "udp", "tcp data"} {
		var frame []byte
		for _, c := range corpus {
			if c.name == name {
				frame = c.frame
			}
		}
		for _, hex := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/hex=%v", strings.ReplaceAll(name, " ", "_"), hex), func(b *testing.B) {
				p := Printer{W: io.Discard, Hex: hex, Location: time.UTC}
				ci := CaptureInfo{Timestamp: corpusStart}
				b.ReportAllocs()
				for b.Loop() {
					if err := p.Print(ci, frame); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// tcpdumpGoesFurther are the kinds of frame tcpdump decodes further than
// Printer does, told apart by the two lines printed for a frame (without
// the time). Each is a deliberate difference.
var tcpdumpGoesFurther = []struct {
	why   string
	match func(got, want string) bool
}{
	{"an IP protocol or IPv6 extension header tcpdump decodes", func(got, want string) bool {
		m := regexp.MustCompile(`^IP(6?) .*  ip-proto-(\d+) \d+$`).FindStringSubmatch(got)
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[2])
		_, decoded := tcpdumpDecodes[n]
		return decoded || m[1] == "6" && (n == 0 || n == 43 || n == 44 || n == 60 || n == 62 || n == 135)
	}},
	{"an application protocol tcpdump decodes by port", func(got, want string) bool {
		udp := regexp.MustCompile(`^(.*: )UDP, (bad )?length`).FindStringSubmatch(got)
		return udp != nil && strings.HasPrefix(want, udp[1]) && !strings.Contains(want, "UDP, ") ||
			strings.Contains(got, ": Flags [") && strings.HasPrefix(want, got+":")
	}},
	{"an ICMPv6 type whose body tcpdump decodes", func(got, want string) bool {
		m := regexp.MustCompile(`ICMP6, (multicast listener \w+|router advertisement|redirect|router renumbering|` +
			`inverse neighbor \w+|multicast listener report v2|ha discovery \w+|mobile router \w+|who-are-you \w+|RPL)`).FindString(got)
		return m != "" && strings.Contains(want, m)
	}},
	{"an EtherType or ARP protocol tcpdump has a name for", func(got, want string) bool {
		return strings.Contains(got, "ethertype Unknown (0x") && !strings.Contains(want, "ethertype Unknown (0x") ||
			strings.Contains(got, "Unknown Protocol (0x") && !strings.Contains(want, "Unknown Protocol (0x")
	}},
	{"ARP over ATM (hardware type 19), which tcpdump decodes", func(got, want string) bool {
		return strings.HasPrefix(want, "ARP, ATM")
	}},
	{"an ICMP router advertisement, whose body tcpdump decodes", func(got, want string) bool {
		return strings.Contains(got, "ICMP type-#9,") && strings.Contains(want, "ICMP router advertisement")
	}},
	{"a TCP option tcpdump decodes (md5, scps, uto, tcp-ao, mptcp, tfo, exp)", func(got, want string) bool {
		m := regexp.MustCompile(`unknown-(19|20|28|29|30|34|253|254)\b`).FindString(got)
		return m != "" && !strings.Contains(want, m)
	}},
}

// TestPrintMutations prints 20000 frames made by cutting and changing bytes
// of the corpus (the same ones on every run) with Printer and with tcpdump,
// and requires the same output for each but the kinds tcpdumpGoesFurther
// lists.
func TestPrintMutations(t *testing.T) {
	tcpdump := needTool(t, "tcpdump")
	if testing.Short() {
		t.Skip("-short: the 20000-frame comparison with tcpdump is skipped")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var corpus []corpusFrame
	for _, c := range printCorpus(t) {
		if len(c.frame) > packet.EthernetHeaderLen { // something after the header to change
			corpus = append(corpus, c)
		}
	}
	var ps []pcapPacket
	for i := range 20000 {
		c := corpus[rng.IntN(len(corpus))]
		fr := bytes.Clone(c.frame)
		if rng.IntN(3) == 0 {
			fr = fr[:14+rng.IntN(len(fr)-13)]
		} else {
			for range 1 + rng.IntN(3) {
				fr[14+rng.IntN(min(len(fr)-14, 64))] = byte(rng.IntN(256))
			}
		}
		ps = append(ps, pcapPacket{ci: CaptureInfo{Timestamp: corpusStart.Add(time.Duration(i) * time.Millisecond),
			Length: max(c.wire, len(c.frame))}, data: fr})
	}
	file := writePcap(t, ps)
	path := filepath.Join(t.TempDir(), "mutations.pcap")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range printModes {
		want := splitPackets(runTcpdump(t, tcpdump, path, m.flags))
		got := splitPackets(printFile(t, file, m.hex))
		if len(got) != len(ps) || len(want) != len(ps) {
			t.Fatalf("%d frames, %d printed, tcpdump printed %d", len(ps), len(got), len(want))
		}
		kinds := map[string]int{}
		for i := range ps {
			if got[i] == want[i] {
				continue
			}
			g, w := strings.SplitN(got[i], "\n", 2)[0][16:], strings.SplitN(want[i], "\n", 2)[0][16:]
			why := ""
			for _, k := range tcpdumpGoesFurther {
				if k.match(g, w) {
					why = k.why
					break
				}
			}
			if why == "" {
				t.Errorf("frame %d (%x): printed\n%s\ntcpdump %s printed\n%s", i+1, ps[i].data, got[i], strings.Join(m.flags, " "), want[i])
				continue
			}
			kinds[why]++
		}
		t.Logf("tcpdump %s: %d frames; those printed otherwise, all by a listed kind: %v", strings.Join(m.flags, " "), len(ps), kinds)
	}
}

// TestPrintVerbose: -v adds the annotated dump of package packet after the
// line, and -X's hex comes between them.
func TestPrintVerbose(t *testing.T) {
	var frame []byte
	for _, c := range printCorpus(t) {
		if c.name == "udp" {
			frame = c.frame
		}
	}
	var out bytes.Buffer
	p := Printer{W: &out, Verbose: true, Hex: true, Location: time.UTC}
	if err := p.Print(CaptureInfo{Timestamp: corpusStart}, frame); err != nil {
		t.Fatal(err)
	}
	want := "07:00:00.123456 IP 192.0.2.1.40000 > 198.51.100.7.40001: UDP, length 5\n" +
		"\t0x0000:  4500 0021 1c46 4000 4011 324a c000 0201  E..!.F@.@.2J....\n" +
		"\t0x0010:  c633 6407 9c40 9c41 000d 9743 6865 6c6c  .3d..@.A...Chell\n" +
		"\t0x0020:  6f00 0000 0000 0000 0000 0000 0000       o.............\n" +
		packet.Dump(frame, packet.LayerEthernet)
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
	if !strings.Contains(want, "UDP header, 8 bytes") {
		t.Errorf("the dump does not show the UDP header:\n%s", want)
	}
}

// TestPrintLocation: times are printed in Location, time.Local when nil.
func TestPrintLocation(t *testing.T) {
	ci := CaptureInfo{Timestamp: time.Date(2026, 12, 3, 23, 59, 59, 999999999, time.UTC)}
	frame := printCorpus(t)[0].frame
	for _, c := range []struct {
		loc  *time.Location
		want string
	}{
		{time.UTC, "23:59:59.999999 "},
		{time.FixedZone("UTC+2", 2*3600), "01:59:59.999999 "},
		{nil, ci.Timestamp.In(time.Local).Format("15:04:05.000000 ")},
	} {
		var out bytes.Buffer
		p := Printer{W: &out, Location: c.loc}
		if err := p.Print(ci, frame); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), c.want) {
			t.Errorf("location %v: printed %q, want it to start %q", c.loc, out.String(), c.want)
		}
	}
}

// TestPrintWriteError: Print returns the writer's error.
func TestPrintWriteError(t *testing.T) {
	p := Printer{W: &failAfter{n: 0}, Location: time.UTC}
	if err := p.Print(CaptureInfo{Timestamp: corpusStart}, printCorpus(t)[0].frame); !errors.Is(err, errFail) {
		t.Errorf("Print to a failing writer: %v, want %v", err, errFail)
	}
}

// BenchmarkPrintFile reads and prints a file of 100000 packets (the corpus
// over and over) with Reader and Printer, and with tcpdump -n -r, side by
// side; ns/packet is the figure to compare (tcpdump's includes its start).
func BenchmarkPrintFile(b *testing.B) {
	var ps []pcapPacket
	for len(ps) < 100000 {
		ps = append(ps, corpusPackets(b)...)
	}
	ps = ps[:100000]
	file := writePcap(b, ps)
	path := filepath.Join(b.TempDir(), "bench.pcap")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, m := range printModes {
		b.Run("Printer"+strings.Join(m.flags, ""), func(b *testing.B) {
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := NewReader(f)
				if err != nil {
					b.Fatal(err)
				}
				p := Printer{W: io.Discard, Hex: m.hex, Location: time.UTC}
				var buf []byte
				for {
					ci, data, err := r.ReadPacket(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if err := p.Print(ci, data); err != nil {
						b.Fatal(err)
					}
					buf = data
				}
				f.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ps)), "ns/packet")
		})
		b.Run("tcpdump"+strings.Join(m.flags, ""), func(b *testing.B) {
			tcpdump := needTool(b, "tcpdump")
			for b.Loop() {
				cmd := exec.Command(tcpdump, append(append([]string{}, m.flags...), "-r", path)...)
				cmd.Env = append(os.Environ(), "TZ=UTC")
				if err := cmd.Run(); err != nil { // stdout and stderr go to /dev/null
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ps)), "ns/packet")
		})
	}
}
