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
	d := Dump(b, first)
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
		"ethernet ipv4 tcp":        all((&Ethernet{Dst: mac2, Src: mac1, EtherType: EtherTypeIPv4}).Append(nil, ip4tcp), LayerEthernet),
		"ethernet ipv6 frag udp":   all((&Ethernet{Dst: mac2, Src: mac1, EtherType: EtherTypeIPv6}).Append(nil, ip6frag), LayerEthernet),
		"ethernet arp padded":      {(&Ethernet{Dst: mac1, Src: mac2, EtherType: EtherTypeARP}).Append(nil, append(arp, make([]byte, 18)...)), LayerEthernet, 42},
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
	tests := []struct {
		name  string
		b     []byte
		layer Layer
		want  []string
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
			"001c  68 65 6c 6c 6f 0a        |hello.|\n"}},
		{"cut in a field", good[:14], LayerIPv4, []string{
			"000c  c0 00                    source address: truncated, 2 of 4 bytes\n",
			"      missing: source address, destination address\n"}},
		{"total length lies", set(2, 0x05, 0xdc), LayerIPv4, []string{
			"total length 1500 [only 34 bytes present]",
			"missing: 1466 bytes the length field promises",
			"header checksum 0x3249 (wrong: should be 0x2c8f)",
			"checksum 0x3370 (not verified: segment truncated)"}},
		{"IHL 4", set(0, 0x44), LayerIPv4, []string{"[IHL below the minimum 5", "undecoded, 14 bytes"}},
		{"version 5", set(0, 0x55), LayerIP, []string{"IPv4 header", "[version is not 4]"}},
		{"checksum left to the kernel", set(10, 0, 0), LayerIPv4, []string{
			"header checksum 0x0000 (not set: should be 0x3249; Linux fills it in on IP_HDRINCL)"}},
		{"source left to the kernel", set(12, 0, 0, 0, 0), LayerIPv4, []string{"source 0.0.0.0 (Linux fills it in on IP_HDRINCL)"}},
		{"total length below the header", set(2, 0, 10), LayerIPv4, []string{"[below the header length 20]"}},
		{"total length left to the kernel", set(2, 0, 0), LayerIPv4, []string{
			"total length 0 [0: Linux fills it in on IP_HDRINCL]", "0014  9c 40                    source port 40000\n"}},
		{"trailer", append(append([]byte(nil), good...), 0, 0, 0, 0), LayerIPv4, []string{
			"trailer past the length field (Ethernet padding, or junk), 4 bytes"}},
		{"UDP length lies", set(24, 0, 99), LayerIPv4, []string{"length 99 [only 14 bytes present]", "length does not match"}},
		{"UDP payload corrupted", set(30, 'j'), LayerIPv4, []string{"checksum 0x3370 (wrong: should be "}},
		{"UDP no checksum", set(26, 0, 0), LayerIPv4, []string{"checksum 0x0000 (none: allowed over IPv4)"}},
		{"fragment", set(6, 0x20, 0x10), LayerIPv4, []string{"flags MF, fragment offset 16 (128 bytes)", "fragment at byte 128 of a 17 (UDP) datagram"}},
		{"unknown protocol", set(9, 253), LayerIPv4, []string{"protocol 253", "payload, protocol 253, 14 bytes"}},
		{"UDP without IP", good[20:], LayerUDP, []string{"(not verified: no IP header to give the pseudo-header)"}},
		{"empty", nil, LayerIP, []string{"missing: version and IHL, type of service"}},
		{"unknown layer", []byte{1, 2}, Layer(99), []string{"undecoded (Layer(99)), 2 bytes"}},
		{"802.3 length", append(make([]byte, 12), 0x00, 0x2e, 1, 2), LayerEthernet, []string{"an IEEE 802.3 length, 46 bytes, not a type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := checkDump(t, tt.b, tt.layer)
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("dump lacks %q:\n%s", w, d)
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
