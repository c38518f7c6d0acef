package packet

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
)

// FieldChange is one header field of a packet a program wrote on an
// IP_HDRINCL socket, beside the same field as the packet left the host.
type FieldChange struct {
	Layer     string // "IPv4", "UDP", "TCP", "ICMP", or "payload"
	Name      string // the field, as the annotated dump names it
	Offset    int    // in the packet, from the IP header
	Sent      string // the value written, formatted
	Wire      string // the value on the wire, formatted
	Changed   bool   // the bytes differ
	KernelSet bool   // raw(7) says Linux writes this field (always or when 0)
}

// compareField describes one field at a fixed offset of a header.
type compareField struct {
	name   string
	off, n int
	format func(p []byte) string
	kernel func(sent []byte) bool // nil: never the kernel's
}

func fmtU8(p []byte) string    { return fmt.Sprintf("%d", p[0]) }
func fmtU16(p []byte) string   { return fmt.Sprintf("%d", binary.BigEndian.Uint16(p)) }
func fmtHex16(p []byte) string { return fmt.Sprintf("0x%04x", binary.BigEndian.Uint16(p)) }
func fmtU32(p []byte) string   { return fmt.Sprintf("%d", binary.BigEndian.Uint32(p)) }
func fmtAddr4(p []byte) string { return netip.AddrFrom4([4]byte(p)).String() }
func always([]byte) bool       { return true }

// ipv4Fields are the fixed header's fields; the kernel column follows
// net/ipv4/raw.c raw_send_hdrinc: tot_len and check always, id when 0,
// saddr when 0.
var ipv4Fields = []compareField{
	{"version and IHL", 0, 1, func(p []byte) string { return fmt.Sprintf("%d/%d", p[0]>>4, p[0]&0x0f) }, nil},
	{"type of service", 1, 1, func(p []byte) string { return fmt.Sprintf("0x%02x", p[0]) }, nil},
	{"total length", 2, 2, fmtU16, always},
	{"identification", 4, 2, fmtHex16, func(s []byte) bool { return binary.BigEndian.Uint16(s[4:]) == 0 }},
	{"flags and fragment offset", 6, 2, fmtHex16, nil},
	{"TTL", 8, 1, fmtU8, nil},
	{"protocol", 9, 1, func(p []byte) string { return protoName(p[0]) }, nil},
	{"header checksum", 10, 2, fmtHex16, always},
	{"source address", 12, 4, fmtAddr4, func(s []byte) bool { return binary.BigEndian.Uint32(s[12:]) == 0 }},
	{"destination address", 16, 4, fmtAddr4, nil},
}

var udpFields = []compareField{
	{"source port", 0, 2, fmtU16, nil},
	{"destination port", 2, 2, fmtU16, nil},
	{"length", 4, 2, fmtU16, nil},
	{"checksum", 6, 2, fmtHex16, nil},
}

var tcpFields = []compareField{
	{"source port", 0, 2, fmtU16, nil},
	{"destination port", 2, 2, fmtU16, nil},
	{"sequence number", 4, 4, fmtU32, nil},
	{"acknowledgment number", 8, 4, fmtU32, nil},
	{"data offset", 12, 1, func(p []byte) string { return fmt.Sprintf("%d", p[0]>>4) }, nil},
	{"flags", 13, 1, func(p []byte) string { return TCPFlags(p[0]).names() }, nil},
	{"window", 14, 2, fmtU16, nil},
	{"checksum", 16, 2, fmtHex16, nil},
	{"urgent pointer", 18, 2, fmtU16, nil},
}

var icmpFields = []compareField{
	{"type", 0, 1, fmtU8, nil},
	{"code", 1, 1, fmtU8, nil},
	{"checksum", 2, 2, fmtHex16, nil},
	{"rest of header", 4, 4, func(p []byte) string { return fmt.Sprintf("%x", p) }, nil},
}

// CompareSent sets the IPv4 packet a program handed to an IP_HDRINCL
// socket beside the copy that left the host (captured on the egress
// interface), field by field: the fixed IPv4 header, then the UDP, TCP or
// ICMP header, then the payload as one row. Options are compared as one
// row too. It fails when either is not an IPv4 packet with a complete
// fixed header, or when they are not the same packet (another protocol,
// destination or header length).
func CompareSent(sent, wire []byte) ([]FieldChange, error) {
	for _, p := range [][]byte{sent, wire} {
		if len(p) < IPv4HeaderLen || p[0]>>4 != 4 || int(p[0]&0x0f) < 5 {
			return nil, errorf(ErrMalformed, "compare: not an IPv4 packet with a %d-byte header", IPv4HeaderLen)
		}
	}
	if sent[0] != wire[0] || sent[9] != wire[9] || string(sent[16:20]) != string(wire[16:20]) {
		return nil, errorf(ErrMalformed, "compare: not the same packet (header length, protocol or destination differ)")
	}
	hl := int(sent[0]&0x0f) * 4
	if hl > len(sent) || hl > len(wire) {
		return nil, errorf(ErrTruncated, "compare: IHL %d runs past the packet", hl/4)
	}
	var out []FieldChange
	out = appendFields(out, "IPv4", 0, ipv4Fields, sent, wire)
	if hl > IPv4HeaderLen {
		out = append(out, bytesRow("IPv4", "options", IPv4HeaderLen, sent[IPv4HeaderLen:hl], wire[IPv4HeaderLen:hl]))
	}
	// The wire copy's payload ends at its total length (a capture can carry
	// link padding after it); the sent one at the buffer's end, which is the
	// length the kernel wrote into the header.
	ws, ss := wire[hl:], sent[hl:]
	if tl := int(binary.BigEndian.Uint16(wire[2:4])); tl >= hl && tl <= len(wire) {
		ws = wire[hl:tl]
	}
	var fs []compareField
	var layer string
	switch sent[9] {
	case ProtoUDP:
		layer, fs = "UDP", udpFields
	case ProtoTCP:
		layer, fs = "TCP", tcpFields
	case ProtoICMP:
		layer, fs = "ICMP", icmpFields
	}
	if frag := binary.BigEndian.Uint16(sent[6:8]) & 0x1fff; frag != 0 {
		fs = nil // a later fragment carries no transport header
	}
	hdr := 0
	if fs != nil {
		last := fs[len(fs)-1]
		hdr = last.off + last.n
		if len(ss) < hdr || len(ws) < hdr {
			hdr = 0
		} else {
			out = appendFields(out, layer, hl, fs, ss, ws)
		}
	}
	out = append(out, bytesRow("payload", "data", hl+hdr, ss[hdr:], ws[hdr:]))
	return out, nil
}

func appendFields(out []FieldChange, layer string, base int, fs []compareField, sent, wire []byte) []FieldChange {
	for _, f := range fs {
		s, w := sent[f.off:f.off+f.n], wire[f.off:f.off+f.n]
		out = append(out, FieldChange{
			Layer: layer, Name: f.name, Offset: base + f.off,
			Sent: f.format(s), Wire: f.format(w),
			Changed:   string(s) != string(w),
			KernelSet: f.kernel != nil && f.kernel(sent),
		})
	}
	return out
}

func bytesRow(layer, name string, off int, sent, wire []byte) FieldChange {
	desc := func(p []byte) string { return plural(len(p), "byte") }
	r := FieldChange{Layer: layer, Name: name, Offset: off, Sent: desc(sent), Wire: desc(wire), Changed: string(sent) != string(wire)}
	if r.Changed && len(sent) == len(wire) {
		for i := range sent {
			if sent[i] != wire[i] {
				r.Wire += fmt.Sprintf(" (first difference at byte %d)", i)
				break
			}
		}
	}
	return r
}

// WriteComparison prints CompareSent's rows as a table: offset, layer,
// field, what was written, what left, and a mark on each field that
// differs: "kernel" where raw(7) says Linux fills it in, "CHANGED" where it
// does not (which would be news).
func WriteComparison(w io.Writer, rows []FieldChange) error {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "offset\theader\tfield\twritten\ton the wire\t")
	for _, r := range rows {
		mark := ""
		switch {
		case r.Changed && r.KernelSet:
			mark = "* kernel filled in"
		case r.Changed:
			mark = "! CHANGED (not a field raw(7) lists)"
		case r.KernelSet:
			mark = "  kernel's (same value)"
		}
		fmt.Fprintf(tw, "%04x\t%s\t%s\t%s\t%s\t%s\n", r.Offset, r.Layer, r.Name, r.Sent, r.Wire, mark)
	}
	tw.Flush()
	for _, l := range strings.Split(strings.TrimSuffix(sb.String(), "\n"), "\n") {
		if _, err := io.WriteString(w, strings.TrimRight(l, " ")+"\n"); err != nil {
			return err
		}
	}
	var changed []string
	for _, r := range rows {
		if r.Changed {
			changed = append(changed, r.Name)
		}
	}
	if len(changed) == 0 {
		_, err := fmt.Fprintln(w, "the kernel changed nothing")
		return err
	}
	_, err := fmt.Fprintf(w, "the kernel changed: %s\n", strings.Join(changed, ", "))
	return err
}
