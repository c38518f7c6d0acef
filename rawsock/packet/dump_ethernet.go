package packet

import "fmt"

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
