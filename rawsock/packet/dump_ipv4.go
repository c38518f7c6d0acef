package packet

import (
	"fmt"
	"net/netip"
	"strings"
)

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

var ipv4OptionNames = map[byte]string{0: "end of options", 1: "no-op", 7: "record route",
	68: "timestamp", 130: "security", 131: "loose source route", 137: "strict source route", 148: "router alert"}

func ipv4OptionName(kind byte, _ []byte) string {
	if s, ok := ipv4OptionNames[kind]; ok {
		return s
	}
	return "unknown"
}
