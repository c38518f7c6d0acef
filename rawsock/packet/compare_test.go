package packet

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// kernelHdrincl does to b what net/ipv4/raw.c raw_send_hdrinc does: total
// length and checksum always, id and source when zero.
func kernelHdrincl(b []byte, id uint16, src netip.Addr) []byte {
	w := slices.Clone(b)
	binary.BigEndian.PutUint16(w[2:], uint16(len(w)))
	if binary.BigEndian.Uint16(w[4:]) == 0 {
		binary.BigEndian.PutUint16(w[4:], id)
	}
	if binary.BigEndian.Uint32(w[12:]) == 0 {
		a := src.As4()
		copy(w[12:16], a[:])
	}
	binary.BigEndian.PutUint16(w[10:], 0)
	binary.BigEndian.PutUint16(w[10:], Checksum(w[:IPv4HeaderLen]))
	return w
}

func changedNames(rows []FieldChange) []string {
	var out []string
	for _, r := range rows {
		if r.Changed {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestCompareSent(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	udp := func(t *testing.T, id uint16, src netip.Addr) []byte {
		u := UDP{SrcPort: 40000, DstPort: 9}
		seg, err := u.Append(nil, src, lo, []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		ip := IPv4{ID: id, TTL: 64, Protocol: ProtoUDP, Src: src, Dst: lo}
		b, err := ip.Append(nil, seg)
		if err != nil {
			t.Fatal(err)
		}
		// What the user leaves to the kernel: total length and checksum 0.
		binary.BigEndian.PutUint16(b[2:], 0)
		binary.BigEndian.PutUint16(b[10:], 0)
		return b
	}
	for _, tc := range []struct {
		name string
		id   uint16
		src  netip.Addr
		want []string
	}{
		{"id and source 0", 0, netip.IPv4Unspecified(), []string{"total length", "identification", "header checksum", "source address"}},
		{"id and source given", 0x1234, lo, []string{"total length", "header checksum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := udp(t, tc.id, tc.src)
			wire := kernelHdrincl(sent, 0xbeef, lo)
			rows, err := CompareSent(sent, wire)
			if err != nil {
				t.Fatal(err)
			}
			if got := changedNames(rows); !slices.Equal(got, tc.want) {
				t.Errorf("changed %q, want %q", got, tc.want)
			}
			for _, r := range rows {
				if r.Changed && !r.KernelSet {
					t.Errorf("%s %s changed but not marked as the kernel's", r.Layer, r.Name)
				}
			}
			var sb strings.Builder
			if err := WriteComparison(&sb, rows); err != nil {
				t.Fatal(err)
			}
			out := sb.String()
			if !strings.Contains(out, "* kernel filled in") || !strings.Contains(out, "the kernel changed: "+strings.Join(tc.want, ", ")) {
				t.Errorf("table:\n%s", out)
			}
		})
	}
}

func TestCompareSentTransport(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tcp := TCP{SrcPort: 1, DstPort: 2, Seq: 7, Flags: TCPSyn, Window: 100}
	seg, err := tcp.Append(nil, lo, lo, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip := IPv4{ID: 1, TTL: 64, Protocol: ProtoTCP, Src: lo, Dst: lo}
	sent, err := ip.Append(nil, seg)
	if err != nil {
		t.Fatal(err)
	}
	wire := slices.Clone(sent)
	wire[IPv4HeaderLen+16] ^= 0xff  // a checksum the kernel must never touch
	wire = append(wire, 0, 0, 0, 0) // link padding past the total length
	rows, err := CompareSent(sent, wire)
	if err != nil {
		t.Fatal(err)
	}
	if got := changedNames(rows); !slices.Equal(got, []string{"checksum"}) {
		t.Fatalf("changed %q, want the TCP checksum alone", got)
	}
	var sb strings.Builder
	WriteComparison(&sb, rows)
	if !strings.Contains(sb.String(), "! CHANGED") {
		t.Errorf("a change outside raw(7)'s list is not called out:\n%s", sb.String())
	}
}

func TestCompareSentRefuses(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	ip := IPv4{TTL: 64, Protocol: ProtoUDP, Src: lo, Dst: lo}
	a, _ := ip.Append(nil, make([]byte, 8))
	ip.Protocol = ProtoTCP
	b, _ := ip.Append(nil, make([]byte, 20))
	for _, tc := range []struct {
		name       string
		sent, wire []byte
	}{
		{"short", a[:10], a},
		{"not IPv4", append([]byte{0x60}, a[1:]...), a},
		{"other packet", a, b},
		{"empty", nil, nil},
	} {
		if _, err := CompareSent(tc.sent, tc.wire); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: err %v, want ErrMalformed or ErrTruncated", tc.name, err)
		}
	}
}

func FuzzCompareSent(f *testing.F) {
	lo := netip.MustParseAddr("127.0.0.1")
	ip := IPv4{TTL: 64, Protocol: ProtoUDP, Src: lo, Dst: lo, Options: []byte{1, 1, 1, 1}}
	a, _ := ip.Append(nil, make([]byte, 12))
	f.Add(a, kernelHdrincl(a, 1, lo))
	f.Fuzz(func(t *testing.T, sent, wire []byte) {
		rows, err := CompareSent(sent, wire)
		if err == nil && len(rows) == 0 {
			t.Fatal("no rows and no error")
		}
	})
}
