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
func Sum(s uint32, b []byte) uint32 {
	// RFC 1071 section 2: the sum does not depend on the word size or the
	// byte order. So add little-endian 32-bit words (a plain load on the
	// common CPUs) into four 64-bit accumulators that cannot overflow
	// between folds and do not wait on each other's carries, fold to 16
	// bits, and swap the two bytes back to network order at the end: several
	// times as fast as the 16-bit loop (BenchmarkChecksumReference).
	var acc uint64
	for len(b) > 0 {
		// 2^27 bytes per round keeps each accumulator below 2^60.
		n := min(len(b), 1<<27)
		acc += sumLE(b[:n])
		acc = acc>>32 + acc&0xffffffff
		b = b[n:]
	}
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	be := uint32(bits.ReverseBytes16(uint16(acc)))
	s = s>>16 + s&0xffff
	return s + be
}

// sumLE returns the sum of b as little-endian 32-bit words, an odd tail
// padded with zeros on the right (so at the high-address end).
func sumLE(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	for len(b) >= 32 {
		s0 += uint64(binary.LittleEndian.Uint32(b[0:4]))
		s1 += uint64(binary.LittleEndian.Uint32(b[4:8]))
		s2 += uint64(binary.LittleEndian.Uint32(b[8:12]))
		s3 += uint64(binary.LittleEndian.Uint32(b[12:16]))
		s0 += uint64(binary.LittleEndian.Uint32(b[16:20]))
		s1 += uint64(binary.LittleEndian.Uint32(b[20:24]))
		s2 += uint64(binary.LittleEndian.Uint32(b[24:28]))
		s3 += uint64(binary.LittleEndian.Uint32(b[28:32]))
		b = b[32:]
	}
	for len(b) >= 4 {
		s0 += uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s1 += uint64(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s2 += uint64(b[0])
	}
	return s0 + s1 + s2 + s3
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
