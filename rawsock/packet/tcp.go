package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// TCPHeaderLen is the length of a TCP header without options.
const TCPHeaderLen = 20

// TCPFlags are the TCP control bits (RFC 9293 section 3.1; ECE and CWR from
// RFC 3168).
type TCPFlags uint8

// TCP control bits, with the letter each has in String and ParseTCPFlags.
const (
	TCPFin TCPFlags = 1 << iota // F: no more data from sender
	TCPSyn                      // S: synchronize sequence numbers
	TCPRst                      // R: reset the connection
	TCPPsh                      // P: push function
	TCPAck                      // A: acknowledgment field is significant
	TCPUrg                      // U: urgent pointer field is significant
	TCPEce                      // E: ECN-Echo
	TCPCwr                      // C: congestion window reduced
)

const tcpFlagLetters = "FSRPAUEC"

var tcpFlagNames = [8]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// String returns the set flags as letters in the order FSRPAUEC, e.g. "SA"
// for SYN+ACK, or "none".
func (f TCPFlags) String() string {
	if f == 0 {
		return "none"
	}
	var sb strings.Builder
	for i := range 8 {
		if f&(1<<i) != 0 {
			sb.WriteByte(tcpFlagLetters[i])
		}
	}
	return sb.String()
}

// names returns the set flags as names, "SYN, ACK", for the dump.
func (f TCPFlags) names() string {
	var parts []string
	for i := range 8 {
		if f&(1<<i) != 0 {
			parts = append(parts, tcpFlagNames[i])
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// ParseTCPFlags parses flags given as letters, any order and case, e.g.
// "S", "SA", "fa" (the form of String and of a --flags option).
func ParseTCPFlags(s string) (TCPFlags, error) {
	var f TCPFlags
	for _, r := range strings.ToUpper(s) {
		i := strings.IndexRune(tcpFlagLetters, r)
		if i < 0 {
			return 0, fmt.Errorf("tcp: flag %q is not one of %s", r, tcpFlagLetters)
		}
		f |= 1 << i
	}
	return f, nil
}

// TCP is a TCP header (RFC 9293 section 3.1). Parse fills it from bytes;
// Append writes it with DataOffset and Checksum computed.
type TCP struct {
	SrcPort    uint16   // source port
	DstPort    uint16   // destination port
	Seq        uint32   // sequence number
	Ack        uint32   // acknowledgment number
	DataOffset uint8    // header length in 32-bit words, 5 to 15 (set by Parse)
	Reserved   uint8    // the 4 reserved bits between data offset and flags; must be 0
	Flags      TCPFlags // control bits
	Window     uint16   // window size
	Checksum   uint16   // over the pseudo-header, header and data (set by Parse)
	Urgent     uint16   // urgent pointer
	Options    []byte   // raw options; Append pads them with zeros to a multiple of 4
}

// Len returns the length of the header Append writes: 20 bytes plus the
// options padded to a multiple of 4.
func (h *TCP) Len() int { return TCPHeaderLen + (len(h.Options)+3)&^3 }

// Parse parses the TCP segment at the start of b into h and returns its data,
// the bytes after the header, aliasing b (TCP has no length field; the IP
// layer bounds the segment). It rejects a data offset below 5 or past the end
// of b and an option whose length byte lies. Options are copied into
// h.Options, reusing its capacity, so parsing into the same TCP does not
// allocate. It does not verify the checksum (see VerifyTCPChecksum).
func (h *TCP) Parse(b []byte) (payload []byte, err error) {
	if len(b) < TCPHeaderLen {
		return nil, errorf(ErrTruncated, "tcp: header needs %d bytes, have %d", TCPHeaderLen, len(b))
	}
	do := int(b[12] >> 4)
	hl := do * 4
	if do < 5 {
		return nil, errorf(ErrMalformed, "tcp: data offset %d (%d bytes) is below the minimum 5 (20 bytes)", do, hl)
	}
	if hl > len(b) {
		return nil, errorf(ErrTruncated, "tcp: data offset %d (%d bytes) exceeds the %d bytes present", do, hl, len(b))
	}
	if err := checkOptions("tcp", b[TCPHeaderLen:hl]); err != nil {
		return nil, err
	}
	h.SrcPort = binary.BigEndian.Uint16(b[0:2])
	h.DstPort = binary.BigEndian.Uint16(b[2:4])
	h.Seq = binary.BigEndian.Uint32(b[4:8])
	h.Ack = binary.BigEndian.Uint32(b[8:12])
	h.DataOffset = uint8(do)
	h.Reserved = b[12] & 0x0f
	h.Flags = TCPFlags(b[13])
	h.Window = binary.BigEndian.Uint16(b[14:16])
	h.Checksum = binary.BigEndian.Uint16(b[16:18])
	h.Urgent = binary.BigEndian.Uint16(b[18:20])
	h.Options = append(h.Options[:0], b[TCPHeaderLen:hl]...)
	return b[hl:len(b):len(b)], nil
}

// Append appends the header and payload to b and returns the extended slice,
// with DataOffset from Options and the checksum computed over the
// pseudo-header of src and dst. Unlike UDP, TCP cannot go without a
// checksum, so src must be a real address: on IP_HDRINCL, leaving the IPv4
// source for the kernel to fill makes the checksum wrong.
func (h *TCP) Append(b []byte, src, dst netip.Addr, payload []byte) ([]byte, error) {
	hl := h.Len()
	if hl > 60 {
		return nil, errorf(ErrMalformed, "tcp: %d option bytes exceed the 40 that fit", len(h.Options))
	}
	if h.Reserved > 0x0f {
		return nil, errorf(ErrMalformed, "tcp: reserved bits %#x do not fit 4 bits", h.Reserved)
	}
	if !src.IsValid() || src.IsUnspecified() {
		return nil, errorf(ErrMalformed, "tcp: source address %v: the checksum needs the real one", src)
	}
	l := hl + len(payload)
	ps, err := PseudoHeaderSum(src, dst, ProtoTCP, l)
	if err != nil {
		return nil, fmt.Errorf("tcp: %w", err)
	}
	n := len(b)
	b = grow(b, l)
	p := b[n:]
	binary.BigEndian.PutUint16(p[0:2], h.SrcPort)
	binary.BigEndian.PutUint16(p[2:4], h.DstPort)
	binary.BigEndian.PutUint32(p[4:8], h.Seq)
	binary.BigEndian.PutUint32(p[8:12], h.Ack)
	p[12] = byte(hl/4)<<4 | h.Reserved
	p[13] = byte(h.Flags)
	binary.BigEndian.PutUint16(p[14:16], h.Window)
	p[16], p[17] = 0, 0
	binary.BigEndian.PutUint16(p[18:20], h.Urgent)
	clear(p[copy(p[TCPHeaderLen:hl], h.Options)+TCPHeaderLen : hl])
	copy(p[hl:], payload)
	binary.BigEndian.PutUint16(p[16:18], Fold(Sum(ps, p)))
	return b, nil
}

// VerifyTCPChecksum checks the checksum of the TCP segment b (header and
// data: all of b, since TCP carries no length) under the pseudo-header of src
// and dst.
func VerifyTCPChecksum(src, dst netip.Addr, b []byte) error {
	if len(b) < TCPHeaderLen {
		return errorf(ErrTruncated, "tcp: header needs %d bytes, have %d", TCPHeaderLen, len(b))
	}
	ps, err := PseudoHeaderSum(src, dst, ProtoTCP, len(b))
	if err != nil {
		return fmt.Errorf("tcp: %w", err)
	}
	return verifyAt("tcp:", ps, b, 16)
}
