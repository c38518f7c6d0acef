package packet

import "fmt"

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
