package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

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
