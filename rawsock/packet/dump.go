package packet

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// Layer names the header a dump starts at.
type Layer int

// Layers Dump can start at.
const (
	LayerEthernet Layer = iota + 1 // Ethernet II, as AF_PACKET SOCK_RAW delivers it
	LayerIP                        // IPv4 or IPv6, told apart by the version nibble
	LayerIPv4                      // IPv4, as a raw IPv4 socket delivers it
	LayerIPv6                      // IPv6
	LayerICMP                      // ICMPv4 alone, as an ICMP datagram socket delivers it
	LayerICMPv6                    // ICMPv6 alone, as raw and datagram ICMPv6 sockets deliver it
	LayerUDP                       // UDP
	LayerTCP                       // TCP
	LayerARP                       // ARP
)

var layerNames = map[Layer]string{
	LayerEthernet: "Ethernet", LayerIP: "IP", LayerIPv4: "IPv4", LayerIPv6: "IPv6",
	LayerICMP: "ICMP", LayerICMPv6: "ICMPv6", LayerUDP: "UDP", LayerTCP: "TCP", LayerARP: "ARP",
}

func (l Layer) String() string {
	if s, ok := layerNames[l]; ok {
		return s
	}
	return fmt.Sprintf("Layer(%d)", int(l))
}

// Dump returns an annotated dump of the packet b, which starts with a first
// header: every field of every header it can decode, one per line, with its
// offset in b, its bytes and its value, as the byte pane of a packet
// analyser shows it.
//
//	IPv4 header, 20 bytes
//	0000  45                       version 4, IHL 5 (20 bytes)
//	0001  00                       type of service 0x00 (DSCP 0, ECN 0)
//	0002  00 54                    total length 84
//
// Headers follow each other: Ethernet, then ARP or IP; IP, then ICMP, UDP
// or TCP; an ICMP error, then the datagram it quotes. Checksums are verified
// where every byte they cover is present. A truncated packet is dumped as
// far as it goes, followed by the fields that are missing; a length field
// that lies is called out; bytes that decode as nothing are shown as data.
//
// Dump describes b as a packet received: a zero checksum is wrong. Use
// DumpWith and DumpOptions.Sent for one this host sends.
func Dump(b []byte, first Layer) string { return DumpWith(b, first, DumpOptions{}) }

// DumpOptions say what Dump cannot tell from the bytes.
type DumpOptions struct {
	// Sent says the packet is one this host sends on a raw socket with
	// IP_HDRINCL (raw(7)), where Linux fills in an IPv4 total length,
	// identification, header checksum or source address left 0: the dump
	// says so instead of calling them wrong. A received packet has no
	// such excuse.
	Sent bool
}

// DumpWith is Dump with options.
func DumpWith(b []byte, first Layer, o DumpOptions) string {
	var sb strings.Builder
	d := dumper{w: &sb, b: b, sent: o.Sent}
	d.layer(first, 0, len(b), ipContext{complete: true})
	if sb.Len() == 0 {
		return "no bytes\n"
	}
	return sb.String()
}

// WriteDump writes Dump(b, first) to w.
func WriteDump(w io.Writer, b []byte, first Layer) error {
	_, err := io.WriteString(w, Dump(b, first))
	return err
}

// Hexdump returns b as `hexdump -C` prints it: offset, 16 bytes in hex in two
// groups of 8, the same bytes as ASCII, and a last line with the length.
func Hexdump(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return hex.Dump(b) + fmt.Sprintf("%08x\n", len(b))
}

const (
	dumpBytesPerLine = 8
	maxQuoteDepth    = 3 // ICMP errors quoting ICMP errors: enough to show it, bounded
)

// ipContext is what a transport layer needs from the IP layer beneath it:
// the addresses for the pseudo-header, and whether the segment is complete
// (a checksum over a partial segment cannot be checked).
type ipContext struct {
	src, dst netip.Addr
	complete bool
	quoted   bool // inside an ICMP error's quoted datagram
	depth    int
}

type dumper struct {
	w    *strings.Builder
	b    []byte
	sent bool // DumpOptions.Sent
}

// field is one header field: its length, its name (for the list of what a
// truncated packet is missing) and how to describe its bytes.
type field struct {
	n    int
	name string
	desc func(p []byte) string
}

func (d *dumper) title(ctx ipContext, format string, args ...any) {
	d.w.WriteString(strings.Repeat("  ", ctx.depth))
	fmt.Fprintf(d.w, format, args...)
	d.w.WriteByte('\n')
}

// line prints bytes at off with desc, continuing long runs on more lines.
func (d *dumper) line(ctx ipContext, off int, p []byte, desc string) {
	indent := strings.Repeat("  ", ctx.depth)
	for first := true; first || len(p) > 0; first = false {
		n := min(len(p), dumpBytesPerLine)
		l := fmt.Sprintf("%04x  %-23s  %s%s", off, hexBytes(p[:n]), indent, desc)
		d.w.WriteString(strings.TrimRight(l, " "))
		d.w.WriteByte('\n')
		desc = ""
		off, p = off+n, p[n:]
	}
}

func hexBytes(p []byte) string {
	var sb strings.Builder
	for i, c := range p {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// fields prints fs in order from off, bounded by end. At the first field
// that does not fit it prints the bytes that are there and the names of all
// that are missing, and returns false.
func (d *dumper) fields(ctx ipContext, off, end int, fs []field) bool {
	for i, f := range fs {
		if off+f.n > end {
			have := max(end-off, 0)
			if have > 0 {
				d.line(ctx, off, d.b[off:end], fmt.Sprintf("%s: truncated, %d of %d bytes", f.name, have, f.n))
			}
			names := []string{f.name}
			for _, g := range fs[i+1:] {
				names = append(names, g.name)
			}
			what := "missing"
			if ctx.quoted {
				what = "not quoted" // cut short on purpose: not an error
			}
			d.title(ctx, "      %s: %s", what, strings.Join(names, ", "))
			return false
		}
		d.line(ctx, off, d.b[off:off+f.n], f.desc(d.b[off:off+f.n]))
		off += f.n
	}
	return true
}

// data prints b[off:end] as payload rows, each described by its ASCII.
func (d *dumper) data(ctx ipContext, off, end int, what string) {
	if off >= end {
		return
	}
	d.title(ctx, "%s, %d bytes", what, end-off)
	for ; off < end; off += dumpBytesPerLine {
		p := d.b[off:min(off+dumpBytesPerLine, end)]
		d.line(ctx, off, p, "|"+printable(p)+"|")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func printable(p []byte) string {
	r := make([]byte, len(p))
	for i, c := range p {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		r[i] = c
	}
	return string(r)
}

func (d *dumper) layer(l Layer, off, end int, ctx ipContext) {
	if l == LayerIP {
		// Anything but version 6 is shown as IPv4, which flags a bad version.
		l = LayerIPv4
		if off < end && d.b[off]>>4 == 6 {
			l = LayerIPv6
		}
	}
	switch l {
	case LayerEthernet:
		d.ethernet(off, end, ctx)
	case LayerIPv4:
		d.ipv4(off, end, ctx)
	case LayerIPv6:
		d.ipv6(off, end, ctx)
	case LayerICMP:
		d.icmp(ProtoICMP, off, end, ctx)
	case LayerICMPv6:
		d.icmp(ProtoICMPv6, off, end, ctx)
	case LayerUDP:
		d.udp(off, end, ctx)
	case LayerTCP:
		d.tcp(off, end, ctx)
	case LayerARP:
		d.arp(off, end, ctx)
	default:
		d.data(ctx, off, end, fmt.Sprintf("undecoded (%v)", l))
	}
}

func u16(p []byte) int { return int(binary.BigEndian.Uint16(p)) }

// protoLayer returns the layer of an IP protocol number, 0 for unknown ones.
func protoLayer(proto uint8) Layer {
	switch proto {
	case ProtoICMP:
		return LayerICMP
	case ProtoICMPv6:
		return LayerICMPv6
	case ProtoUDP:
		return LayerUDP
	case ProtoTCP:
		return LayerTCP
	}
	return 0
}

var protoNames = map[uint8]string{
	ipv6HopByHop: "IPv6 hop-by-hop options", ProtoICMP: "ICMP", 2: "IGMP", 4: "IPv4-in-IP",
	ProtoTCP: "TCP", ProtoUDP: "UDP", 41: "IPv6-in-IP", ipv6Routing: "IPv6 routing header",
	ipv6Fragment: "IPv6 fragment header", 47: "GRE", 50: "ESP", 51: "AH", ProtoICMPv6: "ICMPv6",
	ipv6NoNext: "no next header", ipv6DestOptions: "IPv6 destination options", 132: "SCTP",
}

func protoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return fmt.Sprintf("%d (%s)", p, s)
	}
	return fmt.Sprint(p)
}

// upper dumps the upper layer of an IP packet, or its bytes as data.
func (d *dumper) upper(proto uint8, off, end int, ctx ipContext) {
	if l := protoLayer(proto); l != 0 {
		d.layer(l, off, end, ctx)
		return
	}
	d.data(ctx, off, end, "payload, protocol "+protoName(proto))
}

// checksumNote describes the checksum field at off in seg (a whole header
// or segment) under the pseudo-header sum ps.
func checksumNote(ps uint32, seg []byte, off int, verifiable bool, why string) string {
	got := binary.BigEndian.Uint16(seg[off:])
	if !verifiable {
		return fmt.Sprintf("checksum 0x%04x (not verified: %s)", got, why)
	}
	if Fold(Sum(ps, seg)) == 0 {
		return fmt.Sprintf("checksum 0x%04x (correct)", got)
	}
	return fmt.Sprintf("checksum 0x%04x (wrong: should be 0x%04x)", got, checksumWithout(ps, seg, off))
}

func (d *dumper) ethernet(off, end int, ctx ipContext) {
	// The header's length depends on the tags: count them first.
	tags := 0
	for at := off + 12; tags < MaxVLANTags && at+2 <= end && isVLANTPID(uint16(u16(d.b[at:]))); at += VLANTagLen {
		tags++
	}
	title := fmt.Sprintf("Ethernet II header, %d bytes", EthernetHeaderLen+VLANTagLen*tags)
	if tags > 0 {
		title += fmt.Sprintf(" (%s)", plural(tags, "VLAN tag"))
	}
	d.title(ctx, "%s", title)
	fs := []field{
		{6, "destination MAC", func(p []byte) string { return "destination " + MAC(p).String() }},
		{6, "source MAC", func(p []byte) string { return "source " + MAC(p).String() }},
	}
	for i := range tags {
		which := fmt.Sprintf("tag %d", i+1)
		fs = append(fs,
			field{2, which + " TPID", func(p []byte) string { return fmt.Sprintf("%s: TPID %s", which, etherTypeName(uint16(u16(p)))) }},
			field{2, which + " TCI", func(p []byte) string {
				tci := uint16(u16(p))
				return fmt.Sprintf("%s: TCI 0x%04x (priority %d, DEI %d, VLAN ID %d)", which, tci, tci>>13, tci>>12&1, tci&0x0fff)
			}})
	}
	var et uint16
	fs = append(fs, field{2, "EtherType", func(p []byte) string {
		et = uint16(u16(p))
		return "EtherType " + etherTypeName(et)
	}})
	if !d.fields(ctx, off, end, fs) {
		return
	}
	off += EthernetHeaderLen + VLANTagLen*tags
	switch et {
	case EtherTypeIPv4:
		d.ipv4(off, end, ctx)
	case EtherTypeIPv6:
		d.ipv6(off, end, ctx)
	case EtherTypeARP:
		d.arp(off, end, ctx)
	default:
		d.data(ctx, off, end, "payload")
	}
}

func etherTypeName(et uint16) string {
	switch {
	case et == EtherTypeIPv4:
		return "0x0800 (IPv4)"
	case et == EtherTypeARP:
		return "0x0806 (ARP)"
	case et == EtherTypeIPv6:
		return "0x86dd (IPv6)"
	case et == EtherTypeVLAN:
		return "0x8100 (802.1Q VLAN tag)"
	case et == EtherTypeQinQ:
		return "0x88a8 (802.1ad service tag, QinQ)"
	case et < 0x0600:
		return fmt.Sprintf("0x%04x (an IEEE 802.3 length, %d bytes, not a type)", et, et)
	}
	return fmt.Sprintf("0x%04x", et)
}

func (d *dumper) arp(off, end int, ctx ipContext) {
	d.title(ctx, "ARP packet")
	var hlen, plen int
	ok := d.fields(ctx, off, end, []field{
		{2, "hardware type", func(p []byte) string {
			if u16(p) == 1 {
				return "hardware type 1 (Ethernet)"
			}
			return fmt.Sprintf("hardware type %d", u16(p))
		}},
		{2, "protocol type", func(p []byte) string { return "protocol type " + etherTypeName(uint16(u16(p))) }},
		{1, "hardware address length", func(p []byte) string { hlen = int(p[0]); return fmt.Sprintf("hardware address length %d", p[0]) }},
		{1, "protocol address length", func(p []byte) string { plen = int(p[0]); return fmt.Sprintf("protocol address length %d", p[0]) }},
		{2, "operation", func(p []byte) string {
			switch u16(p) {
			case ARPRequest:
				return "operation 1 (request)"
			case ARPReply:
				return "operation 2 (reply)"
			}
			return fmt.Sprintf("operation %d", u16(p))
		}},
	})
	if !ok {
		return
	}
	off += 8
	addr := func(p []byte) string {
		if len(p) == 4 {
			return netip.AddrFrom4([4]byte(p)).String()
		}
		if len(p) == 6 {
			return MAC(p).String()
		}
		return hexBytes(p)
	}
	fs := []field{
		{hlen, "sender hardware address", func(p []byte) string { return "sender hardware address " + addr(p) }},
		{plen, "sender protocol address", func(p []byte) string { return "sender protocol address " + addr(p) }},
		{hlen, "target hardware address", func(p []byte) string { return "target hardware address " + addr(p) }},
		{plen, "target protocol address", func(p []byte) string { return "target protocol address " + addr(p) }},
	}
	if d.fields(ctx, off, end, fs) {
		off += 2 * (hlen + plen)
		d.data(ctx, off, end, "padding")
	}
}

func (d *dumper) ipv4(off, end int, ctx ipContext) {
	p := d.b[off:end]
	ihl, hl, tl := 5, IPv4HeaderLen, -1
	if len(p) > 0 {
		ihl = int(p[0] & 0x0f)
		hl = max(ihl*4, IPv4HeaderLen)
	}
	if len(p) >= 4 {
		tl = u16(p[2:])
	}
	// Sent with IP_HDRINCL, a total length of 0 is the packet's length:
	// Linux fills it in.
	kernelFills := d.sent && !ctx.quoted
	tlZero := kernelFills && tl == 0
	if tlZero {
		tl = len(p)
	}
	d.title(ctx, "IPv4 header, %d bytes", hl)
	var fragOff int
	var proto uint8
	var src, dst netip.Addr
	ok := d.fields(ctx, off, end, []field{
		{1, "version and IHL", func(p []byte) string {
			s := fmt.Sprintf("version %d, IHL %d (%d bytes)", p[0]>>4, ihl, ihl*4)
			if p[0]>>4 != 4 {
				s += " [version is not 4]"
			}
			if ihl < 5 {
				s += " [IHL below the minimum 5: the options and payload are not decoded]"
			}
			return s
		}},
		{1, "type of service", func(p []byte) string {
			return fmt.Sprintf("type of service 0x%02x (DSCP %d, ECN %d)", p[0], p[0]>>2, p[0]&3)
		}},
		{2, "total length", func(p []byte) string {
			if tlZero {
				return fmt.Sprintf("total length 0 (Linux fills it in on IP_HDRINCL: %d)", tl)
			}
			s := fmt.Sprintf("total length %d", tl)
			switch {
			case tl < hl:
				s += fmt.Sprintf(" [below the header length %d]", hl)
			case tl > end-off && ctx.quoted:
				s += fmt.Sprintf(" (the ICMP error quotes %d of them)", end-off)
			case tl > end-off:
				s += fmt.Sprintf(" [only %d bytes present]", end-off)
			}
			return s
		}},
		{2, "identification", func(p []byte) string {
			if u16(p) == 0 && kernelFills {
				return "identification 0x0000 (0: Linux picks one on IP_HDRINCL)"
			}
			return fmt.Sprintf("identification 0x%04x (%d)", u16(p), u16(p))
		}},
		{2, "flags and fragment offset", func(p []byte) string {
			v := u16(p)
			fragOff = v & 0x1fff
			var fl []string
			if v&0x8000 != 0 {
				fl = append(fl, "reserved bit set")
			}
			if v&0x4000 != 0 {
				fl = append(fl, "DF")
			}
			if v&0x2000 != 0 {
				fl = append(fl, "MF")
			}
			if fl == nil {
				fl = []string{"none"}
			}
			return fmt.Sprintf("flags %s, fragment offset %d (%d bytes)", strings.Join(fl, " "), fragOff, fragOff*8)
		}},
		{1, "TTL", func(p []byte) string { return fmt.Sprintf("TTL %d", p[0]) }},
		{1, "protocol", func(p []byte) string { proto = p[0]; return "protocol " + protoName(p[0]) }},
		{2, "header checksum", func(p []byte) string {
			switch {
			case ihl < 5 || hl > end-off:
				return fmt.Sprintf("header checksum 0x%04x (not verified: header incomplete)", u16(p))
			case u16(p) == 0 && kernelFills && Checksum(d.b[off:off+hl]) != 0:
				return fmt.Sprintf("header checksum 0x0000 (not set: should be 0x%04x; Linux fills it in on IP_HDRINCL)", checksumWithout(0, d.b[off:off+hl], 10))
			}
			return "header " + checksumNote(0, d.b[off:off+hl], 10, true, "")
		}},
		{4, "source address", func(p []byte) string {
			src = netip.AddrFrom4([4]byte(p))
			if src.IsUnspecified() && kernelFills {
				return "source 0.0.0.0 (Linux fills it in on IP_HDRINCL)"
			}
			return "source " + src.String()
		}},
		{4, "destination address", func(p []byte) string {
			dst = netip.AddrFrom4([4]byte(p))
			return "destination " + dst.String()
		}},
	})
	if !ok {
		return
	}
	if ihl < 5 {
		d.data(ctx, off+IPv4HeaderLen, end, "undecoded")
		return
	}
	if !d.options(ctx, off+IPv4HeaderLen, off+hl, end, ipv4OptionName) {
		return
	}
	pend := end
	if tl >= hl && off+tl < end {
		pend = off + tl
	}
	if tl < hl {
		d.data(ctx, off+hl, end, "payload (the total length is below the header length)")
		return
	}
	inner := ipContext{src: src, dst: dst, complete: off+tl <= end, quoted: ctx.quoted, depth: ctx.depth}
	if fragOff != 0 {
		d.data(ctx, off+hl, pend, fmt.Sprintf("fragment at byte %d of a %s datagram: no %s header in it", fragOff*8, protoName(proto), protoName(proto)))
	} else {
		d.upper(proto, off+hl, pend, inner)
	}
	d.tail(ctx, off+tl, end, tl-(end-off))
}

// tail reports what follows the end a length field gives, or what it promises
// and is missing.
func (d *dumper) tail(ctx ipContext, lenEnd, end, missing int) {
	switch {
	case missing > 0 && ctx.quoted:
	case missing > 0:
		d.title(ctx, "      missing: %d bytes the length field promises", missing)
	case lenEnd < end:
		d.data(ctx, lenEnd, end, "trailer past the length field (Ethernet padding, or junk)")
	}
}

var ipv4OptionNames = map[byte]string{0: "end of options", 1: "no-op", 7: "record route",
	68: "timestamp", 130: "security", 131: "loose source route", 137: "strict source route", 148: "router alert"}

func ipv4OptionName(kind byte, _ []byte) string {
	if s, ok := ipv4OptionNames[kind]; ok {
		return s
	}
	return "unknown"
}

// options prints the IPv4 or TCP options in [off, optEnd), bounded by end,
// one per line. It returns false when the packet ends inside them.
func (d *dumper) options(ctx ipContext, off, optEnd, end int, name func(kind byte, p []byte) string) bool {
	if off >= optEnd {
		return true
	}
	d.title(ctx, "options, %d bytes", optEnd-off)
	if optEnd > end {
		d.data(ctx, off, end, "options: truncated")
		d.title(ctx, "      missing: %d bytes of options, and everything after", optEnd-end)
		return false
	}
	for off < optEnd {
		kind, n := nextOption(d.b[off:optEnd])
		switch {
		case n == 0:
			d.line(ctx, off, d.b[off:optEnd], "end of options (and padding)")
			return true
		case n < 0:
			d.line(ctx, off, d.b[off:optEnd], fmt.Sprintf("option kind %d with a bad length [malformed]", kind))
			return true
		}
		p := d.b[off : off+n]
		d.line(ctx, off, p, fmt.Sprintf("option %s (kind %d, %s)", name(kind, p), kind, plural(n, "byte")))
		off += n
	}
	return true
}

func (d *dumper) ipv6(off, end int, ctx ipContext) {
	d.title(ctx, "IPv6 header, %d bytes", IPv6HeaderLen)
	var pl int
	var next uint8
	var src, dst netip.Addr
	ok := d.fields(ctx, off, end, []field{
		{4, "version, traffic class and flow label", func(p []byte) string {
			v := binary.BigEndian.Uint32(p)
			s := fmt.Sprintf("version %d, traffic class 0x%02x, flow label 0x%05x", v>>28, uint8(v>>20), v&0xfffff)
			if v>>28 != 6 {
				s += " [version is not 6]"
			}
			return s
		}},
		{2, "payload length", func(p []byte) string {
			pl = u16(p)
			s := fmt.Sprintf("payload length %d", pl)
			if have := end - off - IPv6HeaderLen; pl > have && have >= 0 {
				if ctx.quoted {
					s += fmt.Sprintf(" (the ICMPv6 error quotes %d of them)", have)
				} else {
					s += fmt.Sprintf(" [only %d bytes present]", have)
				}
			}
			return s
		}},
		{1, "next header", func(p []byte) string { next = p[0]; return "next header " + protoName(p[0]) }},
		{1, "hop limit", func(p []byte) string { return fmt.Sprintf("hop limit %d", p[0]) }},
		{16, "source address", func(p []byte) string { src = netip.AddrFrom16([16]byte(p)); return "source " + src.String() }},
		{16, "destination address", func(p []byte) string { dst = netip.AddrFrom16([16]byte(p)); return "destination " + dst.String() }},
	})
	if !ok {
		return
	}
	start := off + IPv6HeaderLen
	inner := ipContext{src: src, dst: dst, complete: start+pl <= end, quoted: ctx.quoted, depth: ctx.depth}
	d.ipv6Payload(next, start, min(start+pl, end), inner)
	d.tail(ctx, start+pl, end, start+pl-end)
}

// ipv6Payload dumps the extension headers in [start, end), the first named
// by next, then the upper layer.
func (d *dumper) ipv6Payload(next uint8, start, end int, ctx ipContext) {
	for range 16 {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOptions:
			var n int
			name := protoNames[next]
			if !d.fields(ctx, start, end, []field{{2, name, func(p []byte) string {
				n = (int(p[1]) + 1) * 8
				return fmt.Sprintf("%s: next header %s, %d bytes", name, protoName(p[0]), n)
			}}}) {
				return
			}
			if start+n > end {
				d.data(ctx, start+2, end, name+": truncated")
				return
			}
			d.line(ctx, start+2, d.b[start+2:start+n], name+" data")
			next, start = d.b[start], start+n
			continue
		case ipv6Fragment:
			var fo int
			if !d.fields(ctx, start, end, []field{
				{1, "fragment next header", func(p []byte) string { return "fragment header: next header " + protoName(p[0]) }},
				{1, "fragment reserved", func(p []byte) string { return "reserved" }},
				{2, "fragment offset", func(p []byte) string {
					fo = u16(p) >> 3
					more := "no more fragments"
					if p[1]&1 == 1 {
						more = "more fragments follow"
					}
					return fmt.Sprintf("fragment offset %d (%d bytes), %s", fo, fo*8, more)
				}},
				{4, "fragment identification", func(p []byte) string {
					return fmt.Sprintf("identification 0x%08x", binary.BigEndian.Uint32(p))
				}},
			}) {
				return
			}
			next, start = d.b[start], start+8
			if fo != 0 {
				d.data(ctx, start, end, fmt.Sprintf("fragment at byte %d: no %s header in it", fo*8, protoName(next)))
				return
			}
			continue
		}
		break
	}
	if next == ipv6NoNext {
		d.data(ctx, start, end, "bytes after 'no next header'")
		return
	}
	d.upper(next, start, end, ctx)
}

// pseudo returns the pseudo-header sum for a transport checksum, and why it
// cannot be checked when it cannot.
func (ctx ipContext) pseudo(proto uint8, seg []byte) (uint32, bool, string) {
	switch {
	case ctx.quoted:
		return 0, false, "quoted"
	case !ctx.complete:
		return 0, false, "segment truncated"
	case !ctx.src.IsValid():
		return 0, false, "no IP header to give the pseudo-header"
	}
	ps, err := PseudoHeaderSum(ctx.src, ctx.dst, proto, len(seg))
	if err != nil {
		return 0, false, err.Error()
	}
	return ps, true, ""
}

func (d *dumper) udp(off, end int, ctx ipContext) {
	seg := d.b[off:end]
	d.title(ctx, "UDP header, %d bytes", UDPHeaderLen)
	l := -1
	if len(seg) >= 6 {
		l = u16(seg[4:])
	}
	ok := d.fields(ctx, off, end, []field{
		{2, "source port", func(p []byte) string { return fmt.Sprintf("source port %d", u16(p)) }},
		{2, "destination port", func(p []byte) string { return fmt.Sprintf("destination port %d", u16(p)) }},
		{2, "length", func(p []byte) string {
			s := fmt.Sprintf("length %d", l)
			switch {
			case l < UDPHeaderLen:
				s += " [below the header length 8]"
			case l > len(seg) && ctx.quoted:
				s += fmt.Sprintf(" (the ICMP error quotes %d of them)", len(seg))
			case l > len(seg):
				s += fmt.Sprintf(" [only %d bytes present]", len(seg))
			case l < len(seg):
				s += fmt.Sprintf(" [%d bytes fewer than the IP layer carries]", len(seg)-l)
			}
			return s
		}},
		{2, "checksum", func(p []byte) string {
			switch {
			case ctx.quoted:
				return checksumNote(0, seg, 6, false, "quoted")
			case u16(p) == 0 && ctx.src.Is4():
				return "checksum 0x0000 (none: allowed over IPv4)"
			case l != len(seg):
				return checksumNote(0, seg, 6, false, "length does not match the IP layer")
			}
			ps, ok, why := ctx.pseudo(ProtoUDP, seg)
			return checksumNote(ps, seg, 6, ok, why)
		}},
	})
	if ok {
		d.data(ctx, off+UDPHeaderLen, end, "data")
	}
}

var tcpOptionNames = map[byte]string{0: "end of options", 1: "no-op", 2: "MSS", 3: "window scale",
	4: "SACK permitted", 5: "SACK", 8: "timestamps", 30: "multipath TCP", 34: "TCP Fast Open cookie"}

func tcpOptionName(kind byte, p []byte) string {
	s, ok := tcpOptionNames[kind]
	if !ok {
		return "unknown"
	}
	switch {
	case kind == 2 && len(p) == 4:
		s += fmt.Sprintf(" %d", u16(p[2:]))
	case kind == 3 && len(p) == 3:
		s += fmt.Sprintf(" %d (x%d)", p[2], 1<<min(p[2], 14))
	case kind == 8 && len(p) == 10:
		s += fmt.Sprintf(" TSval %d TSecr %d", binary.BigEndian.Uint32(p[2:]), binary.BigEndian.Uint32(p[6:]))
	}
	return s
}

func (d *dumper) tcp(off, end int, ctx ipContext) {
	seg := d.b[off:end]
	hl := TCPHeaderLen
	if len(seg) > 12 {
		hl = int(seg[12]>>4) * 4
	}
	d.title(ctx, "TCP header, %d bytes", max(hl, TCPHeaderLen))
	ok := d.fields(ctx, off, end, []field{
		{2, "source port", func(p []byte) string { return fmt.Sprintf("source port %d", u16(p)) }},
		{2, "destination port", func(p []byte) string { return fmt.Sprintf("destination port %d", u16(p)) }},
		{4, "sequence number", func(p []byte) string { return fmt.Sprintf("sequence number %d", binary.BigEndian.Uint32(p)) }},
		{4, "acknowledgment number", func(p []byte) string {
			return fmt.Sprintf("acknowledgment number %d", binary.BigEndian.Uint32(p))
		}},
		{1, "data offset", func(p []byte) string {
			s := fmt.Sprintf("data offset %d (%d bytes)", p[0]>>4, hl)
			if hl < TCPHeaderLen {
				s += " [below the minimum 5: options and data are not decoded]"
			}
			if p[0]&0x0f != 0 {
				s += fmt.Sprintf(", reserved bits 0x%x [should be 0]", p[0]&0x0f)
			}
			return s
		}},
		{1, "flags", func(p []byte) string { return fmt.Sprintf("flags 0x%02x (%s)", p[0], TCPFlags(p[0]).names()) }},
		{2, "window", func(p []byte) string { return fmt.Sprintf("window %d", u16(p)) }},
		{2, "checksum", func(p []byte) string {
			ps, ok, why := ctx.pseudo(ProtoTCP, seg)
			return checksumNote(ps, seg, 16, ok, why)
		}},
		{2, "urgent pointer", func(p []byte) string { return fmt.Sprintf("urgent pointer %d", u16(p)) }},
	})
	if !ok {
		return
	}
	if hl < TCPHeaderLen {
		d.data(ctx, off+TCPHeaderLen, end, "undecoded")
		return
	}
	if d.options(ctx, off+TCPHeaderLen, off+hl, end, tcpOptionName) {
		d.data(ctx, off+hl, end, "data")
	}
}
