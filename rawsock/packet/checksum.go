package packet

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Checksum returns the Internet checksum of b (RFC 1071): the ones'
// complement of the ones' complement sum of b read as big-endian 16-bit
// words, an odd last byte padded with a zero byte. Write it big-endian into
// a checksum field that was zero while summing; a header whose field already
// holds the right value sums to zero, so Checksum(header) == 0 verifies it.
func Checksum(b []byte) uint16 {
	return Fold(Sum(0, b))
}

// Sum adds b to the running ones' complement sum s and returns the new sum,
// not yet folded or complemented. Chain it over pieces (a pseudo-header,
// then a segment); every piece but the last must have even length, as each
// is summed from a 16-bit boundary.
//
// The words are added eight bytes at a time with the carry folded back in
// (RFC 1071 section 2: the sum is independent of word size and byte order,
// so 64-bit big-endian words folded to 16 bits give the 16-bit sum).
func Sum(s uint32, b []byte) uint32 {
	acc := uint64(s)
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:32]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0])<<8, c)
	}
	// End-around carry, then fold 64 -> 32 bits; neither step can lose a
	// carry (each addition's result fits after the previous fold).
	acc, c = bits.Add64(acc, c, 0)
	acc += c
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	return uint32(acc)
}

// Fold folds a running sum from Sum to 16 bits and complements it: the
// value to store in a checksum field.
func Fold(s uint32) uint16 {
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return ^uint16(s)
}

// PseudoHeaderSum returns the running sum of the pseudo-header that the TCP,
// UDP and ICMPv6 checksums cover: for IPv4 (RFC 768, RFC 9293 section 3.1)
// source, destination, zero, protocol and the 16-bit segment length; for IPv6
// (RFC 8200 section 8.1) source, destination, the 32-bit upper-layer length,
// three zero bytes and the next header. Both addresses must be of the same
// family; an IPv4-mapped IPv6 address counts as IPv4.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) (uint32, error) {
	src, dst = src.Unmap(), dst.Unmap()
	switch {
	case src.Is4() && dst.Is4():
		if length < 0 || length > 0xffff {
			return 0, errorf(ErrMalformed, "pseudo-header: length %d does not fit 16 bits", length)
		}
		s4, d4 := src.As4(), dst.As4()
		s := uint32(binary.BigEndian.Uint16(s4[0:])) + uint32(binary.BigEndian.Uint16(s4[2:])) +
			uint32(binary.BigEndian.Uint16(d4[0:])) + uint32(binary.BigEndian.Uint16(d4[2:])) +
			uint32(proto) + uint32(length)
		return s, nil
	case src.Is6() && dst.Is6():
		if length < 0 || int64(length) > 0xffffffff {
			return 0, errorf(ErrMalformed, "pseudo-header: length %d does not fit 32 bits", length)
		}
		s16, d16 := src.As16(), dst.As16()
		s := Sum(0, s16[:])
		s = Sum(s, d16[:])
		// Add the 32-bit length and the next header as 16-bit words.
		return Sum(s, []byte{byte(length >> 24), byte(length >> 16), byte(length >> 8), byte(length), 0, 0, 0, proto}), nil
	default:
		return 0, errorf(ErrMalformed, "pseudo-header: need two IPv4 or two IPv6 addresses, have %v and %v", src, dst)
	}
}

// TransportChecksum returns the checksum of a TCP, UDP or ICMPv6 segment
// (header and data) under the pseudo-header of src and dst. The segment's
// checksum field must be zero while computing, or the result is the value
// that makes the sum come out right; a segment that already holds a correct
// checksum gives 0. UDP turns a computed 0 into 0xffff on the wire (RFC 768);
// UDP.Append does that, this function does not.
func TransportChecksum(src, dst netip.Addr, proto uint8, segment []byte) (uint16, error) {
	s, err := PseudoHeaderSum(src, dst, proto, len(segment))
	if err != nil {
		return 0, err
	}
	return Fold(Sum(s, segment)), nil
}
