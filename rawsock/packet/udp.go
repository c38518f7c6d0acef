package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// UDPHeaderLen is the length of a UDP header.
const UDPHeaderLen = 8

// UDP is a UDP header (RFC 768). Parse fills it from bytes; Append writes it
// with Length and Checksum computed.
type UDP struct {
	SrcPort  uint16 // source port
	DstPort  uint16 // destination port
	Length   uint16 // header plus data in bytes (set by Parse)
	Checksum uint16 // over the pseudo-header, header and data; 0 = none, IPv4 only (set by Parse)
}

// Parse parses the UDP datagram at the start of b into h and returns its
// data: the Length-8 bytes after the header, aliasing b. It rejects a length
// below 8 or past the end of b; bytes after Length are ignored. It does not
// verify the checksum (see VerifyUDPChecksum) and does not allocate.
func (h *UDP) Parse(b []byte) (payload []byte, err error) {
	return h.parse(b, true)
}

// parse is Parse; with strict false a length past the end of b is accepted
// and the data is what is there, as in a datagram an ICMP error quotes.
func (h *UDP) parse(b []byte, strict bool) ([]byte, error) {
	if len(b) < UDPHeaderLen {
		return nil, errorf(ErrTruncated, "udp: header needs %d bytes, have %d", UDPHeaderLen, len(b))
	}
	l := int(binary.BigEndian.Uint16(b[4:6]))
	if l < UDPHeaderLen {
		return nil, errorf(ErrMalformed, "udp: length %d is below the header length 8", l)
	}
	end := l
	if l > len(b) {
		if strict {
			return nil, errorf(ErrTruncated, "udp: length %d exceeds the %d bytes present", l, len(b))
		}
		end = len(b)
	}
	h.SrcPort = binary.BigEndian.Uint16(b[0:2])
	h.DstPort = binary.BigEndian.Uint16(b[2:4])
	h.Length = uint16(l)
	h.Checksum = binary.BigEndian.Uint16(b[6:8])
	return b[UDPHeaderLen:end:end], nil
}

// Append appends the header and payload to b and returns the extended slice,
// with Length set and the checksum computed over the pseudo-header of src
// and dst (RFC 768; RFC 8200 section 8.1 for IPv6). A computed checksum of 0
// is sent as 0xffff, since 0 means "no checksum".
//
// With an IPv4 src that is unspecified (0.0.0.0 or the zero Addr) it writes
// checksum 0: on IP_HDRINCL the kernel picks the source address after the
// checksum is computed, so no value could be right, and IPv4 lets UDP go
// without one. IPv6 requires the checksum, so there src must be set.
func (h *UDP) Append(b []byte, src, dst netip.Addr, payload []byte) ([]byte, error) {
	l := UDPHeaderLen + len(payload)
	if l > 0xffff {
		return nil, errorf(ErrMalformed, "udp: length %d exceeds 65535", l)
	}
	noSum := dst.Unmap().Is4() && (!src.IsValid() || src.Unmap() == netip.IPv4Unspecified())
	var ps uint32
	if !noSum {
		var err error
		if ps, err = PseudoHeaderSum(src, dst, ProtoUDP, l); err != nil {
			return nil, fmt.Errorf("udp: %w", err)
		}
	}
	n := len(b)
	b = grow(b, l)
	p := b[n:]
	binary.BigEndian.PutUint16(p[0:2], h.SrcPort)
	binary.BigEndian.PutUint16(p[2:4], h.DstPort)
	binary.BigEndian.PutUint16(p[4:6], uint16(l))
	p[6], p[7] = 0, 0
	copy(p[UDPHeaderLen:], payload)
	if !noSum {
		c := Fold(Sum(ps, p))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(p[6:8], c)
	}
	return b, nil
}

// VerifyUDPChecksum checks the checksum of the UDP datagram at the start of
// b (its first Length bytes) under the pseudo-header of src and dst. Over
// IPv4 a checksum of 0 means none was sent, and passes; over IPv6 it fails.
func VerifyUDPChecksum(src, dst netip.Addr, b []byte) error {
	var h UDP
	if _, err := h.Parse(b); err != nil {
		return err
	}
	if h.Checksum == 0 {
		if dst.Unmap().Is4() {
			return nil
		}
		return errorf(ErrChecksum, "udp: checksum 0 (none) is not allowed over IPv6")
	}
	ps, err := PseudoHeaderSum(src, dst, ProtoUDP, int(h.Length))
	if err != nil {
		return fmt.Errorf("udp: %w", err)
	}
	return verifyAt("udp:", ps, b[:h.Length], 6)
}
