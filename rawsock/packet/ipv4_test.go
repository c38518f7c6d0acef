package packet

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/net/ipv4"
)

// udp4Packet is an IPv4 UDP datagram 192.0.2.1:40000 -> 198.51.100.7:9
// carrying "hello\n", ID 0x1c46, DF, TTL 64. Its checksums were computed
// apart from this package (a Python struct/sum script), not by it.
const udp4Packet = "450000221c46400040113249c0000201c6336407" + "9c400009000e3370" + "68656c6c6f0a"

func TestIPv4AppendKnownAnswer(t *testing.T) {
	want := mustHex(t, udp4Packet)
	h := IPv4{ID: 0x1c46, Flags: DontFragment, TTL: 64, Protocol: ProtoUDP, Src: addrA4, Dst: addrB4}
	got, err := h.Append(nil, want[IPv4HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Append:\n got %x\nwant %x", got, want)
	}
	if err := VerifyIPv4Checksum(got); err != nil {
		t.Error(err)
	}
}

func TestIPv4ParseKnownAnswer(t *testing.T) {
	b := mustHex(t, udp4Packet)
	var h IPv4
	payload, err := h.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := IPv4{IHL: 5, TotalLen: 34, ID: 0x1c46, Flags: DontFragment, TTL: 64, Protocol: ProtoUDP,
		Checksum: 0x3249, Src: addrA4, Dst: addrB4}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", h, want)
	}
	if !bytes.Equal(payload, b[20:]) {
		t.Errorf("payload %x, want %x", payload, b[20:])
	}
}

func TestIPv4RoundTripOptions(t *testing.T) {
	tests := []struct {
		name    string
		options []byte
		wantIHL uint8
	}{
		{"none", nil, 5},
		{"router alert", []byte{148, 4, 0, 0}, 6},
		{"padded nop", []byte{1}, 6},
		{"record route", []byte{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0}, 8},
		{"full 40 bytes", append([]byte{7, 39, 4}, make([]byte, 37)...), 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := IPv4{TOS: 0xb8, ID: 7, Flags: MoreFragments, FragOff: 100, TTL: 1, Protocol: 200, Src: addrA4, Dst: addrB4, Options: tt.options}
			b, err := h.Append([]byte("prefix"), []byte("payload"))
			if err != nil {
				t.Fatal(err)
			}
			if string(b[:6]) != "prefix" {
				t.Fatalf("Append overwrote the prefix: %q", b[:6])
			}
			var got IPv4
			payload, err := got.Parse(b[6:])
			if err != nil {
				t.Fatal(err)
			}
			if string(payload) != "payload" {
				t.Errorf("payload %q", payload)
			}
			if got.IHL != tt.wantIHL || int(got.TotalLen) != len(b)-6 {
				t.Errorf("IHL %d total length %d, want %d and %d", got.IHL, got.TotalLen, tt.wantIHL, len(b)-6)
			}
			wantOpts := append(append([]byte{}, tt.options...), make([]byte, int(tt.wantIHL)*4-20-len(tt.options))...)
			if !bytes.Equal(got.Options, wantOpts) {
				t.Errorf("options %x, want %x", got.Options, wantOpts)
			}
			got.IHL, got.TotalLen, got.Checksum, got.Options = 0, 0, 0, h.Options
			if !reflect.DeepEqual(got, h) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, h)
			}
			if err := VerifyIPv4Checksum(b[6:]); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestIPv4ParseErrors(t *testing.T) {
	good := mustHex(t, udp4Packet)
	mod := func(f func(b []byte)) []byte { return modified(good, f) }
	checkParseErrors(t, []parseCase{
		{"empty", nil, ErrTruncated},
		{"19 bytes", good[:19], ErrTruncated},
		{"version 6", mod(func(b []byte) { b[0] = 0x65 }), ErrMalformed},
		{"IHL 4", mod(func(b []byte) { b[0] = 0x44 }), ErrMalformed},
		{"IHL 0", mod(func(b []byte) { b[0] = 0x40 }), ErrMalformed},
		{"IHL past the end", mod(func(b []byte) { b[0] = 0x4f }), ErrTruncated},
		{"total length below IHL", mod(func(b []byte) { b[3] = 19 }), ErrMalformed},
		{"total length 0", mod(func(b []byte) { b[2], b[3] = 0, 0 }), ErrMalformed},
		{"total length lies", mod(func(b []byte) { b[2], b[3] = 0x05, 0xdc }), ErrTruncated},
		{"truncated payload", good[:30], ErrTruncated},
		{"option length past options", withIPv4Options(good, 7, 9, 0, 0), ErrMalformed},
		{"option length 1", withIPv4Options(good, 68, 1, 0, 0), ErrMalformed},
		{"option without length", withIPv4Options(good, 1, 1, 1, 68), ErrMalformed},
	}, new(IPv4).Parse)
}

// withIPv4Options returns the header of packet with opts (a multiple of 4
// bytes) as its options, IHL and total length set to match, and no payload.
func withIPv4Options(packet []byte, opts ...byte) []byte {
	b := append(append([]byte(nil), packet[:IPv4HeaderLen]...), opts...)
	b[0] = 0x40 | byte(len(b)/4)
	b[2], b[3] = 0, byte(len(b))
	return b
}

func TestIPv4ParseOptionsListEnd(t *testing.T) {
	// An end-of-list option makes the rest padding, whatever it holds.
	b := withIPv4Options(mustHex(t, udp4Packet), 1, 0, 0xff, 0xff)
	var h IPv4
	if _, err := h.Parse(b); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

func TestIPv4ParseIgnoresTrailer(t *testing.T) {
	b := append(mustHex(t, udp4Packet), 0, 0, 0, 0) // Ethernet padding
	var h IPv4
	p, err := h.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 14 || cap(p) != 14 {
		t.Errorf("payload len %d cap %d, want 14 and 14 (not reaching the trailer)", len(p), cap(p))
	}
}

func TestIPv4AppendErrors(t *testing.T) {
	tests := []struct {
		name string
		h    IPv4
		n    int
	}{
		{"IPv6 destination", IPv4{Dst: addrA6}, 0},
		{"no destination", IPv4{}, 0},
		{"IPv6 source", IPv4{Src: addrA6, Dst: addrB4}, 0},
		{"41 option bytes", IPv4{Dst: addrB4, Options: make([]byte, 41)}, 0},
		{"too long", IPv4{Dst: addrB4}, 65516},
		{"fragment offset", IPv4{Dst: addrB4, FragOff: 0x2000}, 0},
		{"flags", IPv4{Dst: addrB4, Flags: 8}, 0},
	}
	for _, tt := range tests {
		if b, err := tt.h.Append(nil, make([]byte, tt.n)); err == nil {
			t.Errorf("%s: Append = %x, want an error", tt.name, b[:20])
		}
	}
	// The largest packet fits.
	h := IPv4{Dst: addrB4}
	if _, err := h.Append(nil, make([]byte, 65515)); err != nil {
		t.Errorf("65535-byte packet: %v", err)
	}
}

// TestIPv4UnspecifiedSource: a zero source goes out as 0.0.0.0, for the
// kernel to fill in on IP_HDRINCL.
func TestIPv4UnspecifiedSource(t *testing.T) {
	h := IPv4{TTL: 64, Protocol: ProtoICMP, Dst: addrB4}
	b, err := h.Append(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[12:16], []byte{0, 0, 0, 0}) {
		t.Errorf("source bytes %x, want 00000000", b[12:16])
	}
}

func TestVerifyIPv4Checksum(t *testing.T) {
	b := mustHex(t, udp4Packet)
	if err := VerifyIPv4Checksum(b); err != nil {
		t.Fatal(err)
	}
	b[10] ^= 1
	if err := VerifyIPv4Checksum(b); !errors.Is(err, ErrChecksum) {
		t.Errorf("corrupted checksum: %v, want ErrChecksum", err)
	}
	// 0xffff and 0x0000 are the same number in ones' complement; a header
	// whose checksum works out to 0 may carry either.
	h := mustHex(t, "4500001400000000ff0000000000000000000000")
	c := Checksum(h)
	h[10], h[11] = byte(c>>8), byte(c)
	if err := VerifyIPv4Checksum(h); err != nil {
		t.Errorf("computed checksum %#04x: %v", c, err)
	}
	for _, bad := range [][]byte{nil, b[:19], mustHex(t, "4f00001400000000000000000000000000000000")} {
		if err := VerifyIPv4Checksum(bad); err == nil {
			t.Errorf("VerifyIPv4Checksum(%x) = nil, want an error", bad)
		}
	}
}

// TestIPv4XNet checks the bytes against x/net's ipv4.Header, both ways.
func TestIPv4XNet(t *testing.T) {
	h := IPv4{TOS: 0x10, ID: 0xbeef, Flags: DontFragment, TTL: 3, Protocol: ProtoICMP, Src: addrA4, Dst: addrB4, Options: []byte{148, 4, 0, 0}}
	b, err := h.Append(nil, []byte("data"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := ipv4.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	var fromX IPv4
	if err := fromX.FromHeader(x); err != nil {
		t.Fatal(err)
	}
	var parsed IPv4
	if _, err := parsed.Parse(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromX, parsed) {
		t.Errorf("x/net parse:\n %+v\nours:\n %+v", fromX, parsed)
	}
	m, err := parsed.ToHeader().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m, b[:parsed.IHL*4]) {
		t.Errorf("x/net Marshal of ToHeader:\n %x\nwant\n %x", m, b[:parsed.IHL*4])
	}
	if err := fromX.FromHeader(&ipv4.Header{Dst: addrA6.AsSlice()}); err == nil {
		t.Error("FromHeader accepted an IPv6 destination")
	}
	if err := fromX.FromHeader(nil); err == nil {
		t.Error("FromHeader accepted nil")
	}
}

func TestIPv4Allocs(t *testing.T) {
	b, err := (&IPv4{TTL: 64, Protocol: ProtoUDP, Src: addrA4, Dst: addrB4, Options: []byte{148, 4, 0, 0}}).Append(nil, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	var h IPv4
	out := make([]byte, 0, 100)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := h.Parse(b); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Append(out[:0], b[24:]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("IPv4 Parse and Append allocate %v times per run, want 0", n)
	}
}
