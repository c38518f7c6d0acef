package packet

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

func TestUDPKnownAnswer(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
		h        UDP
		payload  string
		want     string
	}{
		{"IPv4", addrA4, addrB4, UDP{SrcPort: 40000, DstPort: 9}, "hello\n", udp4Packet[40:]},
		{"IPv6", addrA6, addrB6, UDP{SrcPort: 5353, DstPort: 5353}, "abc", udp6Segment},
		// Kernel fills the IPv4 source: no checksum can be right, so none.
		{"IPv4 no source", netip.Addr{}, addrB4, UDP{SrcPort: 40000, DstPort: 9}, "hello\n", "9c400009000e0000" + "68656c6c6f0a"},
		{"IPv4 source 0.0.0.0", netip.IPv4Unspecified(), addrB4, UDP{SrcPort: 40000, DstPort: 9}, "hello\n", "9c400009000e0000" + "68656c6c6f0a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.Append(nil, tt.src, tt.dst, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("Append:\n got %x\nwant %x", got, want)
			}
			var p UDP
			data, err := p.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if p.SrcPort != tt.h.SrcPort || p.DstPort != tt.h.DstPort || int(p.Length) != len(got) || string(data) != tt.payload {
				t.Errorf("Parse: %+v %q", p, data)
			}
			if tt.src.IsValid() && !tt.src.IsUnspecified() {
				if err := VerifyUDPChecksum(tt.src, tt.dst, got); err != nil {
					t.Error(err)
				}
				// Independently: the reference sum over the pseudo-header
				// written out by hand, then the datagram, is ones' zero.
				ph := append(append(tt.src.AsSlice(), tt.dst.AsSlice()...), pseudoTail(tt.src.Is4(), ProtoUDP, len(got))...)
				if c := refChecksum(append(ph, got...)); c != 0 {
					t.Errorf("reference checksum over pseudo-header and datagram = %#04x, want 0", c)
				}
			}
		})
	}
}

// pseudoTail is the part of a pseudo-header after the two addresses.
func pseudoTail(v4 bool, proto uint8, n int) []byte {
	if v4 {
		return []byte{0, proto, byte(n >> 8), byte(n)}
	}
	return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 0, 0, proto}
}

// TestUDPChecksumZeroBecomesFFFF finds a payload whose checksum computes to
// 0 and checks it is sent as 0xffff (RFC 768).
func TestUDPChecksumZeroBecomesFFFF(t *testing.T) {
	h := UDP{SrcPort: 1, DstPort: 2}
	b, err := h.Append(nil, addrA4, addrB4, []byte{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	// Pick the last two payload bytes to make the computed sum 0xffff.
	c := uint16(b[6])<<8 | uint16(b[7])
	b2, err := h.Append(nil, addrA4, addrB4, []byte{byte(c >> 8), byte(c)})
	if err != nil {
		t.Fatal(err)
	}
	if b2[6] != 0xff || b2[7] != 0xff {
		t.Fatalf("checksum %02x%02x, want ffff", b2[6], b2[7])
	}
	if err := VerifyUDPChecksum(addrA4, addrB4, b2); err != nil {
		t.Error(err)
	}
}

func TestUDPParseErrors(t *testing.T) {
	good := mustHex(t, udp6Segment)
	checkParseErrors(t, []parseCase{
		{"empty", nil, ErrTruncated},
		{"7 bytes", good[:7], ErrTruncated},
		{"length 7", []byte{0, 1, 0, 2, 0, 7, 0, 0}, ErrMalformed},
		{"length 0", []byte{0, 1, 0, 2, 0, 0, 0, 0}, ErrMalformed},
		{"length lies", []byte{0, 1, 0, 2, 0, 9, 0, 0}, ErrTruncated},
		{"truncated data", good[:10], ErrTruncated},
	}, new(UDP).Parse)
	var h UDP
	if p, err := h.Parse(append(append([]byte(nil), good...), 9, 9)); err != nil || len(p) != 3 || cap(p) != 3 {
		t.Errorf("with a trailer: %x (cap %d), %v; want 3 data bytes", p, cap(p), err)
	}
}

func TestVerifyUDPChecksum(t *testing.T) {
	b4 := mustHex(t, udp4Packet[40:])
	b6 := mustHex(t, udp6Segment)
	flip := func(b []byte, i int) []byte { c := append([]byte(nil), b...); c[i] ^= 0x40; return c }
	zero := func(b []byte) []byte { c := append([]byte(nil), b...); c[6], c[7] = 0, 0; return c }
	tests := []struct {
		name     string
		src, dst netip.Addr
		b        []byte
		kind     error
	}{
		{"IPv4 good", addrA4, addrB4, b4, nil},
		{"IPv6 good", addrA6, addrB6, b6, nil},
		{"IPv4 data flipped", addrA4, addrB4, flip(b4, 9), ErrChecksum},
		{"IPv6 port flipped", addrA6, addrB6, flip(b6, 0), ErrChecksum},
		{"wrong destination", addrA4, netip.MustParseAddr("198.51.100.8"), b4, ErrChecksum},
		{"IPv4 none", addrA4, addrB4, zero(b4), nil},
		{"IPv6 none", addrA6, addrB6, zero(b6), ErrChecksum},
		{"mixed families", addrA4, addrB6, b4, ErrMalformed},
		{"truncated", addrA4, addrB4, b4[:10], ErrTruncated},
	}
	for _, tt := range tests {
		err := VerifyUDPChecksum(tt.src, tt.dst, tt.b)
		if tt.kind == nil && err != nil || tt.kind != nil && !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
}

func TestUDPAppendErrors(t *testing.T) {
	h := UDP{}
	if _, err := h.Append(nil, addrA6, addrB4, nil); err == nil {
		t.Error("mixed families: no error")
	}
	if _, err := h.Append(nil, netip.Addr{}, addrB6, nil); err == nil {
		t.Error("IPv6 without a source: no error")
	}
	if _, err := h.Append(nil, addrA4, addrB4, make([]byte, 65528)); err == nil {
		t.Error("65536-byte datagram: no error")
	}
}

func TestUDPAllocs(t *testing.T) {
	b := mustHex(t, udp6Segment)
	var h UDP
	out := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		p, err := h.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Append(out[:0], addrA6, addrB6, p); err != nil {
			t.Fatal(err)
		}
		if err := VerifyUDPChecksum(addrA6, addrB6, b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("UDP Parse, Append and Verify allocate %v times per run, want 0", n)
	}
}
