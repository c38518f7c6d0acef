package packet

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"
)

// TestICMPFields: which header fields each type has, and where the Set
// methods write them, byte by byte (RFC 792, RFC 1191, RFC 4443, RFC 4884).
func TestICMPFields(t *testing.T) {
	all := []ICMPField{ICMPFieldID, ICMPFieldSeq, ICMPFieldLength, ICMPFieldMTU, ICMPFieldPointer, ICMPFieldGateway}
	for _, tc := range []struct {
		proto      int
		typ, code  uint8
		has        []ICMPField
		set        func(m *ICMP)
		wantHeader string // bytes 4-7
	}{
		{ProtoICMP, ICMPv4EchoRequest, 0, []ICMPField{ICMPFieldID, ICMPFieldSeq}, func(m *ICMP) { m.ID, m.Seq = 0x1234, 5 }, "12340005"},
		{ProtoICMP, ICMPv4Timestamp, 0, []ICMPField{ICMPFieldID, ICMPFieldSeq}, func(m *ICMP) { m.ID, m.Seq = 1, 2 }, "00010002"},
		{ProtoICMP, ICMPv4MaskReply, 0, []ICMPField{ICMPFieldID, ICMPFieldSeq}, func(m *ICMP) {}, "00000000"},
		{ProtoICMP, ICMPv4DestUnreach, 4, []ICMPField{ICMPFieldLength, ICMPFieldMTU}, func(m *ICMP) { m.SetMTU(1400); m.SetLength(7) }, "00070578"},
		{ProtoICMP, ICMPv4DestUnreach, 3, []ICMPField{ICMPFieldLength}, func(m *ICMP) { m.SetLength(32) }, "00200000"},
		{ProtoICMP, ICMPv4TimeExceeded, 0, []ICMPField{ICMPFieldLength}, func(m *ICMP) { m.SetLength(1) }, "00010000"},
		{ProtoICMP, ICMPv4ParamProblem, 0, []ICMPField{ICMPFieldLength, ICMPFieldPointer}, func(m *ICMP) { m.SetPointer(9); m.SetLength(2) }, "09020000"},
		{ProtoICMP, ICMPv4Redirect, 1, []ICMPField{ICMPFieldGateway}, func(m *ICMP) { m.SetGateway(netip.MustParseAddr("192.0.2.254")) }, "c00002fe"},
		{ProtoICMP, ICMPv4SourceQuench, 0, nil, func(m *ICMP) {}, "00000000"},
		{ProtoICMPv6, ICMPv6EchoReply, 0, []ICMPField{ICMPFieldID, ICMPFieldSeq}, func(m *ICMP) { m.ID, m.Seq = 7, 9 }, "00070009"},
		{ProtoICMPv6, ICMPv6PacketTooBig, 0, []ICMPField{ICMPFieldMTU}, func(m *ICMP) { m.SetMTU(1280) }, "00000500"},
		{ProtoICMPv6, ICMPv6DestUnreach, 4, []ICMPField{ICMPFieldLength}, func(m *ICMP) { m.SetLength(3) }, "03000000"},
		{ProtoICMPv6, ICMPv6ParamProblem, 0, []ICMPField{ICMPFieldPointer}, func(m *ICMP) { m.SetPointer(40) }, "00000028"},
	} {
		m := ICMP{Proto: tc.proto, Type: tc.typ, Code: tc.code}
		for _, f := range all {
			want := false
			for _, h := range tc.has {
				want = want || h == f
			}
			if m.HasField(f) != want {
				t.Errorf("proto %d type %d code %d: HasField(%v) = %v", tc.proto, tc.typ, tc.code, f, !want)
			}
		}
		tc.set(&m)
		b, err := m.Append(nil, netip.Addr{}, netip.Addr{})
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b[4:8]); got != tc.wantHeader {
			t.Errorf("proto %d type %d code %d: header bytes 4-7 %s, want %s", tc.proto, tc.typ, tc.code, got, tc.wantHeader)
		}
	}
	m := ICMP{Proto: ProtoICMP, Type: ICMPv4Redirect}
	if err := m.SetGateway(netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("SetGateway took an IPv6 address")
	}
	if ICMPFieldGateway.String() != "gateway" || ICMPField(0).String() != "ICMPField(0)" {
		t.Errorf("names: %v %v", ICMPFieldGateway, ICMPField(0))
	}
}

func TestICMPTimestamp(t *testing.T) {
	at := time.Date(2026, 12, 3, 1, 2, 3, 456e6, time.FixedZone("X", 3600)) // 00:02:03.456 UT
	if got := ICMPTimestamp(at); got != 123456 {
		t.Errorf("ICMPTimestamp = %d, want 123456", got)
	}
}
