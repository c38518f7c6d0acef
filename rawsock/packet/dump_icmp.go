package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// icmp dumps an ICMP or ICMPv6 message: the header, its 4 bytes after the
// checksum as the type defines them, and an error's quoted datagram.
func (d *dumper) icmp(proto int, off, end int, ctx ipContext) {
	name := "ICMP"
	if proto == ProtoICMPv6 {
		name = "ICMPv6"
	}
	seg := d.b[off:end]
	var typ, code uint8
	if len(seg) >= 2 {
		typ, code = seg[0], seg[1]
	}
	d.title(ctx, "%s %s, %d bytes", name, icmpDescribe(proto, typ, code), len(seg))
	isEcho := proto == ProtoICMP && (typ == ICMPv4EchoRequest || typ == ICMPv4EchoReply) ||
		proto == ProtoICMPv6 && (typ == ICMPv6EchoRequest || typ == ICMPv6EchoReply)
	isErr := icmpIsError(proto, typ)
	fs := []field{
		{1, "type", func(p []byte) string { return fmt.Sprintf("type %d (%s)", p[0], icmpTypeName(proto, p[0])) }},
		{1, "code", func(p []byte) string {
			if c := icmpCodeName(proto, typ, p[0]); c != "" {
				return fmt.Sprintf("code %d (%s)", p[0], c)
			}
			return fmt.Sprintf("code %d", p[0])
		}},
		{2, "checksum", func(p []byte) string {
			if proto == ProtoICMP {
				why := "message truncated"
				if ctx.quoted {
					why = "quoted"
				}
				return checksumNote(0, seg, 2, ctx.complete && !ctx.quoted, why)
			}
			ps, ok, why := ctx.pseudo(ProtoICMPv6, seg)
			return checksumNote(ps, seg, 2, ok, why)
		}},
	}
	fs = append(fs, icmpRestFields(proto, typ, code)...)
	if !d.fields(ctx, off, end, fs) {
		return
	}
	off += ICMPHeaderLen
	switch {
	case isErr && ctx.depth < maxQuoteDepth && off < end:
		qend := off + len(quotedPart(proto, seg))
		d.title(ctx, "quoted datagram, %d bytes:", qend-off)
		q := ipContext{quoted: true, depth: ctx.depth + 1}
		if proto == ProtoICMPv6 {
			d.ipv6(off, qend, q)
		} else {
			d.ipv4(off, qend, q)
		}
		d.data(ctx, qend, end, "ICMP extensions (RFC 4884)")
	case isEcho:
		d.data(ctx, off, end, "data")
	case proto == ProtoICMP && (typ == ICMPv4Timestamp || typ == ICMPv4TimestampReply):
		d.title(ctx, "timestamps (RFC 792)")
		if d.fields(ctx, off, end, []field{msField("originate timestamp"), msField("receive timestamp"), msField("transmit timestamp")}) {
			d.data(ctx, off+12, end, "message body past the timestamps")
		}
	case proto == ProtoICMP && (typ == ICMPv4MaskRequest || typ == ICMPv4MaskReply):
		if d.fields(ctx, off, end, []field{{4, "address mask", func(p []byte) string {
			return "address mask " + netip.AddrFrom4([4]byte(p)).String()
		}}}) {
			d.data(ctx, off+4, end, "message body past the mask")
		}
	default:
		d.data(ctx, off, end, "message body")
	}
}

// icmpRestFields describes the 4 header bytes after the checksum, whose
// meaning follows the type (and for a destination unreachable the code):
// RFC 792, RFC 1191, RFC 1256, RFC 4443, RFC 4884.
func icmpRestFields(proto int, typ, code uint8) []field {
	idSeq := []field{
		{2, "identifier", func(p []byte) string { return fmt.Sprintf("identifier 0x%04x (%d)", u16(p), u16(p)) }},
		{2, "sequence number", func(p []byte) string { return fmt.Sprintf("sequence number %d", u16(p)) }},
	}
	unused := func(n int) field {
		return field{n, "unused", func(p []byte) string {
			for _, c := range p {
				if c != 0 {
					return "unused [not zero]"
				}
			}
			return "unused"
		}}
	}
	// RFC 4884's length of the quoted datagram, in words of unit bytes.
	length := func(unit int) field {
		return field{1, "length", func(p []byte) string {
			if p[0] == 0 {
				return "length 0 (no RFC 4884 extensions)"
			}
			return fmt.Sprintf("length %d (RFC 4884: a quoted datagram of %d bytes, extensions after it)", p[0], int(p[0])*unit)
		}}
	}
	if proto == ProtoICMPv6 {
		switch typ {
		case ICMPv6EchoRequest, ICMPv6EchoReply:
			return idSeq
		case ICMPv6PacketTooBig:
			return []field{{4, "MTU", func(p []byte) string { return fmt.Sprintf("MTU %d", binary.BigEndian.Uint32(p)) }}}
		case ICMPv6DestUnreach, ICMPv6TimeExceeded:
			return []field{length(8), unused(3)}
		case ICMPv6ParamProblem:
			return []field{{4, "pointer", func(p []byte) string {
				return fmt.Sprintf("pointer %d (the offset of the bad byte)", binary.BigEndian.Uint32(p))
			}}}
		}
		return []field{{4, "rest of header", func(p []byte) string {
			return fmt.Sprintf("rest of header 0x%08x", binary.BigEndian.Uint32(p))
		}}}
	}
	switch typ {
	case ICMPv4EchoRequest, ICMPv4EchoReply, ICMPv4Timestamp, ICMPv4TimestampReply,
		ICMPv4InfoRequest, ICMPv4InfoReply, ICMPv4MaskRequest, ICMPv4MaskReply:
		return idSeq
	case ICMPv4DestUnreach:
		if code == 4 {
			return []field{unused(1), length(4),
				{2, "next-hop MTU", func(p []byte) string { return fmt.Sprintf("next-hop MTU %d (RFC 1191)", u16(p)) }}}
		}
		return []field{unused(1), length(4), unused(2)}
	case ICMPv4TimeExceeded:
		return []field{unused(1), length(4), unused(2)}
	case ICMPv4ParamProblem:
		return []field{{1, "pointer", func(p []byte) string { return fmt.Sprintf("pointer %d (the offset of the bad byte)", p[0]) }},
			length(4), unused(2)}
	case ICMPv4Redirect:
		return []field{{4, "gateway", func(p []byte) string { return "gateway " + netip.AddrFrom4([4]byte(p)).String() }}}
	case ICMPv4SourceQuench, ICMPv4RouterSolicit:
		return []field{unused(4)}
	case ICMPv4RouterAdvert:
		return []field{
			{1, "number of addresses", func(p []byte) string { return fmt.Sprintf("number of addresses %d", p[0]) }},
			{1, "address entry size", func(p []byte) string { return fmt.Sprintf("address entry size %d (32-bit words)", p[0]) }},
			{2, "lifetime", func(p []byte) string { return fmt.Sprintf("lifetime %d s", u16(p)) }},
		}
	}
	return []field{{4, "rest of header", func(p []byte) string {
		return fmt.Sprintf("rest of header 0x%08x", binary.BigEndian.Uint32(p))
	}}}
}

// msField is an RFC 792 timestamp: milliseconds since midnight UT, or,
// with the high bit set, a time in another unit.
func msField(name string) field {
	return field{4, name, func(p []byte) string {
		v := binary.BigEndian.Uint32(p)
		if v&(1<<31) != 0 {
			return fmt.Sprintf("%s 0x%08x (high bit set: not milliseconds since midnight UT)", name, v)
		}
		return fmt.Sprintf("%s %d (%02d:%02d:%02d.%03d UT)", name, v, v/3600000, v/60000%60, v/1000%60, v%1000)
	}}
}
