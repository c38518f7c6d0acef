package packet

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// tcpSyn is a SYN 192.0.2.1:12345 -> 198.51.100.7:80, seq 1000, window
// 64240, MSS 1460, its checksum computed apart from this package.
const tcpSyn = "30390050000003e8000000006002faf07c880000020405b4"

func TestTCPKnownAnswer(t *testing.T) {
	h := TCP{SrcPort: 12345, DstPort: 80, Seq: 1000, Flags: TCPSyn, Window: 64240, Options: []byte{2, 4, 5, 0xb4}}
	got, err := h.Append(nil, addrA4, addrB4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, tcpSyn); !bytes.Equal(got, want) {
		t.Fatalf("Append:\n got %x\nwant %x", got, want)
	}
	var p TCP
	data, err := p.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	h.DataOffset, h.Checksum = 6, 0x7c88
	if !reflect.DeepEqual(p, h) || len(data) != 0 {
		t.Errorf("Parse:\n got %+v %x\nwant %+v", p, data, h)
	}
	if err := VerifyTCPChecksum(addrA4, addrB4, got); err != nil {
		t.Error(err)
	}
	ph := append(append(addrA4.AsSlice(), addrB4.AsSlice()...), pseudoTail(true, ProtoTCP, len(got))...)
	if c := refChecksum(append(ph, got...)); c != 0 {
		t.Errorf("reference checksum = %#04x, want 0", c)
	}
}

func TestTCPRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
		h        TCP
		payload  string
	}{
		{"IPv4 ACK with data", addrA4, addrB4, TCP{SrcPort: 80, DstPort: 5555, Seq: 0xfffffff0, Ack: 77, Flags: TCPAck | TCPPsh, Window: 512}, "GET / HTTP/1.0\r\n\r\n"},
		{"IPv6 all flags, options padded", addrA6, addrB6, TCP{Flags: 0xff, Urgent: 3, Reserved: 5, Options: []byte{1, 1, 4, 2, 3, 3, 7}}, "x"},
		{"FIN RST", addrA6, addrB6, TCP{Flags: TCPFin | TCPRst}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.h.Append(nil, tt.src, tt.dst, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			var p TCP
			data, err := p.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.payload {
				t.Errorf("data %q, want %q", data, tt.payload)
			}
			if int(p.DataOffset)*4 != tt.h.Len() || len(p.Options) != tt.h.Len()-20 || !bytes.HasPrefix(p.Options, tt.h.Options) {
				t.Errorf("data offset %d options %x, want header length %d", p.DataOffset, p.Options, tt.h.Len())
			}
			p.DataOffset, p.Checksum, p.Options = 0, 0, tt.h.Options
			if !reflect.DeepEqual(p, tt.h) {
				t.Errorf("round trip:\n got %+v\nwant %+v", p, tt.h)
			}
			if err := VerifyTCPChecksum(tt.src, tt.dst, b); err != nil {
				t.Error(err)
			}
			b[len(b)-1] ^= 1
			if err := VerifyTCPChecksum(tt.src, tt.dst, b); !errors.Is(err, ErrChecksum) {
				t.Errorf("corrupted: %v, want ErrChecksum", err)
			}
		})
	}
}

func TestTCPParseErrors(t *testing.T) {
	good := mustHex(t, tcpSyn)
	mod := func(f func(b []byte)) []byte { return modified(good, f) }
	checkParseErrors(t, []parseCase{
		{"empty", nil, ErrTruncated},
		{"19 bytes", good[:19], ErrTruncated},
		{"data offset 4", mod(func(b []byte) { b[12] = 0x40 }), ErrMalformed},
		{"data offset 0", mod(func(b []byte) { b[12] = 0 }), ErrMalformed},
		{"data offset past the end", mod(func(b []byte) { b[12] = 0x70 }), ErrTruncated},
		{"options cut", good[:22], ErrTruncated},
		{"option length lies", mod(func(b []byte) { b[21] = 5 }), ErrMalformed},
		{"option length 0", mod(func(b []byte) { b[21] = 0 }), ErrMalformed},
	}, new(TCP).Parse)
}

func TestTCPAppendErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		h        TCP
		src, dst netip.Addr
	}{
		"no source":       {TCP{}, netip.Addr{}, addrB4},
		"0.0.0.0 source":  {TCP{}, netip.IPv4Unspecified(), addrB4},
		"mixed families":  {TCP{}, addrA4, addrB6},
		"41 option bytes": {TCP{Options: make([]byte, 41)}, addrA4, addrB4},
		"reserved bits":   {TCP{Reserved: 0x10}, addrA4, addrB4},
	} {
		if _, err := tc.h.Append(nil, tc.src, tc.dst, nil); err == nil {
			t.Errorf("%s: Append succeeded, want an error", name)
		}
	}
}

func TestTCPFlags(t *testing.T) {
	tests := []struct {
		f TCPFlags
		s string
	}{
		{0, "none"},
		{TCPSyn, "S"},
		{TCPSyn | TCPAck, "SA"},
		{TCPFin | TCPAck, "FA"},
		{TCPRst, "R"},
		{TCPPsh | TCPAck | TCPUrg, "PAU"},
		{0xff, "FSRPAUEC"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.s {
			t.Errorf("TCPFlags(%#x).String() = %q, want %q", uint8(tt.f), got, tt.s)
		}
		if tt.f == 0 {
			continue
		}
		if got, err := ParseTCPFlags(tt.s); err != nil || got != tt.f {
			t.Errorf("ParseTCPFlags(%q) = %#x, %v; want %#x", tt.s, uint8(got), err, uint8(tt.f))
		}
	}
	if got, err := ParseTCPFlags("as"); err != nil || got != TCPSyn|TCPAck {
		t.Errorf(`ParseTCPFlags("as") = %v, %v`, got, err)
	}
	if got, err := ParseTCPFlags(""); err != nil || got != 0 {
		t.Errorf(`ParseTCPFlags("") = %v, %v`, got, err)
	}
	if _, err := ParseTCPFlags("SX"); err == nil {
		t.Error(`ParseTCPFlags("SX") succeeded`)
	}
	if got := (TCPSyn | TCPAck).names(); got != "SYN, ACK" {
		t.Errorf("names = %q", got)
	}
}

func TestTCPAllocs(t *testing.T) {
	b := mustHex(t, tcpSyn)
	var h TCP
	out := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		p, err := h.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Append(out[:0], addrA4, addrB4, p); err != nil {
			t.Fatal(err)
		}
		if err := VerifyTCPChecksum(addrA4, addrB4, b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("TCP Parse, Append and Verify allocate %v times per run, want 0", n)
	}
}
