package packet

import (
	"encoding/binary"
	"fmt"
)

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
