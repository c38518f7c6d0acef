package packet

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// arpRequest is "who has 192.0.2.7? tell 192.0.2.1" from 02:00:00:00:00:01,
// broadcast, padded to the 60-byte minimum frame, written out by hand from
// RFC 826 and IEEE 802.3.
const arpRequest = "ffffffffffff" + "020000000001" + "0806" +
	"0001" + "0800" + "06" + "04" + "0001" +
	"020000000001" + "c0000201" + "000000000000" + "c0000207" +
	"000000000000000000000000000000000000"

func TestEthernetARPKnownAnswer(t *testing.T) {
	want := mustHex(t, arpRequest)
	a := ARP{Op: ARPRequest, SenderMAC: MAC{2, 0, 0, 0, 0, 1}, SenderIP: addrA4, TargetIP: netip.MustParseAddr("192.0.2.7")}
	arp, err := a.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := Ethernet{Dst: Broadcast, Src: MAC{2, 0, 0, 0, 0, 1}, EtherType: EtherTypeARP}
	got := e.Append(nil, append(arp, make([]byte, 18)...))
	if !bytes.Equal(got, want) {
		t.Fatalf("Append:\n got %x\nwant %x", got, want)
	}
	var pe Ethernet
	payload, err := pe.Parse(got)
	if err != nil || pe != e {
		t.Fatalf("Ethernet Parse = %+v, %v; want %+v", pe, err, e)
	}
	var pa ARP
	rest, err := pa.Parse(payload)
	if err != nil {
		t.Fatal(err)
	}
	a.HType = 1
	if pa != a || len(rest) != 18 {
		t.Errorf("ARP Parse = %+v (rest %d bytes), want %+v", pa, len(rest), a)
	}
	if s := pe.Src.String(); s != "02:00:00:00:00:01" {
		t.Errorf("MAC.String = %q", s)
	}
}

func TestEthernetParseErrors(t *testing.T) {
	var e Ethernet
	for _, n := range []int{0, 1, 13} {
		if _, err := e.Parse(make([]byte, n)); !errors.Is(err, ErrTruncated) {
			t.Errorf("%d bytes: %v, want ErrTruncated", n, err)
		}
	}
	if p, err := e.Parse(make([]byte, 14)); err != nil || len(p) != 0 {
		t.Errorf("14 bytes: %x, %v", p, err)
	}
}

func TestARPParseErrors(t *testing.T) {
	good := mustHex(t, arpRequest)[14:42]
	mod := func(f func(b []byte)) []byte { return modified(good, f) }
	checkParseErrors(t, []parseCase{
		{"empty", nil, ErrTruncated},
		{"7 bytes", good[:7], ErrTruncated},
		{"27 bytes", good[:27], ErrTruncated},
		{"protocol IPv6", mod(func(b []byte) { b[2], b[3] = 0x86, 0xdd }), ErrMalformed},
		{"hardware length 8", mod(func(b []byte) { b[4] = 8 }), ErrMalformed},
		{"protocol length 16", mod(func(b []byte) { b[5] = 16 }), ErrMalformed},
	}, new(ARP).Parse)
	a := ARP{SenderIP: addrA6}
	if _, err := a.Append(nil); err == nil {
		t.Error("ARP Append with an IPv6 sender succeeded")
	}
}

func TestEthernetARPAllocs(t *testing.T) {
	b := mustHex(t, arpRequest)
	var e Ethernet
	var a ARP
	out := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		p, err := e.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Parse(p); err != nil {
			t.Fatal(err)
		}
		out, err = a.Append(out[:0])
		if err != nil {
			t.Fatal(err)
		}
		out = e.Append(out[:0], p)
	}); n != 0 {
		t.Errorf("Ethernet and ARP Parse and Append allocate %v times per run, want 0", n)
	}
}
