package packet

import (
	"encoding/binary"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// Protocol numbers (IANA "Assigned Internet Protocol Numbers") for the IPv4
// Protocol and IPv6 Next Header fields.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// IPv4HeaderLen is the length of an IPv4 header without options.
const IPv4HeaderLen = 20

// IPv4 header flags, x/net/ipv4's values (RFC 791 section 3.1: bit 0 of the
// three is reserved and must be zero, then DF, then MF).
const (
	MoreFragments = ipv4.MoreFragments
	DontFragment  = ipv4.DontFragment
)

// IPv4 is an IPv4 header (RFC 791 section 3.1) in wire format: every field
// big-endian, as Linux sends and receives it on raw sockets. (x/net's
// ipv4.Header.Marshal writes TotalLen and FragOff in host byte order on some
// BSDs; this type never does.)
//
// Parse fills it from bytes; Append writes it. Append derives IHL, TotalLen
// and Checksum from Options and the payload and ignores what the struct holds
// in them, so a parsed header appended again yields the same bytes.
type IPv4 struct {
	IHL      uint8            // header length in 32-bit words, 5 to 15 (set by Parse)
	TOS      uint8            // type of service: DSCP in the upper 6 bits, ECN in the lower 2
	TotalLen uint16           // header plus payload in bytes (set by Parse)
	ID       uint16           // identification; 0 lets the kernel choose one on IP_HDRINCL
	Flags    ipv4.HeaderFlags // DontFragment, MoreFragments; 4 is the reserved bit
	FragOff  uint16           // fragment offset in 8-byte units, 13 bits
	TTL      uint8            // time to live
	Protocol uint8            // next protocol: ProtoICMP, ProtoTCP, ProtoUDP, ...
	Checksum uint16           // header checksum (set by Parse)
	Src      netip.Addr       // source; the zero Addr or 0.0.0.0 lets the kernel choose on IP_HDRINCL
	Dst      netip.Addr       // destination
	Options  []byte           // raw options; Append pads them with zeros to a multiple of 4
}

// Len returns the length of the header Append writes: 20 bytes plus the
// options padded to a multiple of 4.
func (h *IPv4) Len() int { return IPv4HeaderLen + (len(h.Options)+3)&^3 }

// Parse parses the IPv4 packet at the start of b into h and returns its
// payload: the bytes after the header up to the total length, aliasing b.
// Bytes past the total length (Ethernet padding, for one) are ignored.
//
// It rejects a version other than 4, an IHL below 5 or past the end of b, a
// total length below the header length or past the end of b, and an option
// whose length byte lies. It neither verifies the header checksum (capture
// on a host that offloads checksums sees zeros; see VerifyIPv4Checksum) nor
// reassembles fragments. Options are copied into h.Options, reusing its
// capacity, so parsing into the same IPv4 does not allocate.
func (h *IPv4) Parse(b []byte) (payload []byte, err error) {
	return h.parse(b, true)
}

// parse is Parse; with strict false a total length past the end of b is
// accepted and the payload is what is there, as in the original datagram an
// ICMP error quotes (RFC 792 quotes the header and 8 payload bytes).
func (h *IPv4) parse(b []byte, strict bool) ([]byte, error) {
	if len(b) < IPv4HeaderLen {
		return nil, errorf(ErrTruncated, "ipv4: header needs %d bytes, have %d", IPv4HeaderLen, len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return nil, errorf(ErrMalformed, "ipv4: version %d, want 4", v)
	}
	ihl := int(b[0] & 0x0f)
	hl := ihl * 4
	if ihl < 5 {
		return nil, errorf(ErrMalformed, "ipv4: IHL %d (%d bytes) is below the minimum 5 (20 bytes)", ihl, hl)
	}
	if hl > len(b) {
		return nil, errorf(ErrTruncated, "ipv4: IHL %d (%d bytes) exceeds the %d bytes present", ihl, hl, len(b))
	}
	tl := int(binary.BigEndian.Uint16(b[2:4]))
	if tl < hl {
		return nil, errorf(ErrMalformed, "ipv4: total length %d is below the header length %d", tl, hl)
	}
	end := tl
	if tl > len(b) {
		if strict {
			return nil, errorf(ErrTruncated, "ipv4: total length %d exceeds the %d bytes present", tl, len(b))
		}
		end = len(b)
	}
	if err := checkOptions("ipv4", b[IPv4HeaderLen:hl]); err != nil {
		return nil, err
	}
	h.IHL = uint8(ihl)
	h.TOS = b[1]
	h.TotalLen = uint16(tl)
	h.ID = binary.BigEndian.Uint16(b[4:6])
	ff := binary.BigEndian.Uint16(b[6:8])
	h.Flags = ipv4.HeaderFlags(ff >> 13)
	h.FragOff = ff & 0x1fff
	h.TTL = b[8]
	h.Protocol = b[9]
	h.Checksum = binary.BigEndian.Uint16(b[10:12])
	h.Src = netip.AddrFrom4([4]byte(b[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	h.Options = append(h.Options[:0], b[IPv4HeaderLen:hl]...)
	return b[hl:end:end], nil
}

// Append appends the header and payload to b and returns the extended
// slice. It computes IHL from Options, TotalLen from the payload, and the
// header checksum. On an IP_HDRINCL socket Linux overwrites some of this
// anyway (see the package doc); the bytes are right for AF_PACKET too.
func (h *IPv4) Append(b, payload []byte) ([]byte, error) {
	hl := h.Len()
	if hl > 60 {
		return nil, errorf(ErrMalformed, "ipv4: %d option bytes exceed the 40 that fit", len(h.Options))
	}
	tl := hl + len(payload)
	if tl > 0xffff {
		return nil, errorf(ErrMalformed, "ipv4: total length %d exceeds 65535", tl)
	}
	if h.Flags > 7 || h.FragOff > 0x1fff {
		return nil, errorf(ErrMalformed, "ipv4: flags %#x or fragment offset %d does not fit 3+13 bits", int(h.Flags), h.FragOff)
	}
	src, dst := h.Src.Unmap(), h.Dst.Unmap()
	if !src.IsValid() {
		src = netip.IPv4Unspecified()
	}
	if !src.Is4() || !dst.Is4() {
		return nil, errorf(ErrMalformed, "ipv4: source %v and destination %v must be IPv4 addresses", h.Src, h.Dst)
	}
	n := len(b)
	b = grow(b, tl)
	p := b[n : n+hl]
	p[0] = 4<<4 | byte(hl/4)
	p[1] = h.TOS
	binary.BigEndian.PutUint16(p[2:4], uint16(tl))
	binary.BigEndian.PutUint16(p[4:6], h.ID)
	binary.BigEndian.PutUint16(p[6:8], uint16(h.Flags)<<13|h.FragOff)
	p[8] = h.TTL
	p[9] = h.Protocol
	p[10], p[11] = 0, 0
	s4, d4 := src.As4(), dst.As4()
	copy(p[12:16], s4[:])
	copy(p[16:20], d4[:])
	clear(p[copy(p[IPv4HeaderLen:], h.Options)+IPv4HeaderLen:])
	binary.BigEndian.PutUint16(p[10:12], Checksum(p))
	copy(b[n+hl:], payload)
	return b, nil
}

// VerifyIPv4Checksum checks the header checksum of the IPv4 header at the
// start of b.
func VerifyIPv4Checksum(b []byte) error {
	if len(b) < IPv4HeaderLen {
		return errorf(ErrTruncated, "ipv4: header needs %d bytes, have %d", IPv4HeaderLen, len(b))
	}
	hl := int(b[0]&0x0f) * 4
	if hl < IPv4HeaderLen || hl > len(b) {
		return errorf(ErrMalformed, "ipv4: IHL %d does not fit the %d bytes present", hl/4, len(b))
	}
	return verifyAt("ipv4: header", 0, b[:hl], 10)
}

// ToHeader returns h as an x/net ipv4.Header, for ipv4.RawConn.WriteTo and
// other x/net APIs. Fields are copied as they are: set TotalLen and Checksum
// yourself if the receiver needs them (Linux fills both on IP_HDRINCL).
func (h *IPv4) ToHeader() *ipv4.Header {
	x := &ipv4.Header{
		Version:  4,
		Len:      h.Len(),
		TOS:      int(h.TOS),
		TotalLen: int(h.TotalLen),
		ID:       int(h.ID),
		Flags:    h.Flags,
		FragOff:  int(h.FragOff),
		TTL:      int(h.TTL),
		Protocol: int(h.Protocol),
		Checksum: int(h.Checksum),
		Src:      net.IP(h.Src.AsSlice()),
		Dst:      net.IP(h.Dst.AsSlice()),
	}
	if len(h.Options) > 0 {
		x.Options = append([]byte(nil), h.Options...)
	}
	return x
}

// FromHeader sets h from an x/net ipv4.Header, as ipv4.RawConn.ReadFrom or
// ipv4.ParseHeader return one. Addresses must be IPv4 (or absent, for Src).
func (h *IPv4) FromHeader(x *ipv4.Header) error {
	if x == nil {
		return errorf(ErrMalformed, "ipv4: nil header")
	}
	src, ok := netip.AddrFromSlice(x.Src.To4())
	if !ok && x.Src != nil {
		return errorf(ErrMalformed, "ipv4: source %v is not an IPv4 address", x.Src)
	}
	dst, ok := netip.AddrFromSlice(x.Dst.To4())
	if !ok {
		return errorf(ErrMalformed, "ipv4: destination %v is not an IPv4 address", x.Dst)
	}
	*h = IPv4{
		IHL:      uint8(x.Len / 4),
		TOS:      uint8(x.TOS),
		TotalLen: uint16(x.TotalLen),
		ID:       uint16(x.ID),
		Flags:    x.Flags,
		FragOff:  uint16(x.FragOff),
		TTL:      uint8(x.TTL),
		Protocol: uint8(x.Protocol),
		Checksum: uint16(x.Checksum),
		Src:      src,
		Dst:      dst,
		Options:  append(h.Options[:0], x.Options...),
	}
	return nil
}

// grow extends b by n bytes, reusing its capacity when it can. The new
// bytes are not cleared; callers write all of them.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// checksumWithout returns the checksum b should hold in its 16-bit field at
// off (an even offset), starting from the running sum s (a pseudo-header):
// the sum of everything but the field, folded.
func checksumWithout(s uint32, b []byte, off int) uint16 {
	return Fold(Sum(Sum(s, b[:off]), b[off+2:]))
}

// verifyAt checks the checksum field at off in b under the pseudo-header sum
// s. The test is that everything, field included, sums to ones' complement
// zero, so both encodings of zero (0x0000 and 0xffff) are accepted.
func verifyAt(what string, s uint32, b []byte, off int) error {
	if Fold(Sum(s, b)) == 0 {
		return nil
	}
	return errorf(ErrChecksum, "%s checksum 0x%04x, want 0x%04x", what,
		binary.BigEndian.Uint16(b[off:]), checksumWithout(s, b, off))
}
