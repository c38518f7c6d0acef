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

// TestEthernetVLAN: 802.1Q and QinQ tags, written out by hand from IEEE
// 802.1Q (TPID, then PCP 3 bits, DEI 1 bit, VID 12 bits), are taken apart
// and put back; a third tag is left in the payload.
func TestEthernetVLAN(t *testing.T) {
	const macs = "020000000002" + "020000000001"
	for _, tc := range []struct {
		name    string
		frame   string
		want    Ethernet
		payload string
	}{
		{"802.1Q", macs + "8100" + "602a" + "0800" + "45", Ethernet{NumVLANs: 1,
			VLANs: [MaxVLANTags]VLANTag{{TPID: EtherTypeVLAN, Priority: 3, ID: 42}}, EtherType: EtherTypeIPv4}, "45"},
		{"QinQ", macs + "88a8" + "0064" + "8100" + "bfff" + "86dd" + "60", Ethernet{NumVLANs: 2,
			VLANs:     [MaxVLANTags]VLANTag{{TPID: EtherTypeQinQ, ID: 100}, {TPID: EtherTypeVLAN, Priority: 5, DropOK: true, ID: 4095}},
			EtherType: EtherTypeIPv6}, "60"},
		{"three tags", macs + "8100" + "0001" + "8100" + "0002" + "8100" + "0003" + "0800", Ethernet{NumVLANs: 2,
			VLANs: [MaxVLANTags]VLANTag{{TPID: EtherTypeVLAN, ID: 1}, {TPID: EtherTypeVLAN, ID: 2}}, EtherType: EtherTypeVLAN}, "00030800"},
		{"no tag", macs + "0800" + "45", Ethernet{EtherType: EtherTypeIPv4}, "45"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustHex(t, tc.frame)
			tc.want.Dst, tc.want.Src = MAC{2, 0, 0, 0, 0, 2}, MAC{2, 0, 0, 0, 0, 1}
			// Parse into a struct holding tags of an earlier frame.
			e := Ethernet{NumVLANs: 2, VLANs: [MaxVLANTags]VLANTag{{ID: 9}, {ID: 9}}}
			p, err := e.Parse(b)
			if err != nil || e != tc.want || !bytes.Equal(p, mustHex(t, tc.payload)) {
				t.Fatalf("Parse = %+v, payload %x, %v; want %+v and %s", e, p, err, tc.want, tc.payload)
			}
			if e.HeaderLen() != len(b)-len(p) || len(e.Tags()) != e.NumVLANs {
				t.Errorf("HeaderLen %d, %d tags: the payload starts at %d", e.HeaderLen(), len(e.Tags()), len(b)-len(p))
			}
			if out := e.Append(nil, p); !bytes.Equal(out, b) {
				t.Errorf("Append:\n got %x\nwant %x", out, b)
			}
		})
	}
	var e Ethernet
	for _, cut := range []string{"8100", "810060", "8100602a", "88a80064" + "8100"} {
		if _, err := e.Parse(mustHex(t, macs+cut)); !errors.Is(err, ErrTruncated) {
			t.Errorf("tag cut to %s: %v, want ErrTruncated", cut, err)
		}
	}
	// A tag with no TPID is written as 802.1Q.
	out := (&Ethernet{NumVLANs: 1, VLANs: [MaxVLANTags]VLANTag{{ID: 5}}, EtherType: EtherTypeARP}).Append(nil, nil)
	if want := mustHex(t, "000000000000000000000000"+"8100"+"0005"+"0806"); !bytes.Equal(out, want) {
		t.Errorf("Append of a tag without TPID: %x, want %x", out, want)
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
	// Behind a QinQ pair of tags: taking them apart allocates nothing.
	b := (&Ethernet{Dst: Broadcast, NumVLANs: 2, VLANs: [MaxVLANTags]VLANTag{{TPID: EtherTypeQinQ, ID: 1}, {ID: 2}},
		EtherType: EtherTypeARP}).Append(nil, mustHex(t, arpRequest)[14:])
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
