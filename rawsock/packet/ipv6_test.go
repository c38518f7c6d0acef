package packet

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/net/ipv6"
)

// udp6Segment is a UDP datagram 2001:db8::1:5353 -> 2001:db8::2:5353
// carrying "abc", its checksum computed apart from this package.
const udp6Segment = "14e914e9000bb62e616263"

const ipv6HeaderHex = "6" + "12" + "abcde" + "000b" + "11" + "40" +
	"20010db8000000000000000000000001" + "20010db8000000000000000000000002"

func TestIPv6KnownAnswer(t *testing.T) {
	want := mustHex(t, ipv6HeaderHex+udp6Segment)
	h := IPv6{TrafficClass: 0x12, FlowLabel: 0xabcde, NextHeader: ProtoUDP, HopLimit: 64, Src: addrA6, Dst: addrB6}
	got, err := h.Append(nil, mustHex(t, udp6Segment))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Append:\n got %x\nwant %x", got, want)
	}
	var p IPv6
	payload, err := p.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	h.PayloadLen = 11
	if !reflect.DeepEqual(p, h) {
		t.Errorf("Parse:\n got %+v\nwant %+v", p, h)
	}
	if !bytes.Equal(payload, mustHex(t, udp6Segment)) {
		t.Errorf("payload %x", payload)
	}
	// x/net reads the same fields from the same bytes.
	x, err := ipv6.ParseHeader(got)
	if err != nil {
		t.Fatal(err)
	}
	if x.Version != 6 || x.TrafficClass != 0x12 || x.FlowLabel != 0xabcde || x.PayloadLen != 11 ||
		x.NextHeader != ProtoUDP || x.HopLimit != 64 || !x.Src.Equal(addrA6.AsSlice()) || !x.Dst.Equal(addrB6.AsSlice()) {
		t.Errorf("x/net ipv6.ParseHeader: %v", x)
	}
}

func TestIPv6ParseErrors(t *testing.T) {
	good := mustHex(t, ipv6HeaderHex+udp6Segment)
	mod := func(f func(b []byte)) []byte { return modified(good, f) }
	checkParseErrors(t, []parseCase{
		{"empty", nil, ErrTruncated},
		{"39 bytes", good[:39], ErrTruncated},
		{"version 4", mod(func(b []byte) { b[0] = 0x46 }), ErrMalformed},
		{"payload length lies", mod(func(b []byte) { b[5] = 12 }), ErrTruncated},
		{"payload truncated", good[:45], ErrTruncated},
	}, new(IPv6).Parse)
	// Trailing bytes are not payload.
	var h IPv6
	p, err := h.Parse(append(append([]byte(nil), good...), 1, 2, 3))
	if err != nil || len(p) != 11 || cap(p) != 11 {
		t.Errorf("with a trailer: payload %x (cap %d), %v; want the 11 payload bytes", p, cap(p), err)
	}
}

func TestIPv6AppendErrors(t *testing.T) {
	for _, h := range []IPv6{
		{Src: addrA4, Dst: addrB6},
		{Src: addrA6},
		{Src: addrA6, Dst: addrB6, FlowLabel: 0x100000},
	} {
		if _, err := h.Append(nil, nil); err == nil {
			t.Errorf("Append(%+v) succeeded, want an error", h)
		}
	}
	h := IPv6{Src: addrA6, Dst: addrB6}
	if _, err := h.Append(nil, make([]byte, 65536)); err == nil {
		t.Error("Append of a 65536-byte payload succeeded, want an error")
	}
}

func TestSkipIPv6Extensions(t *testing.T) {
	hop := []byte{ipv6Routing, 0, 1, 4, 0, 0, 0, 0}                         // hop-by-hop, 8 bytes, next routing
	rt := []byte{ipv6Fragment, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // routing, 16 bytes, next fragment
	frag0 := []byte{ProtoUDP, 0, 0, 1, 0, 0, 0, 1}                          // first fragment (offset 0, M set)
	frag8 := []byte{ProtoUDP, 0, 0, 8, 0, 0, 0, 1}                          // offset 1 (8 bytes)
	udp := []byte{0, 1, 0, 2, 0, 8, 0, 0}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name     string
		b        []byte
		proto    uint8
		off      int
		frag     bool
		wantKind error
	}{
		{"none", udp, ProtoUDP, 0, false, nil},
		{"chain", cat(hop, rt, frag0, udp), ProtoUDP, 32, false, nil},
		{"later fragment", cat([]byte{ipv6Fragment, 0, 0, 0, 0, 0, 0, 0}, frag8, udp), ipv6Fragment, 16, true, nil},
		{"truncated header", cat(hop, rt[:10]), 0, 0, false, ErrTruncated},
		{"truncated fragment", cat(hop, rt, frag0[:4]), 0, 0, false, ErrTruncated},
		{"short", hop[:7], 0, 0, false, ErrTruncated},
		{"loop", bytes.Repeat([]byte{ipv6DestOptions, 0, 0, 0, 0, 0, 0, 0}, 17), 0, 0, false, ErrMalformed},
	}
	for _, tt := range tests {
		proto, off, frag, err := skipIPv6Extensions(ipv6HopByHop, tt.b)
		if tt.name == "none" {
			proto, off, frag, err = skipIPv6Extensions(ProtoUDP, tt.b)
		}
		if tt.wantKind != nil {
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("%s: err %v, want %v", tt.name, err, tt.wantKind)
			}
			continue
		}
		if err != nil || proto != tt.proto || off != tt.off || frag != tt.frag {
			t.Errorf("%s: %d, %d, %v, %v; want %d, %d, %v", tt.name, proto, off, frag, err, tt.proto, tt.off, tt.frag)
		}
	}
}

func TestIPv6Allocs(t *testing.T) {
	b := mustHex(t, ipv6HeaderHex+udp6Segment)
	var h IPv6
	out := make([]byte, 0, 100)
	if n := testing.AllocsPerRun(100, func() {
		p, err := h.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Append(out[:0], p); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("IPv6 Parse and Append allocate %v times per run, want 0", n)
	}
}
