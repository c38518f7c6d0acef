package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/rawsock/rawsock/rawsock/packet"
)

// Printer writes one line per Ethernet frame, as tcpdump 4.99.3 prints it
// with -n and without -v or -e: the time of day, then IP, IP6 or ARP,
// addresses and ports, ICMP and ICMPv6 types (with id and seq for echo), UDP
// lengths, TCP flags, sequence numbers relative to the first ones seen of
// each connection, window, options and length. With Hex, tcpdump -X's dump
// follows. A frame cut short or a header that lies is printed as far as it
// goes, with tcpdump's marks ("[|ip]", "bad-len 10", "truncated-ip - 20
// bytes missing!"), quirks included: never a panic.
//
// The tests compare it with tcpdump line for line, on a corpus, on every IP
// protocol number, on live captures and on 20000 mutated frames. It differs
// where tcpdump decodes further: application protocols by port (DNS, NTP,
// HTTP, ...), the IP protocols GRE, ESP, AH, IGMP, OSPF, PIM, SCTP, DCCP and
// the others tcpdumpDecodes lists in print_test.go (printed here as tcpdump
// prints a protocol it does not know: "ip-proto-47 24"), IPv6 extension
// headers, the bodies of ICMPv6 MLD, router advertisement and redirect
// messages and of ICMP router advertisements, the TCP options md5, scps,
// uto, tcp-ao, mptcp, tfo and exp (printed as unknown options), and names of
// EtherTypes other than IPv4, IPv6 and ARP (printed "Unknown": VLAN tags and
// 802.3 frames among them, which Linux rarely delivers on AF_PACKET).
//
// A Printer keeps per-connection TCP state, as tcpdump does, so print the
// packets of one capture through one Printer, from one goroutine. It does
// not allocate once its buffer has grown, but for Verbose's dump and a new
// TCP connection's map entry (the map is cleared at 65536 connections).
type Printer struct {
	W        io.Writer
	Hex      bool           // -X: the bytes from the IP (or ARP) header on, in hex and ASCII
	Verbose  bool           // -v here: after each line, packet.WriteDump's annotated dump of the frame
	Location *time.Location // of the timestamps; nil: time.Local

	buf       []byte
	fromStart bool // tcpdump gave up deep inside (a longjmp): its -X dump starts at the frame's first byte
	conns     map[tcpConnKey]tcpConnSeq
}

// tcpConnKey is a connection in one order for both directions, as tcpdump
// keys its table: the side with the lower port (or address) first.
type tcpConnKey struct {
	v6    bool
	addrs [32]byte
	ports uint32
}

// tcpConnSeq holds the first sequence number of each side: seq for the key's
// first side, ack for the second.
type tcpConnSeq struct{ seq, ack uint32 }

const maxTCPConns = 1 << 16

// Print writes the line for frame, which starts at the Ethernet header; ci
// gives the time and the length on the wire (ci.Length; when 0 or smaller
// than len(frame), the frame is taken as whole).
func (p *Printer) Print(ci CaptureInfo, frame []byte) error {
	b := appendClock(p.buf[:0], ci.Timestamp, p.Location)
	wire := max(ci.Length, len(frame))
	p.fromStart = false
	hexFrom := -1
	if len(frame) < packet.EthernetHeaderLen {
		b = append(b, " [|ether]"...)
	} else {
		b = p.ether(b, frame, wire)
		hexFrom = packet.EthernetHeaderLen
		if p.fromStart {
			hexFrom = 0
		}
	}
	if p.Hex && hexFrom >= 0 && len(frame) > hexFrom {
		b = appendHexASCII(b, frame[hexFrom:])
	}
	b = append(b, '\n')
	p.buf = b
	if _, err := p.W.Write(b); err != nil {
		return err
	}
	if p.Verbose {
		return packet.WriteDump(p.W, frame, packet.LayerEthernet)
	}
	return nil
}

// appendClock appends HH:MM:SS.micro and a space, tcpdump's default form;
// nanoseconds are cut to microseconds as libpcap does.
func appendClock(b []byte, t time.Time, loc *time.Location) []byte {
	if loc == nil {
		loc = time.Local
	}
	h, m, s := t.In(loc).Clock()
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, m)
	b = append(b, ':')
	b = append2(b, s)
	b = append(b, '.')
	us := t.Nanosecond() / 1000
	for d := 100000; d > 0; d /= 10 {
		b = append(b, byte('0'+us/d%10))
	}
	return append(b, ' ')
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10%10), byte('0'+n%10)) }

func appendUint(b []byte, n int) []byte { return strconv.AppendUint(b, uint64(n), 10) }

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }

// ether prints what follows the Ethernet header; without -e tcpdump prints
// the header itself only for an EtherType it cannot decode.
func (p *Printer) ether(b, frame []byte, wire int) []byte {
	payload, length := frame[packet.EthernetHeaderLen:], wire-packet.EthernetHeaderLen
	switch et := uint16(be16(frame[12:14])); et {
	case packet.EtherTypeIPv4:
		return p.ipv4(b, payload, length)
	case packet.EtherTypeIPv6:
		return p.ipv6(b, payload, length)
	case packet.EtherTypeARP:
		return p.arp(b, payload, length)
	default:
		b = appendMAC(b, frame[6:12])
		b = append(b, " > "...)
		b = appendMAC(b, frame[0:6])
		b = append(b, ", ethertype Unknown (0x"...)
		b = appendHex(b, uint64(et), 4)
		b = append(b, "), length "...)
		b = appendUint(b, wire)
		b = append(b, ": "...)
		if !p.Hex { // -X dumps these bytes anyway; tcpdump does not print them twice
			b = appendHexASCII(b, payload)
		}
		return b
	}
}

// trunc appends tcpdump's mark for a header cut short: " [|ip]".
func trunc(b []byte, proto string) []byte {
	b = append(b, " [|"...)
	b = append(b, proto...)
	return append(b, ']')
}

// longjmp is trunc where tcpdump gives up by longjmp (a GET_ macro reading
// past the capture), which also starts its -X dump at the frame.
func (p *Printer) longjmp(b []byte, proto string) []byte {
	p.fromStart = true
	return trunc(b, proto)
}

func (p *Printer) ipv4(b, ip []byte, length int) []byte {
	if len(ip) < 1 {
		return p.longjmp(b, "ip")
	}
	switch v := ip[0] >> 4; v {
	case 4:
	case 6:
		return append(b, "IP6, wrong link-layer encapsulation (invalid)"...)
	default:
		b = append(b, "IP"...)
		b = appendUint(b, int(v))
		return append(b, " (invalid)"...)
	}
	b = append(b, "IP "...)
	if len(ip) < packet.IPv4HeaderLen {
		return trunc(b, "ip")
	}
	hlen := int(ip[0]&0x0f) * 4
	if hlen < packet.IPv4HeaderLen {
		b = append(b, "bad-hlen "...)
		return appendUint(b, hlen)
	}
	ipLen := be16(ip[2:4])
	if length < ipLen {
		b = append(b, "truncated-ip - "...)
		b = appendUint(b, ipLen-length)
		b = append(b, " bytes missing! "...)
	}
	if ipLen < hlen {
		b = append(b, "bad-len "...)
		return appendUint(b, ipLen)
	}
	ip = ip[:min(len(ip), length, ipLen)]
	src, dst := netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	proto := ip[9]
	flagsOff := be16(ip[6:8])
	if off := flagsOff & 0x1fff; off != 0 {
		b = appendAddrs(b, src, dst)
		b = append(b, ":"...)
		return appendProto(b, proto)
	}
	if hlen > len(ip) { // checked where tcpdump does: after the fragment's line, before the protocol's
		if !printsOwnAddrs(proto) {
			b = appendAddrs(b, src, dst)
			b = append(b, ": "...)
		}
		return p.remainingCaplen(b, len(ip), hlen, "ip")
	}
	fragmented := flagsOff&0x2000 != 0
	return p.upper(b, proto, ip[hlen:], ipLen-hlen, src, dst, fragmented)
}

// printsOwnAddrs reports whether tcpdump leaves the addresses to the
// protocol's printer, which adds the ports: TCP, UDP, DCCP and SCTP.
func printsOwnAddrs(proto uint8) bool {
	return proto == packet.ProtoTCP || proto == packet.ProtoUDP || proto == 33 || proto == 132
}

func appendProto(b []byte, proto uint8) []byte {
	b = append(b, " ip-proto-"...)
	return appendUint(b, int(proto))
}

// upper prints the layer above IP: up is what was captured of it, length
// what the IP header says it has.
func (p *Printer) upper(b []byte, proto uint8, up []byte, length int, src, dst netip.Addr, fragmented bool) []byte {
	switch proto {
	case packet.ProtoTCP:
		return p.tcp(b, up, length, src, dst)
	case packet.ProtoUDP:
		return p.udp(b, up, length, src, dst, fragmented)
	}
	b = appendAddrs(b, src, dst)
	b = append(b, ": "...)
	switch {
	case proto == packet.ProtoICMP && src.Is4():
		return p.icmp4(b, up, length)
	case proto == packet.ProtoICMPv6 && src.Is6():
		return p.icmp6(b, up, length)
	case proto == packet.ProtoICMPv6:
		return append(b, "[ICMPv6 requires IPv6] (invalid)"...)
	case proto == packet.ProtoICMP:
		return append(b, "[ICMP requires IPv4] (invalid)"...)
	case proto == 59: // IPv6 No Next Header
		return append(b, "no next header"...)
	case proto == 77: // the one name tcpdump's protocol table gives to a protocol it does not decode
		b = append(b, " nd "...)
		return appendUint(b, length)
	}
	b = appendProto(b, proto)
	b = append(b, ' ')
	return appendUint(b, length)
}

func (p *Printer) ipv6(b, ip []byte, length int) []byte {
	if len(ip) < packet.IPv6HeaderLen {
		return trunc(b, "ip6")
	}
	b = append(b, "IP6 "...)
	if v := ip[0] >> 4; v != 6 {
		b = append(b, "version error: "...)
		b = appendUint(b, int(v))
		return append(b, " != 6"...)
	}
	// A payload length of 0 (a jumbogram's, whose length is in a hop-by-hop
	// option tcpdump only reads with -v) leaves an empty payload.
	total := be16(ip[4:6]) + packet.IPv6HeaderLen
	if total > length {
		b = append(b, "truncated-ip6 - "...)
		b = appendUint(b, total-length)
		b = append(b, " bytes missing!"...)
	}
	ip = ip[:min(len(ip), total, length)]
	src, dst := netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	return p.upper(b, ip[6], ip[packet.IPv6HeaderLen:], total-packet.IPv6HeaderLen, src, dst, false)
}

func appendAddrs(b []byte, src, dst netip.Addr) []byte {
	b = src.AppendTo(b)
	b = append(b, " > "...)
	return dst.AppendTo(b)
}

// appendAddrPorts appends "src.sport > dst.dport: ".
func appendAddrPorts(b []byte, src netip.Addr, sport int, dst netip.Addr, dport int) []byte {
	b = src.AppendTo(b)
	b = append(b, '.')
	b = appendUint(b, sport)
	b = append(b, " > "...)
	b = dst.AppendTo(b)
	b = append(b, '.')
	b = appendUint(b, dport)
	return append(b, ": "...)
}

func (p *Printer) udp(b, u []byte, length int, src, dst netip.Addr, fragmented bool) []byte {
	if len(u) < 4 {
		b = appendAddrs(b, src, dst)
		b = append(b, ": "...)
		return trunc(b, "udp")
	}
	b = appendAddrPorts(b, src, be16(u[0:2]), dst, be16(u[2:4]))
	if length < packet.UDPHeaderLen {
		b = append(b, "truncated-udp "...)
		return appendUint(b, length)
	}
	if len(u) < 6 {
		return trunc(b, "udp")
	}
	ulen := be16(u[4:6])
	if ulen == 0 && length > 0xffff { // an IPv6 jumbogram (RFC 2675)
		ulen = length
	}
	if ulen < packet.UDPHeaderLen {
		b = append(b, "truncated-udplength "...)
		return appendUint(b, ulen)
	}
	ulen -= packet.UDPHeaderLen
	length = min(length-packet.UDPHeaderLen, ulen)
	if len(u) < packet.UDPHeaderLen {
		return trunc(b, "udp")
	}
	if ulen > length && !fragmented {
		b = append(b, "UDP, bad length "...)
		b = appendUint(b, ulen)
		b = append(b, " > "...)
		return appendUint(b, length)
	}
	b = append(b, "UDP, length "...)
	return appendUint(b, ulen)
}

// tcpFlagChars are tcpdump's letters for the TCP flags, bit 0 (FIN) first.
const tcpFlagChars = "FSRP.UEW"

func (p *Printer) tcp(b, t []byte, length int, src, dst netip.Addr) []byte {
	if len(t) < 4 {
		b = appendAddrs(b, src, dst)
		b = append(b, ':')
		return trunc(b, "tcp")
	}
	sport, dport := be16(t[0:2]), be16(t[2:4])
	b = appendAddrPorts(b, src, sport, dst, dport)
	if len(t) < packet.TCPHeaderLen {
		return trunc(b, "tcp")
	}
	hlen := int(t[12]>>4) * 4
	if hlen < packet.TCPHeaderLen {
		b = append(b, " tcp "...)
		b = strconv.AppendUint(b, uint64(uint32(length)-uint32(hlen)), 10) // unsigned in tcpdump
		b = append(b, " [bad hdr length "...)
		b = appendUint(b, hlen)
		return append(b, " - too short, < 20]"...)
	}
	seq, ack := binary.BigEndian.Uint32(t[4:8]), binary.BigEndian.Uint32(t[8:12])
	flags := packet.TCPFlags(t[13])
	win, urp := be16(t[14:16]), be16(t[18:20])
	b = append(b, "Flags ["...)
	if flags == 0 {
		b = append(b, "none"...)
	}
	for i := range 8 {
		if flags&(1<<i) != 0 {
			b = append(b, tcpFlagChars[i])
		}
	}
	b = append(b, ']')
	var sackBase uint32
	if flags&packet.TCPAck != 0 {
		seq, ack, sackBase = p.relative(src, dst, sport, dport, seq, ack, flags)
	}
	if hlen > length {
		b = append(b, " [bad hdr length "...)
		b = appendUint(b, hlen)
		b = append(b, " - too long, > "...)
		b = appendUint(b, length)
		return append(b, ']')
	}
	length -= hlen
	if length > 0 || flags&(packet.TCPSyn|packet.TCPFin|packet.TCPRst) != 0 {
		b = append(b, ", seq "...)
		b = strconv.AppendUint(b, uint64(seq), 10)
		if length > 0 {
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(seq+uint32(length)), 10)
		}
	}
	if flags&packet.TCPAck != 0 {
		b = append(b, ", ack "...)
		b = strconv.AppendUint(b, uint64(ack), 10)
	}
	b = append(b, ", win "...)
	b = appendUint(b, win)
	if flags&packet.TCPUrg != 0 {
		b = append(b, ", urg "...)
		b = appendUint(b, urp)
	}
	if hlen > packet.TCPHeaderLen {
		var ok bool
		if b, ok = p.tcpOptions(b, t, hlen, sackBase); !ok {
			return b
		}
	}
	b = append(b, ", length "...)
	b = appendUint(b, length)
	if length > 0 && hlen > len(t) { // tcpdump's check before it looks at the data
		return p.remainingCaplen(b, len(t), hlen, "tcp")
	}
	return b
}

// remainingCaplen appends tcpdump's mark for a header longer than what was
// captured of it, and gives up.
func (p *Printer) remainingCaplen(b []byte, caplen, hlen int, proto string) []byte {
	b = append(b, " [remaining caplen("...)
	b = appendUint(b, caplen)
	b = append(b, ") < header length("...)
	b = appendUint(b, hlen)
	b = append(b, ")]"...)
	return p.longjmp(b, proto)
}

// relative turns seq and ack into offsets from the first ones seen on the
// connection, as tcpdump does (without -S): only segments with ACK take
// part; the first of them (or any SYN) records the numbers and prints them
// as they are. sackBase is what tcpdump subtracts from SACK blocks: the
// base of the acknowledgment numbers (ack-1 of the segment that recorded
// them), since SACK blocks acknowledge the other side's data.
func (p *Printer) relative(src, dst netip.Addr, sport, dport int, seq, ack uint32, flags packet.TCPFlags) (rseq, rack, sackBase uint32) {
	s, d := src.As16(), dst.As16()
	if src.Is4() {
		s4, d4 := src.As4(), dst.As4()
		s, d = [16]byte{}, [16]byte{}
		copy(s[:], s4[:])
		copy(d[:], d4[:])
	}
	rev := sport > dport || sport == dport && bytes.Compare(s[:], d[:]) > 0
	k := tcpConnKey{v6: src.Is6(), ports: uint32(sport)<<16 | uint32(dport)}
	if rev {
		s, d = d, s
		k.ports = uint32(dport)<<16 | uint32(sport)
	}
	copy(k.addrs[:16], s[:])
	copy(k.addrs[16:], d[:])
	st, ok := p.conns[k]
	if !ok || flags&packet.TCPSyn != 0 {
		if rev {
			st = tcpConnSeq{seq: ack - 1, ack: seq}
		} else {
			st = tcpConnSeq{seq: seq, ack: ack - 1}
		}
		if p.conns == nil || len(p.conns) >= maxTCPConns {
			p.conns = make(map[tcpConnKey]tcpConnSeq)
		}
		p.conns[k] = st
		return seq, ack, ack - 1
	}
	if rev {
		return seq - st.ack, ack - st.seq, st.seq
	}
	return seq - st.seq, ack - st.ack, st.ack
}

// tcpOptionNames are tcpdump's names for the options it prints.
// (tcpdump 4.99.3 names CC.ECHO with an empty string).
var tcpOptionNames = map[byte]string{0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack",
	6: "echo", 7: "echoreply", 8: "TS", 11: "cc", 12: "ccnew", 13: ""}

// tcpOptions appends ", options [...]" exactly as tcpdump walks them,
// quirks included: an option whose length disagrees with its kind's gets
// "[len N]" and the walk goes on by the kind's length. ok is false when the
// line ends here ("[bad opt]" or truncated).
func (p *Printer) tcpOptions(b, t []byte, hlen int, sackBase uint32) (_ []byte, ok bool) {
	b = append(b, ", options ["...)
	hl := hlen - packet.TCPHeaderLen
	cp := packet.TCPHeaderLen
	var ch byte
	for hl > 0 {
		if ch != 0 {
			b = append(b, ch)
		}
		if cp >= len(t) {
			return p.longjmp(b, "tcp"), false
		}
		opt := t[cp]
		cp++
		ln := 1
		if opt > 1 {
			if cp >= len(t) {
				return p.longjmp(b, "tcp"), false
			}
			ln = int(t[cp])
			cp++
			if ln < 2 || ln > hl {
				return tcpBadOpt(b, ch), false
			}
			hl--
		}
		hl--
		if name, ok := tcpOptionNames[opt]; ok {
			b = append(b, name...)
		} else {
			b = append(b, "unknown-"...)
			b = appendUint(b, int(opt))
		}
		datalen := 0
		switch opt {
		case 2, 3, 6, 7, 8, 11, 12, 13:
			datalen = tcpOptionLen(opt)
			if bad, short := lencheck(datalen, hl, cp, len(t)); bad {
				return tcpBadOpt(b, ch), false
			} else if short {
				return tcpTrunc(b, ch), false
			}
			b = append(b, ' ')
			switch datalen {
			case 1:
				b = appendUint(b, int(t[cp]))
			case 2:
				b = appendUint(b, be16(t[cp:]))
			case 4:
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(t[cp:])), 10)
			case 8:
				b = append(b, "val "...)
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(t[cp:])), 10)
				b = append(b, " ecr "...)
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(t[cp+4:])), 10)
			}
		case 0, 1, 4:
		case 5:
			datalen = ln - 2
			if datalen%8 != 0 {
				b = append(b, " invalid sack"...)
				break
			}
			b = append(b, ' ')
			b = appendUint(b, datalen/8)
			b = append(b, ' ')
			for i := 0; i < datalen; i += 8 {
				if bad, short := lencheck(i+8, hl, cp, len(t)); bad {
					return tcpBadOpt(b, ch), false
				} else if short {
					return tcpTrunc(b, ch), false
				}
				b = append(b, '{')
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(t[cp+i:])-sackBase), 10)
				b = append(b, ':')
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(t[cp+i+4:])-sackBase), 10)
				b = append(b, '}')
			}
		default:
			datalen = ln - 2
			if datalen > 0 {
				b = append(b, " 0x"...)
			}
			for i := range datalen {
				if bad, short := lencheck(i+1, hl, cp, len(t)); bad {
					return tcpBadOpt(b, ch), false
				} else if short {
					return tcpTrunc(b, ch), false
				}
				b = appendHex(b, uint64(t[cp+i]), 2)
			}
		}
		cp += datalen
		hl -= datalen
		if n := datalen + 1 + btoi(opt > 1); n != ln { // the kind byte, and the length byte but for eol and nop
			b = append(b, "[len "...)
			b = appendUint(b, ln)
			b = append(b, ']')
		}
		ch = ','
		if opt == 0 {
			break
		}
	}
	return append(b, ']'), true
}

// lencheck is tcpdump's LENCHECK: l more bytes after cp must be in the
// header (hl bytes left) and captured (n bytes in all).
func lencheck(l, hl, cp, n int) (bad, short bool) { return l > hl, cp+l > n }

// tcpOptionLen is the data length of the options printed as numbers.
func tcpOptionLen(opt byte) int {
	switch opt {
	case 2:
		return 2
	case 3:
		return 1
	case 8:
		return 8
	}
	return 4
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

func tcpBadOpt(b []byte, ch byte) []byte {
	b = append(b, "[bad opt]"...)
	if ch != 0 {
		b = append(b, ']')
	}
	return b
}

// tcpTrunc is tcpdump's trunc label in the option walk, which closes the
// list with '>' (sic).
func tcpTrunc(b []byte, ch byte) []byte {
	b = trunc(b, "tcp")
	if ch != 0 {
		b = append(b, '>')
	}
	return b
}

// arpHardwareNames are tcpdump's names for ARP hardware types.
var arpHardwareNames = map[int]string{1: "Ethernet", 6: "TokenRing", 7: "ArcNet", 15: "FrameRelay", 23: "Strip", 24: "IEEE 1394"}

// arpOpNames are tcpdump's names for the ARP operations.
var arpOpNames = [...]string{1: "Request", 2: "Reply", 3: "Reverse Request", 4: "Reverse Reply",
	8: "Inverse Request", 9: "Inverse Reply", 10: "NACK Reply"}

func (p *Printer) arp(b, a []byte, length int) []byte {
	if len(a) < 8 {
		return p.longjmp(b, "arp")
	}
	hrd, pro, hln, pln, op := be16(a[0:2]), be16(a[2:4]), int(a[4]), int(a[5]), be16(a[6:8])
	if len(a) < 8+2*hln+2*pln {
		return p.longjmp(b, "arp")
	}
	sha, spa := a[8:8+hln], a[8+hln:8+hln+pln]
	tha, tpa := a[8+hln+pln:8+2*hln+pln], a[8+2*hln+pln:8+2*hln+2*pln]
	b = append(b, "ARP, "...)
	if pro != packet.EtherTypeIPv4 && pro != 0x1000 || pln != 4 || hln == 0 {
		if name, ok := arpHardwareNames[hrd]; ok {
			b = append(b, name...)
		} else {
			b = append(b, "Unknown Hardware ("...)
			b = appendUint(b, hrd)
			b = append(b, ')')
		}
		b = append(b, " (len "...)
		b = appendUint(b, hln)
		b = append(b, "), "...)
		switch pro {
		case packet.EtherTypeIPv4:
			b = append(b, "IPv4"...)
		case packet.EtherTypeIPv6:
			b = append(b, "IPv6"...)
		default:
			b = append(b, "Unknown Protocol (0x"...)
			b = appendHex(b, uint64(pro), 4)
			b = append(b, ')')
		}
		b = append(b, " (len "...)
		b = appendUint(b, pln)
		b = append(b, ')')
	} else {
		if op < len(arpOpNames) && arpOpNames[op] != "" {
			b = append(b, arpOpNames[op]...)
		} else {
			b = append(b, "Unknown ("...)
			b = appendUint(b, op)
			b = append(b, ')')
		}
		b = append(b, ' ')
		ip := func(b, a []byte) []byte { return netip.AddrFrom4([4]byte(a)).AppendTo(b) }
		switch op {
		case 1:
			b = append(b, "who-has "...)
			b = ip(b, tpa)
			if !allZero(tha) {
				b = append(b, " ("...)
				b = appendMAC(b, tha)
				b = append(b, ')')
			}
			b = append(b, " tell "...)
			b = ip(b, spa)
		case 2:
			b = ip(b, spa)
			b = append(b, " is-at "...)
			b = appendMAC(b, sha)
		case 3, 8:
			b = append(b, "who-is "...)
			b = appendMAC(b, tha)
			b = append(b, " tell "...)
			b = appendMAC(b, sha)
		case 4:
			b = appendMAC(b, tha)
			b = append(b, " at "...)
			b = ip(b, tpa)
		case 9:
			b = appendMAC(b, sha)
			b = append(b, " at "...)
			b = ip(b, spa)
		default:
			return appendHexASCII(b, a)
		}
	}
	b = append(b, ", length "...)
	return appendUint(b, length)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// icmpUnreach are tcpdump's texts for ICMP destination unreachable codes
// but protocol (2), port (3) and need-frag (4); %s is the quoted destination.
var icmpUnreach = [...][2]string{
	0: {"net ", " unreachable"}, 1: {"host ", " unreachable"}, 5: {"", " unreachable - source route failed"},
	6: {"net ", " unreachable - unknown"}, 7: {"host ", " unreachable - unknown"},
	8: {"", " unreachable - source host isolated"}, 9: {"net ", " unreachable - admin prohibited"},
	10: {"host ", " unreachable - admin prohibited"}, 11: {"net ", " unreachable - tos prohibited"},
	12: {"host ", " unreachable - tos prohibited"}, 13: {"host ", " unreachable - admin prohibited filter"},
	14: {"host ", " unreachable - host precedence violation"}, 15: {"host ", " unreachable - precedence cutoff"},
}

// icmpNames are tcpdump's names for the ICMP types it prints by name alone.
var icmpNames = [...]string{0: "echo reply", 4: "source quench", 8: "echo request", 10: "router solicitation",
	13: "time stamp request", 14: "time stamp reply", 15: "information request", 16: "information reply",
	17: "address mask request"}

// icmp4 prints an ICMP message: m is what was captured of it, length what
// the IP header says. tcpdump formats the text before printing it, so a
// message cut short prints " [|icmp]" alone.
func (p *Printer) icmp4(b, m []byte, length int) []byte {
	mark := len(b)
	need := func(n int) bool { return len(m) >= n }
	if !need(2) {
		return p.longjmp(b, "icmp")
	}
	typ, code := m[0], m[1]
	// dst appends the quoted datagram's destination, a GET in tcpdump.
	dst := func(b []byte) ([]byte, bool) {
		if !need(28) {
			return b, false
		}
		return netip.AddrFrom4([4]byte(m[24:28])).AppendTo(b), true
	}
	b = append(b, "ICMP "...)
	ok := true
	switch typ {
	case 0, 8:
		if !need(8) {
			return p.longjmp(b[:mark], "icmp")
		}
		b = append(b, "echo "...)
		if typ == 8 {
			b = append(b, "request"...)
		} else {
			b = append(b, "reply"...)
		}
		b = append(b, ", id "...)
		b = appendUint(b, be16(m[4:6]))
		b = append(b, ", seq "...)
		b = appendUint(b, be16(m[6:8]))
	case 3:
		switch code {
		case 2:
			if !need(18) {
				return p.longjmp(b[:mark], "icmp")
			}
			if b, ok = dst(b); ok {
				b = append(b, " protocol "...)
				b = appendUint(b, int(m[17]))
				b = append(b, " unreachable"...)
			}
		case 3:
			if !need(18) { // tcpdump checks the quoted protocol, then GETs the port
				return trunc(b[:mark], "icmp")
			}
			if !need(8 + int(m[8]&0x0f)*4 + 4) {
				return p.longjmp(b[:mark], "icmp")
			}
			hl := int(m[8]&0x0f) * 4
			dport := be16(m[8+hl+2:])
			if b, ok = dst(b); ok {
				b = appendQuotedPort(b, m[17], dport)
				if m[17] == packet.ProtoTCP || m[17] == packet.ProtoUDP {
					b = append(b, " unreachable"...)
				}
			}
		case 4:
			if !need(8) {
				return p.longjmp(b[:mark], "icmp")
			}
			if b, ok = dst(b); ok {
				b = append(b, " unreachable - need to frag"...)
				if mtu := be16(m[6:8]); mtu != 0 {
					b = append(b, " (mtu "...)
					b = appendUint(b, mtu)
					b = append(b, ')')
				}
			}
		default:
			if int(code) < len(icmpUnreach) {
				b = append(b, icmpUnreach[code][0]...)
				if b, ok = dst(b); ok {
					b = append(b, icmpUnreach[code][1]...)
				}
			} else if b, ok = dst(b); ok { // beyond the table: "198.51.100.7 unreachable - #16"
				b = append(b, " unreachable - #"...)
				b = appendUint(b, int(code))
			}
		}
	case 5:
		var gw []byte
		if need(8) {
			gw = m[4:8]
		}
		switch code {
		case 0, 1:
			b = append(b, "redirect "...)
		case 2, 3:
			b = append(b, "redirect-tos "...)
		default:
			b = append(b, "redirect-#"...)
			b = appendUint(b, int(code))
			b = append(b, ' ')
		}
		if b, ok = dst(b); ok && gw != nil {
			switch code {
			case 0, 2:
				b = append(b, " to net "...)
			case 1, 3:
				b = append(b, " to host "...)
			default:
				b = append(b, " to "...)
			}
			b = netip.AddrFrom4([4]byte(gw)).AppendTo(b)
		} else {
			ok = false
		}
	case 11:
		if !need(28) {
			return trunc(b[:mark], "icmp")
		}
		switch code {
		case 0:
			b = append(b, "time exceeded in-transit"...)
		case 1:
			b = append(b, "ip reassembly time exceeded"...)
		default:
			b = append(b, "time exceeded-#"...)
			b = appendUint(b, int(code))
		}
	case 12:
		if code != 0 {
			b = append(b, "parameter problem - code "...)
			b = appendUint(b, int(code))
		} else if ok = need(5); ok {
			b = append(b, "parameter problem - octet "...)
			b = appendUint(b, int(m[4]))
		}
	case 13:
		if ok = need(8); ok {
			b = append(b, "time stamp query id "...)
			b = appendUint(b, be16(m[4:6]))
			b = append(b, " seq "...)
			b = appendUint(b, be16(m[6:8]))
		}
	case 14:
		if !need(20) { // checked first in tcpdump
			return trunc(b[:mark], "icmp")
		}
		b = append(b, "time stamp reply id "...)
		b = appendUint(b, be16(m[4:6]))
		b = append(b, " seq "...)
		b = appendUint(b, be16(m[6:8]))
		for i, what := range [3]string{": org ", ", recv ", ", xmit "} {
			b = append(b, what...)
			b = appendMillis(b, binary.BigEndian.Uint32(m[8+4*i:]))
		}
	case 18:
		if ok = need(12); ok {
			b = append(b, "address mask is 0x"...)
			b = appendHex(b, uint64(binary.BigEndian.Uint32(m[8:12])), 8)
		}
	default:
		if int(typ) < len(icmpNames) && icmpNames[typ] != "" {
			b = append(b, icmpNames[typ]...)
		} else {
			b = append(b, "type-#"...)
			b = appendUint(b, int(typ))
		}
	}
	if !ok {
		return p.longjmp(b[:mark], "icmp")
	}
	b = append(b, ", length "...)
	return appendUint(b, length)
}

// appendMillis appends an ICMP timestamp, milliseconds since midnight UT,
// as tcpdump does: hours:minutes:seconds.millis, the hours not wrapped.
func appendMillis(b []byte, ms uint32) []byte {
	sec := ms / 1000
	b = append2(b, int(sec/3600%100))
	if h := sec / 3600; h >= 100 {
		b = appendUint(b[:len(b)-2], int(h))
	}
	b = append(b, ':')
	b = append2(b, int(sec/60%60))
	b = append(b, ':')
	b = append2(b, int(sec%60))
	b = append(b, '.')
	return append(b, byte('0'+ms%1000/100), byte('0'+ms%100/10), byte('0'+ms%10))
}

// appendQuotedPort appends the port an ICMP or ICMPv6 port unreachable
// quotes: " udp port 33434", " tcp port 80", or for another protocol
// " protocol 132 port 9 unreachable".
func appendQuotedPort(b []byte, proto uint8, port int) []byte {
	switch proto {
	case packet.ProtoTCP:
		b = append(b, " tcp port "...)
	case packet.ProtoUDP:
		b = append(b, " udp port "...)
	default:
		b = append(b, " protocol "...)
		b = appendUint(b, int(proto))
		b = append(b, " port "...)
		b = appendUint(b, port)
		return append(b, " unreachable"...)
	}
	return appendUint(b, port)
}

// icmp6Names are tcpdump's names for the ICMPv6 types.
var icmp6Names = map[uint8]string{
	1: "destination unreachable", 2: "packet too big", 3: "time exceeded in-transit", 4: "parameter problem",
	128: "echo request", 129: "echo reply", 130: "multicast listener query", 131: "multicast listener report",
	132: "multicast listener done", 133: "router solicitation", 134: "router advertisement",
	135: "neighbor solicitation", 136: "neighbor advertisement", 137: "redirect", 138: "router renumbering",
	139: "who-are-you request", 140: "who-are-you reply", 141: "inverse neighbor solicitation",
	142: "inverse neighbor advertisement", 143: "multicast listener report v2", 144: "ha discovery request",
	145: "ha discovery reply", 146: "mobile router solicitation", 147: "mobile router advertisement",
	155: "RPL", 200: "mtrace response", 201: "mtrace message",
}

// icmp6Decoded are the ICMPv6 types tcpdump has a case for; others get
// their length and a hex dump.
func icmp6Decoded(typ uint8) bool {
	return typ >= 1 && typ <= 4 || typ >= 128 && typ <= 147 || typ == 155
}

var icmp6UnreachCodes = [...]string{"unreachable route", " unreachable prohibited", "beyond scope",
	"unreachable address", "unreachable port"}

// icmp6 prints an ICMPv6 message. Unlike ICMP, tcpdump prints as it goes,
// so a cut-short message keeps what was printed before the mark.
func (p *Printer) icmp6(b, m []byte, length int) []byte {
	if length == 0 {
		return append(b, "ICMP6, length 0 (invalid)"...)
	}
	if len(m) < 1 {
		return p.longjmp(b, "icmp6")
	}
	typ := m[0]
	b = append(b, "ICMP6, "...)
	if name, ok := icmp6Names[typ]; ok {
		b = append(b, name...)
	} else {
		b = append(b, "unknown icmp6 type ("...)
		b = appendUint(b, int(typ))
		b = append(b, ')')
	}
	if len(m) < 2 {
		return p.longjmp(b, "icmp6")
	}
	code := m[1]
	// addr appends prefix and the address at off. In tcpdump it is a GET,
	// evaluated before the prefix is printed: a missing address prints neither.
	addr := func(b []byte, prefix string, off int) ([]byte, bool) {
		if len(m) < off+16 {
			return b, false
		}
		b = append(b, prefix...)
		return netip.AddrFrom16([16]byte(m[off : off+16])).AppendTo(b), true
	}
	const oipSrc, oipDst = 8 + 8, 8 + 24
	ok := true
	switch {
	case typ == 1:
		b = append(b, ", "...)
		if int(code) >= len(icmp6UnreachCodes) {
			b = append(b, "unknown unreach code ("...)
			b = appendUint(b, int(code))
			b = append(b, ')')
			return appendHexOnly(b, m[:min(len(m), length)])
		}
		b = append(b, icmp6UnreachCodes[code]...)
		switch code {
		case 0, 1, 3:
			b, ok = addr(b, " ", oipDst)
		case 2:
			if ok = len(m) >= oipDst+16; ok {
				b, _ = addr(b, " ", oipDst)
				b, _ = addr(b, ", source address ", oipSrc)
			}
		case 4:
			proto, up, found := quotedUpper6(m[min(8, len(m)):])
			if !found {
				return trunc(b, "icmp6")
			}
			if b, ok = addr(b, ", ", oipDst); ok {
				b = appendQuotedPort(b, proto, be16(up[2:4]))
			}
		}
	case typ == 2:
		if ok = len(m) >= 8; ok {
			b = append(b, ", mtu "...)
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(m[4:8])), 10)
		}
	case typ == 3:
		switch code {
		case 0:
			b, ok = addr(b, " for ", oipDst)
		case 1:
			b = append(b, " (reassembly)"...)
		default:
			b = append(b, ", unknown code ("...)
			b = appendUint(b, int(code))
			b = append(b, ')')
		}
	case typ == 4:
		if len(m) < oipDst+16 {
			return trunc(b, "icmp6")
		}
		switch code {
		case 0:
			b = append(b, ", erroneous - octet "...)
		case 1:
			b = append(b, ", next header - octet "...)
		case 2:
			b = append(b, ", option - octet "...)
		default:
			b = append(b, ", code-#"...)
			b = appendUint(b, int(code))
		}
		if code <= 2 {
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(m[4:8])), 10)
		}
	case typ == 128 || typ == 129:
		if ok = len(m) >= 8; ok {
			b = append(b, ", id "...)
			b = appendUint(b, be16(m[4:6]))
			b = append(b, ", seq "...)
			b = appendUint(b, be16(m[6:8]))
		}
	case typ == 135:
		b, ok = addr(b, ", who has ", 8)
	case typ == 136:
		b, ok = addr(b, ", tgt is ", 8)
	case !icmp6Decoded(typ):
		b = append(b, ", length "...)
		b = appendUint(b, length)
		return appendHexOnly(b, m[:min(len(m), length)])
	}
	if !ok {
		return p.longjmp(b, "icmp6")
	}
	b = append(b, ", length "...)
	return appendUint(b, length)
}

// quotedUpper6 finds the UDP or TCP header in the datagram an ICMPv6 error
// quotes, q, as tcpdump's get_upperlayer does: from the next header field,
// past hop-by-hop, destination, routing, first-fragment and AH headers,
// reading only what it needs (not even the version); up holds at least the
// ports. ok is false for any other protocol, a later fragment, or bytes
// missing.
func quotedUpper6(q []byte) (proto uint8, up []byte, ok bool) {
	if len(q) < 7 {
		return 0, nil, false
	}
	nh, off, hlen := q[6], 0, packet.IPv6HeaderLen
	for off < len(q) {
		off += hlen
		if off >= len(q) {
			return 0, nil, false
		}
		h := q[off:]
		switch nh {
		case packet.ProtoUDP, packet.ProtoTCP:
			if len(h) < 4 {
				return 0, nil, false
			}
			return nh, h, true
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(h) < 2 {
				return 0, nil, false
			}
			nh, hlen = h[0], (int(h[1])+1)*8
		case 44: // fragment
			if len(h) < 4 || be16(h[2:4])&0xfff8 != 0 {
				return 0, nil, false
			}
			nh, hlen = h[0], 8
		case 51: // AH
			if len(h) < 2 {
				return 0, nil, false
			}
			nh, hlen = h[0], (int(h[1])+2)*4
		default:
			return 0, nil, false
		}
	}
	return 0, nil, false
}

const hexDigits = "0123456789abcdef"

// appendHex appends n in width lower-case hex digits.
func appendHex(b []byte, n uint64, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		b = append(b, hexDigits[n>>(4*i)&0xf])
	}
	return b
}

// appendMAC appends a hardware address as tcpdump -n prints it.
func appendMAC(b, mac []byte) []byte {
	for i, c := range mac {
		if i > 0 {
			b = append(b, ':')
		}
		b = appendHex(b, uint64(c), 2)
	}
	return b
}

// appendHexASCII appends tcpdump's hex_and_ascii_print: for each 16 bytes a
// line "\n\t0x0010:  4500 0054 ...  E..T" (hex padded to 40 columns).
func appendHexASCII(b, data []byte) []byte {
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		b = append(b, "\n\t0x"...)
		b = appendHex(b, uint64(off), 4)
		b = append(b, ": "...)
		n := 0
		for i, c := range line {
			if i%2 == 0 {
				b = append(b, ' ')
				n++
			}
			b = appendHex(b, uint64(c), 2)
			n += 2
		}
		for ; n < 40; n++ {
			b = append(b, ' ')
		}
		b = append(b, "  "...)
		for _, c := range line {
			if c < 0x21 || c > 0x7e {
				c = '.'
			}
			b = append(b, c)
		}
	}
	return b
}

// appendHexOnly appends tcpdump's hex_print, which print_unknown_data uses:
// "\n\t0x0000: " and up to 8 groups " 0105" per line, no ASCII.
func appendHexOnly(b, data []byte) []byte {
	for off := 0; off < len(data); off += 16 {
		b = append(b, "\n\t0x"...)
		b = appendHex(b, uint64(off), 4)
		b = append(b, ": "...)
		for i, c := range data[off:min(off+16, len(data))] {
			if i%2 == 0 {
				b = append(b, ' ')
			}
			b = appendHex(b, uint64(c), 2)
		}
	}
	return b
}
