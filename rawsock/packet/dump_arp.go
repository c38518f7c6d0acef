package packet

import (
	"fmt"
	"net/netip"
)

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
