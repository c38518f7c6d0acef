package packet

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

// refSum is RFC 1071's reference loop, 16 bits at a time, written apart from
// Sum so the two can check each other.
func refSum(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return s
}

func refChecksum(b []byte) uint16 { return ^uint16(refSum(b)) }

func TestChecksumKnownVectors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint16
	}{
		// RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
		{"RFC 1071 section 3", "0001f203f4f5f6f7", ^uint16(0xddf2)},
		// The IPv4 header of Wikipedia's "IPv4 header checksum" article,
		// checksum field zeroed; the header carries b861.
		{"IPv4 header", "450000730000400040110000c0a80001c0a800c7", 0xb861},
		{"empty", "", 0xffff},
		{"one byte", "ab", ^uint16(0xab00)},
		{"odd length", "0001f203f4", ^uint16(0x0001 + 0xf203 + 0xf400 - 0xffff)},
		{"all ones", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0x0000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustHex(t, tt.in)
			if got := Checksum(b); got != tt.want {
				t.Errorf("Checksum(%s) = %#04x, want %#04x", tt.in, got, tt.want)
			}
			if got := refChecksum(b); got != tt.want {
				t.Errorf("reference checksum(%s) = %#04x, want %#04x (the vector or the reference is wrong)", tt.in, got, tt.want)
			}
		})
	}
}

func TestChecksumVerifiesToZero(t *testing.T) {
	b := mustHex(t, "45000073000040004011b861c0a80001c0a800c7")
	if got := Checksum(b); got != 0 {
		t.Errorf("Checksum of a header holding its checksum = %#04x, want 0", got)
	}
}

// TestSumMatchesReference compares the 64-bit loop with the 16-bit one for
// every length up to 300 and every alignment of the start, on random bytes
// and on bytes chosen to make carries (all 0xff).
func TestSumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 310)
	for _, fill := range []string{"random", "ones"} {
		for i := range buf {
			if fill == "random" {
				buf[i] = byte(r.Uint32())
			} else {
				buf[i] = 0xff
			}
		}
		for start := range 8 {
			for n := 0; start+n <= 300; n++ {
				b := buf[start : start+n]
				if got, want := Fold(Sum(0, b)), refChecksum(b); got != want {
					t.Fatalf("%s bytes, start %d, length %d: Checksum %#04x, reference %#04x", fill, start, n, got, want)
				}
			}
		}
	}
}

func TestSumChains(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 1501)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for _, cut := range []int{0, 2, 12, 40, 64, 1000, 1500} {
		if got, want := Fold(Sum(Sum(0, b[:cut]), b[cut:])), Checksum(b); got != want {
			t.Errorf("chained at %d: %#04x, want %#04x", cut, got, want)
		}
	}
	// A large starting sum must not lose its carry.
	if got, want := Fold(Sum(0xffffffff, b)), Fold(Sum(0, append([]byte{0xff, 0xff, 0xff, 0xff}, b...))); got != want {
		t.Errorf("Sum from 0xffffffff: %#04x, want %#04x", got, want)
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	v4a, v4b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	v6a, v6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	// The pseudo-headers written out byte by byte (RFC 768, RFC 8200 8.1).
	tests := []struct {
		src, dst netip.Addr
		proto    uint8
		length   int
		bytes    string
	}{
		{v4a, v4b, ProtoUDP, 14, "c0000201" + "c6336407" + "00" + "11" + "000e"},
		{netip.MustParseAddr("::ffff:192.0.2.1"), v4b, ProtoTCP, 40, "c0000201" + "c6336407" + "00" + "06" + "0028"},
		{v6a, v6b, ProtoICMPv6, 70000, "20010db8000000000000000000000001" + "20010db8000000000000000000000002" + "00011170" + "000000" + "3a"},
	}
	for _, tt := range tests {
		got, err := PseudoHeaderSum(tt.src, tt.dst, tt.proto, tt.length)
		if err != nil {
			t.Fatalf("PseudoHeaderSum(%v, %v): %v", tt.src, tt.dst, err)
		}
		if want := refSum(mustHex(t, tt.bytes)); Fold(got) != ^uint16(want) {
			t.Errorf("PseudoHeaderSum(%v, %v, %d, %d) folds to %#04x, want %#04x", tt.src, tt.dst, tt.proto, tt.length, Fold(got), ^uint16(want))
		}
	}
	bad := []struct {
		src, dst netip.Addr
		length   int
	}{
		{v4a, v6b, 8},
		{netip.Addr{}, v4b, 8},
		{v4a, v4b, 70000},
		{v4a, v4b, -1},
	}
	for _, tt := range bad {
		if _, err := PseudoHeaderSum(tt.src, tt.dst, ProtoUDP, tt.length); err == nil {
			t.Errorf("PseudoHeaderSum(%v, %v, length %d) succeeded, want an error", tt.src, tt.dst, tt.length)
		}
	}
}

func TestChecksumAllocs(t *testing.T) {
	b := make([]byte, 1500)
	src, dst := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	if n := testing.AllocsPerRun(100, func() {
		Checksum(b)
		if _, err := TransportChecksum(src, dst, ProtoUDP, b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Checksum and TransportChecksum allocate %v times per run, want 0", n)
	}
}

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{20, 64, 1500, 9000} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				Checksum(buf)
			}
		})
	}
}

// BenchmarkChecksumReference times the 16-bit reference loop, to compare.
func BenchmarkChecksumReference(b *testing.B) {
	buf := make([]byte, 1500)
	b.SetBytes(1500)
	for b.Loop() {
		refChecksum(buf)
	}
}
