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
