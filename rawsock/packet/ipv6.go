package packet

import (
	"encoding/binary"
	"net/netip"
)

// IPv6HeaderLen is the length of the fixed IPv6 header.
const IPv6HeaderLen = 40

// IPv6 extension header numbers (RFC 8200 section 4) that the quoted
// datagram of an ICMPv6 error and the dump step over to reach the upper layer.
const (
	ipv6HopByHop    = 0
	ipv6Routing     = 43
	ipv6Fragment    = 44
	ipv6NoNext      = 59
	ipv6DestOptions = 60
)

// IPv6 is the fixed IPv6 header (RFC 8200 section 3). Extension headers are
// payload to it: NextHeader names the first one.
//
// Parse fills it from bytes; Append writes it, computing PayloadLen.
type IPv6 struct {
	TrafficClass uint8      // DSCP in the upper 6 bits, ECN in the lower 2
	FlowLabel    uint32     // 20 bits
	PayloadLen   uint16     // bytes after the fixed header (set by Parse)
	NextHeader   uint8      // ProtoTCP, ProtoUDP, ProtoICMPv6, or an extension header
	HopLimit     uint8      // hop limit
	Src          netip.Addr // source
	Dst          netip.Addr // destination
}

// Parse parses the IPv6 packet at the start of b into h and returns its
// payload: the PayloadLen bytes after the fixed header, aliasing b. Bytes
// past them are ignored. It rejects a version other than 6 and a payload
// length past the end of b. It does not allocate.
//
// A payload length of 0 gives an empty payload: a jumbogram (RFC 2675),
// whose length is in a hop-by-hop option, is not supported.
func (h *IPv6) Parse(b []byte) (payload []byte, err error) {
	return h.parse(b, true)
}

// parse is Parse; with strict false a payload length past the end of b is
// accepted and the payload is what is there (a datagram quoted by ICMPv6).
func (h *IPv6) parse(b []byte, strict bool) ([]byte, error) {
	if len(b) < IPv6HeaderLen {
		return nil, errorf(ErrTruncated, "ipv6: header needs %d bytes, have %d", IPv6HeaderLen, len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return nil, errorf(ErrMalformed, "ipv6: version %d, want 6", v)
	}
	pl := int(binary.BigEndian.Uint16(b[4:6]))
	end := IPv6HeaderLen + pl
	if end > len(b) {
		if strict {
			return nil, errorf(ErrTruncated, "ipv6: payload length %d exceeds the %d bytes present after the header", pl, len(b)-IPv6HeaderLen)
		}
		end = len(b)
	}
	vtf := binary.BigEndian.Uint32(b[0:4])
	h.TrafficClass = uint8(vtf >> 20)
	h.FlowLabel = vtf & 0xfffff
	h.PayloadLen = uint16(pl)
	h.NextHeader = b[6]
	h.HopLimit = b[7]
	h.Src = netip.AddrFrom16([16]byte(b[8:24]))
	h.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	return b[IPv6HeaderLen:end:end], nil
}

// Append appends the header and payload to b and returns the extended
// slice, with PayloadLen set to len(payload). Linux fills nothing in on an
// IPV6_HDRINCL raw socket (unlike IPv4, see the package doc): these bytes go
// out as they are.
func (h *IPv6) Append(b, payload []byte) ([]byte, error) {
	if len(payload) > 0xffff {
		return nil, errorf(ErrMalformed, "ipv6: payload length %d exceeds 65535 (jumbograms are not supported)", len(payload))
	}
	if h.FlowLabel > 0xfffff {
		return nil, errorf(ErrMalformed, "ipv6: flow label %#x does not fit 20 bits", h.FlowLabel)
	}
	if !h.Src.Is6() || !h.Dst.Is6() {
		return nil, errorf(ErrMalformed, "ipv6: source %v and destination %v must be IPv6 addresses", h.Src, h.Dst)
	}
	n := len(b)
	b = grow(b, IPv6HeaderLen+len(payload))
	p := b[n:]
	binary.BigEndian.PutUint32(p[0:4], 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel)
	binary.BigEndian.PutUint16(p[4:6], uint16(len(payload)))
	p[6] = h.NextHeader
	p[7] = h.HopLimit
	s16, d16 := h.Src.As16(), h.Dst.As16()
	copy(p[8:24], s16[:])
	copy(p[24:40], d16[:])
	copy(p[IPv6HeaderLen:], payload)
	return b, nil
}

// skipIPv6Extensions steps over the extension headers at the start of b,
// next naming the first, and returns the upper-layer protocol and its
// offset in b. A non-first fragment has no upper-layer header: it returns
// ipv6Fragment and the offset after the fragment header, with frag true.
func skipIPv6Extensions(next uint8, b []byte) (proto uint8, off int, frag bool, err error) {
	// Each step consumes at least 8 bytes, so the loop ends; the count is a
	// second bound against a chain of nothing but extension headers.
	for i := 0; i < 16; i++ {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOptions:
			if len(b)-off < 8 {
				return next, off, false, errorf(ErrTruncated, "ipv6: extension header %d at offset %d needs 8 bytes, have %d", next, off, len(b)-off)
			}
			n := (int(b[off+1]) + 1) * 8
			if n > len(b)-off {
				return next, off, false, errorf(ErrTruncated, "ipv6: extension header %d at offset %d is %d bytes, have %d", next, off, n, len(b)-off)
			}
			next, off = b[off], off+n
		case ipv6Fragment:
			if len(b)-off < 8 {
				return next, off, false, errorf(ErrTruncated, "ipv6: fragment header at offset %d needs 8 bytes, have %d", off, len(b)-off)
			}
			fo := binary.BigEndian.Uint16(b[off+2:]) >> 3
			if fo != 0 {
				return ipv6Fragment, off + 8, true, nil
			}
			next, off = b[off], off+8
		default:
			return next, off, false, nil
		}
	}
	return next, off, false, errorf(ErrMalformed, "ipv6: more than 16 extension headers")
}
