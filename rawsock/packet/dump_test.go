package packet

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// dumpBytes reads the dump's hex lines back: the offset of the first and
// the bytes of all, checking that each line starts where the previous ended.
// It is how the tests check that a dump shows every byte exactly once, in
// order, at the offset it claims.
func dumpBytes(t testing.TB, dump string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(dump, "\n") {
		i := strings.Index(line, "  ")
		if i < 4 {
			continue // a title, or a "missing" note
		}
		off, err := strconv.ParseUint(line[:i], 16, 64)
		if err != nil {
			continue
		}
		if int(off) != len(out) {
			t.Fatalf("line %q is at offset %#x, want %#x\n%s", line, off, len(out), dump)
		}
		col := line[i+2 : min(len(line), i+2+23)]
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(col), " ", ""))
		if err != nil {
			t.Fatalf("line %q: bad hex %q: %v", line, col, err)
		}
		out = append(out, b...)
	}
	return out
}

// checkDump dumps b from first and checks it shows every byte of b.
func checkDump(t testing.TB, b []byte, first Layer) string {
	t.Helper()
	return checkDumpWith(t, b, first, DumpOptions{})
}

func checkDumpWith(t testing.TB, b []byte, first Layer, o DumpOptions) string {
	t.Helper()
	d := DumpWith(b, first, o)
	if got := dumpBytes(t, d); !bytes.Equal(got, b) {
		t.Fatalf("the dump shows\n %x\nnot\n %x\n%s", got, b, d)
	}
	for _, line := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		if strings.TrimRight(line, " ") != line || line == "" {
			t.Fatalf("blank line or trailing space in %q\n%s", line, d)
		}
	}
	return d
}

// samplePackets are rich packets for the dump tests and the fuzz seeds.
// Cut anywhere before quiet, a packet's dump must say what is missing; past
// it no length field covers the rest, so a cut cannot show.
type samplePacket struct {
	b     []byte
	layer Layer
	quiet int
}

func samplePackets(t testing.TB) map[string]samplePacket {
	t.Helper()
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mac1, mac2 := MAC{2, 0, 0, 0, 0, 1}, MAC{2, 0, 0, 0, 0, 2}
	tcp := must((&TCP{SrcPort: 43210, DstPort: 80, Seq: 1, Ack: 2, Flags: TCPAck | TCPPsh, Window: 502,
		Options: []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}}).Append(nil, addrA4, addrB4, []byte("GET / HTTP/1.1\r\n")))
	ip4tcp := must((&IPv4{TTL: 64, ID: 1, Flags: DontFragment, Protocol: ProtoTCP, Src: addrA4, Dst: addrB4,
		Options: []byte{148, 4, 0, 0}}).Append(nil, tcp))
	udp6 := must((&UDP{SrcPort: 53, DstPort: 33333}).Append(nil, addrA6, addrB6, []byte("answer")))
	ip6frag := must((&IPv6{NextHeader: ipv6HopByHop, HopLimit: 255, Src: addrA6, Dst: addrB6}).Append(nil,
		append([]byte{ipv6Fragment, 0, 5, 2, 0, 0, 1, 0, ProtoUDP, 0, 0, 0, 0, 0, 0, 7}, udp6...)))
	udp4 := must((&UDP{SrcPort: 50000, DstPort: 33434}).Append(nil, addrA4, addrB4, make([]byte, 32)))
	probe := must((&IPv4{TTL: 1, ID: 7, Protocol: ProtoUDP, Src: addrA4, Dst: addrB4}).Append(nil, udp4))
	te := must((&ICMP{Proto: ProtoICMP, Type: ICMPv4TimeExceeded, Data: probe[:28]}).Append(nil, addrA4, addrB4))
	ip4te := must((&IPv4{TTL: 254, Protocol: ProtoICMP, Src: netip.MustParseAddr("10.0.0.1"), Dst: addrA4}).Append(nil, te))
	echo6 := must((&ICMP{Proto: ProtoICMPv6, Type: ICMPv6EchoReply, ID: 7, Seq: 9, Data: []byte("ping")}).Append(nil, addrB6, addrA6))
	ip6echo := must((&IPv6{NextHeader: ProtoICMPv6, HopLimit: 64, Src: addrB6, Dst: addrA6}).Append(nil, echo6))
	arp := must((&ARP{Op: ARPReply, SenderMAC: mac2, SenderIP: addrB4, TargetMAC: mac1, TargetIP: addrA4}).Append(nil))
	all := func(b []byte, l Layer) samplePacket { return samplePacket{b, l, len(b)} }
	return map[string]samplePacket{
		"ethernet ipv4 tcp":      all((&Ethernet{Dst: mac2, Src: mac1, EtherType: EtherTypeIPv4}).Append(nil, ip4tcp), LayerEthernet),
		"ethernet ipv6 frag udp": all((&Ethernet{Dst: mac2, Src: mac1, EtherType: EtherTypeIPv6}).Append(nil, ip6frag), LayerEthernet),
		"ethernet arp padded":    {(&Ethernet{Dst: mac1, Src: mac2, EtherType: EtherTypeARP}).Append(nil, append(arp, make([]byte, 18)...)), LayerEthernet, 42},
		"ethernet vlan ipv4 udp": all((&Ethernet{Dst: mac2, Src: mac1, NumVLANs: 1, VLANs: [MaxVLANTags]VLANTag{{TPID: EtherTypeVLAN, Priority: 3, ID: 42}},
			EtherType: EtherTypeIPv4}).Append(nil, probe), LayerEthernet),
		"ethernet qinq ipv6 echo": all((&Ethernet{Dst: mac1, Src: mac2, NumVLANs: 2, VLANs: [MaxVLANTags]VLANTag{{TPID: EtherTypeQinQ, ID: 100},
			{TPID: EtherTypeVLAN, Priority: 5, DropOK: true, ID: 4095}}, EtherType: EtherTypeIPv6}).Append(nil, ip6echo), LayerEthernet),
		"ipv4 icmp time exceeded":  all(ip4te, LayerIP),
		"ipv6 icmpv6 echo reply":   all(ip6echo, LayerIP),
		"icmp echo alone":          {mustHex(t, echo4), LayerICMP, 8},
		"udp alone":                all(udp4, LayerUDP),
		"tcp alone":                {tcp, LayerTCP, 32},
		"ipv6 udp, no ext headers": all(must((&IPv6{NextHeader: ProtoUDP, Src: addrA6, Dst: addrB6}).Append(nil, udp6)), LayerIPv6),
	}
}

func TestDumpShowsEveryByte(t *testing.T) {
	for name, s := range samplePackets(t) {
		t.Run(name, func(t *testing.T) {
			d := checkDump(t, s.b, s.layer)
			if strings.Contains(d, "missing") || strings.Contains(d, "wrong") || strings.Contains(d, "[") {
				t.Errorf("a well-formed packet's dump complains:\n%s", d)
			}
			// Without an IP header there is no pseudo-header, and ARP has no checksum.
			checkable := s.layer != LayerTCP && s.layer != LayerUDP && !strings.Contains(name, "arp")
			if checkable && !strings.Contains(d, "(correct)") {
				t.Errorf("no checksum verified:\n%s", d)
			}
			// Every prefix: no panic, every byte shown, what is missing said.
			for n := range len(s.b) {
				d := checkDump(t, s.b[:n], s.layer)
				if n < s.quiet && !strings.Contains(d, "missing") && !strings.Contains(d, "only") {
					t.Fatalf("cut to %d of %d bytes, the dump does not say what is missing:\n%s", n, len(s.b), d)
				}
			}
		})
	}
}

func TestDumpNotes(t *testing.T) {
	good := mustHex(t, udp4Packet)
	set := func(i int, v ...byte) []byte { return modified(good, func(b []byte) { copy(b[i:], v) }) }
	sent, received := DumpOptions{Sent: true}, DumpOptions{}
	tests := []struct {
		name  string
		b     []byte
		layer Layer
		want  []string
		opts  DumpOptions
	}{
		{"known answer", good, LayerIPv4, []string{
			"0000  45                       version 4, IHL 5 (20 bytes)\n",
			"0002  00 22                    total length 34\n",
			"0006  40 00                    flags DF, fragment offset 0 (0 bytes)\n",
			"0009  11                       protocol 17 (UDP)\n",
			"000a  32 49                    header checksum 0x3249 (correct)\n",
			"000c  c0 00 02 01              source 192.0.2.1\n",
			"0014  9c 40                    source port 40000\n",
			"001a  33 70                    checksum 0x3370 (correct)\n",
			"001c  68 65 6c 6c 6f 0a        |hello.|\n"}, received},
		{"cut in a field", good[:14], LayerIPv4, []string{
			"000c  c0 00                    source address: truncated, 2 of 4 bytes\n",
			"      missing: source address, destination address\n"}, received},
		{"total length lies", set(2, 0x05, 0xdc), LayerIPv4, []string{
			"total length 1500 [only 34 bytes present]",
			"missing: 1466 bytes the length field promises",
			"header checksum 0x3249 (wrong: should be 0x2c8f)",
			"checksum 0x3370 (not verified: segment truncated)"}, received},
		{"IHL 4", set(0, 0x44), LayerIPv4, []string{"[IHL below the minimum 5", "undecoded, 14 bytes"}, received},
		{"version 5", set(0, 0x55), LayerIP, []string{"IPv4 header", "[version is not 4]"}, received},
		// Zeros Linux fills in on IP_HDRINCL: so said of a packet sent,
		// wrong in one received.
		{"checksum left to the kernel", set(10, 0, 0), LayerIPv4, []string{
			"header checksum 0x0000 (not set: should be 0x3249; Linux fills it in on IP_HDRINCL)"}, sent},
		{"checksum 0 received", set(10, 0, 0), LayerIPv4, []string{"header checksum 0x0000 (wrong: should be 0x3249)"}, received},
		{"source left to the kernel", set(12, 0, 0, 0, 0), LayerIPv4, []string{"source 0.0.0.0 (Linux fills it in on IP_HDRINCL)"}, sent},
		{"source 0 received", set(12, 0, 0, 0, 0), LayerIPv4, []string{"0c  00 00 00 00              source 0.0.0.0\n"}, received},
		{"total length left to the kernel", set(2, 0, 0), LayerIPv4, []string{
			"total length 0 (Linux fills it in on IP_HDRINCL: 34)", "UDP header", "|hello.|"}, sent},
		{"total length 0 received", set(2, 0, 0), LayerIPv4, []string{"total length 0 [below the header length 20]"}, received},
		{"identification left to the kernel", set(4, 0, 0), LayerIPv4, []string{"identification 0x0000 (0: Linux picks one on IP_HDRINCL)"}, sent},
		{"identification 0 received", set(4, 0, 0), LayerIPv4, []string{"identification 0x0000 (0)"}, received},
		{"total length below the header", set(2, 0, 10), LayerIPv4, []string{"[below the header length 20]"}, received},
		{"trailer", append(append([]byte(nil), good...), 0, 0, 0, 0), LayerIPv4, []string{
			"trailer past the length field (Ethernet padding, or junk), 4 bytes"}, received},
		{"UDP length lies", set(24, 0, 99), LayerIPv4, []string{"length 99 [only 14 bytes present]", "length does not match"}, received},
		{"UDP payload corrupted", set(30, 'j'), LayerIPv4, []string{"checksum 0x3370 (wrong: should be "}, received},
		{"UDP no checksum", set(26, 0, 0), LayerIPv4, []string{"checksum 0x0000 (none: allowed over IPv4)"}, received},
		{"fragment", set(6, 0x20, 0x10), LayerIPv4, []string{"flags MF, fragment offset 16 (128 bytes)", "fragment at byte 128 of a 17 (UDP) datagram"}, received},
		{"unknown protocol", set(9, 253), LayerIPv4, []string{"protocol 253", "payload, protocol 253, 14 bytes"}, received},
		{"UDP without IP", good[20:], LayerUDP, []string{"(not verified: no IP header to give the pseudo-header)"}, received},
		{"empty", nil, LayerIP, []string{"missing: version and IHL, type of service"}, received},
		{"unknown layer", []byte{1, 2}, Layer(99), []string{"undecoded (Layer(99)), 2 bytes"}, received},
		{"802.3 length", append(make([]byte, 12), 0x00, 0x2e, 1, 2), LayerEthernet, []string{"an IEEE 802.3 length, 46 bytes, not a type"}, received},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := checkDumpWith(t, tt.b, tt.layer, tt.opts)
			if !tt.opts.Sent && strings.Contains(d, "Linux fills it in") {
				t.Errorf("a received packet's zeros are left to Linux:\n%s", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("dump lacks %q:\n%s", w, d)
				}
			}
		})
	}
}

// TestDumpVLAN: 802.1Q and QinQ tags are shown field by field, and the
// payload after them decoded.
func TestDumpVLAN(t *testing.T) {
	for name, want := range map[string][]string{
		"ethernet vlan ipv4 udp": {"Ethernet II header, 18 bytes (1 VLAN tag)",
			"000c  81 00                    tag 1: TPID 0x8100 (802.1Q VLAN tag)",
			"000e  60 2a                    tag 1: TCI 0x602a (priority 3, DEI 0, VLAN ID 42)",
			"0010  08 00                    EtherType 0x0800 (IPv4)", "0012  45", "destination port 33434"},
		"ethernet qinq ipv6 echo": {"Ethernet II header, 22 bytes (2 VLAN tags)",
			"tag 1: TPID 0x88a8 (802.1ad service tag, QinQ)", "tag 1: TCI 0x0064 (priority 0, DEI 0, VLAN ID 100)",
			"tag 2: TPID 0x8100 (802.1Q VLAN tag)", "tag 2: TCI 0xbfff (priority 5, DEI 1, VLAN ID 4095)",
			"0014  86 dd                    EtherType 0x86dd (IPv6)", "ICMPv6 echo reply"},
	} {
		d := checkDump(t, samplePackets(t)[name].b, LayerEthernet)
		for _, w := range want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: dump lacks %q:\n%s", name, w, d)
			}
		}
	}
}

// TestDumpICMPByType: the 4 header bytes after the checksum are described
// as the type (and code) defines them, never as another type's fields.
func TestDumpICMPByType(t *testing.T) {
	msg := func(proto int, typ, code uint8, rest string, body []byte) []byte {
		b := mustMessage(t, proto, typ, code, append(mustHex(t, rest), body...))
		return append(b[:4:4], b[8:]...) // the 4 bytes are the start of Data
	}
	quoted := samplePackets(t)["ipv4 icmp time exceeded"].b[28:]
	for _, tc := range []struct {
		name  string
		b     []byte
		layer Layer
		want  []string
		not   []string
	}{
		{"echo", msg(ProtoICMP, 8, 0, "04d20007", nil), LayerICMP, []string{"identifier 0x04d2 (1234)", "sequence number 7"}, []string{"length", "MTU"}},
		{"frag needed", msg(ProtoICMP, 3, 4, "000005dc", quoted), LayerICMP,
			[]string{"0004  00                       unused", "length 0 (no RFC 4884 extensions)", "next-hop MTU 1500 (RFC 1191)", "quoted datagram"}, []string{"identifier"}},
		{"port unreachable", msg(ProtoICMP, 3, 3, "00000000", quoted), LayerICMP, []string{"length 0", "0006  00 00                    unused"}, []string{"MTU", "identifier"}},
		{"port unreachable, RFC 4884", msg(ProtoICMP, 3, 3, "00070000", quoted), LayerICMP, []string{"length 7 (RFC 4884: a quoted datagram of 28 bytes"}, nil},
		{"time exceeded", msg(ProtoICMP, 11, 0, "00000000", quoted), LayerICMP, []string{"length 0", "unused"}, []string{"MTU", "identifier", "pointer"}},
		{"parameter problem", msg(ProtoICMP, 12, 0, "09000000", quoted), LayerICMP, []string{"pointer 9 (the offset of the bad byte)", "length 0"}, []string{"identifier"}},
		{"redirect", msg(ProtoICMP, 5, 1, "c0000201", quoted), LayerICMP, []string{"gateway 192.0.2.1"}, []string{"identifier", "RFC 4884"}},
		{"timestamp", msg(ProtoICMP, 13, 0, "00010002", mustHex(t, "0000ea60"+"00000000"+"80000001")), LayerICMP,
			[]string{"identifier 0x0001 (1)", "sequence number 2", "originate timestamp 60000 (00:01:00.000 UT)", "receive timestamp 0 (00:00:00.000 UT)", "transmit timestamp 0x80000001 (high bit set"}, nil},
		{"address mask reply", msg(ProtoICMP, 18, 0, "00010002", mustHex(t, "ffffff00")), LayerICMP, []string{"identifier", "address mask 255.255.255.0"}, nil},
		{"source quench", msg(ProtoICMP, 4, 0, "00000001", quoted), LayerICMP, []string{"unused [not zero]"}, nil},
		{"router advertisement", msg(ProtoICMP, 9, 0, "01020708", mustHex(t, "c000020100000000")), LayerICMP, []string{"number of addresses 1", "address entry size 2", "lifetime 1800 s"}, nil},
		{"unknown type", msg(ProtoICMP, 42, 0, "01020304", nil), LayerICMP, []string{"rest of header 0x01020304"}, nil},
		{"icmpv6 time exceeded", msg(ProtoICMPv6, 3, 0, "00000000", nil), LayerICMPv6, []string{"length 0 (no RFC 4884 extensions)", "unused"}, []string{"identifier"}},
		{"icmpv6 parameter problem", msg(ProtoICMPv6, 4, 0, "00000028", nil), LayerICMPv6, []string{"pointer 40"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := checkDump(t, tc.b, tc.layer)
			for _, w := range tc.want {
				if !strings.Contains(d, w) {
					t.Errorf("dump lacks %q:\n%s", w, d)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(d, w) {
					t.Errorf("dump has %q, a field of another type:\n%s", w, d)
				}
			}
		})
	}
}

func TestDumpQuoted(t *testing.T) {
	s := samplePackets(t)["ipv4 icmp time exceeded"]
	d := checkDump(t, s.b, s.layer)
	for _, w := range []string{
		"ICMP time exceeded (time to live exceeded in transit), 36 bytes",
		"quoted datagram, 28 bytes:",
		"  IPv4 header, 20 bytes",
		"total length 60 (the ICMP error quotes 28 of them)",
		"destination port 33434",
		"checksum 0x",
		"(not verified: quoted)",
	} {
		if !strings.Contains(d, w) {
			t.Errorf("dump lacks %q:\n%s", w, d)
		}
	}
	if strings.Contains(d, "missing") {
		t.Errorf("a quoted datagram cut short on purpose is reported missing:\n%s", d)
	}
}

func TestHexdump(t *testing.T) {
	// What hexdump -C prints for these bytes (util-linux 2.38).
	want := "00000000  48 65 6c 6c 6f 2c 20 72  61 77 20 73 6f 63 6b 65  |Hello, raw socke|\n" +
		"00000010  74 73 21 00 01 02 ff                              |ts!....|\n" +
		"00000017\n"
	if got := Hexdump([]byte("Hello, raw sockets!\x00\x01\x02\xff")); got != want {
		t.Errorf("Hexdump:\n%s\nwant\n%s", got, want)
	}
	if got := Hexdump(nil); got != "" {
		t.Errorf("Hexdump(nil) = %q", got)
	}
}

func TestWriteDump(t *testing.T) {
	var sb strings.Builder
	b := mustHex(t, echo4)
	if err := WriteDump(&sb, b, LayerICMP); err != nil {
		t.Fatal(err)
	}
	if sb.String() != Dump(b, LayerICMP) {
		t.Error("WriteDump and Dump differ")
	}
	if LayerICMPv6.String() != "ICMPv6" || Layer(0).String() != "Layer(0)" {
		t.Errorf("Layer names: %v %v", LayerICMPv6, Layer(0))
	}
}
