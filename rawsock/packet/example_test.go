package packet_test

import (
	"fmt"
	"net/netip"

	"github.com/rawsock/rawsock/rawsock/packet"
)

// Build an ICMP echo request inside an IPv4 header, as a raw socket with
// IP_HDRINCL sends it, and print its annotated dump.
func ExampleDump() {
	echo := packet.ICMP{Proto: packet.ProtoICMP, Type: packet.ICMPv4EchoRequest, ID: 0x1234, Seq: 1, Data: []byte("ping!")}
	msg, err := echo.Append(nil, netip.Addr{}, netip.Addr{})
	if err != nil {
		panic(err)
	}
	ip := packet.IPv4{ID: 0x4242, Flags: packet.DontFragment, TTL: 64, Protocol: packet.ProtoICMP,
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7")}
	pkt, err := ip.Append(nil, msg)
	if err != nil {
		panic(err)
	}
	fmt.Print(packet.Dump(pkt, packet.LayerIPv4))
	// Output:
	// IPv4 header, 20 bytes
	// 0000  45                       version 4, IHL 5 (20 bytes)
	// 0001  00                       type of service 0x00 (DSCP 0, ECN 0)
	// 0002  00 21                    total length 33
	// 0004  42 42                    identification 0x4242 (16962)
	// 0006  40 00                    flags DF, fragment offset 0 (0 bytes)
	// 0008  40                       TTL 64
	// 0009  01                       protocol 1 (ICMP)
	// 000a  0c 5e                    header checksum 0x0c5e (correct)
	// 000c  c0 00 02 01              source 192.0.2.1
	// 0010  c6 33 64 07              destination 198.51.100.7
	// ICMP echo request, 13 bytes
	// 0014  08                       type 8 (echo request)
	// 0015  00                       code 0
	// 0016  e5 f9                    checksum 0xe5f9 (correct)
	// 0018  12 34                    identifier 0x1234 (4660)
	// 001a  00 01                    sequence number 1
	// data, 5 bytes
	// 001c  70 69 6e 67 21           |ping!|
}

// Match an ICMP time exceeded to the UDP probe that caused it, as
// traceroute does: the router quotes the probe's IP header and UDP ports.
func ExampleICMP_Parse() {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	udp := packet.UDP{SrcPort: 50000, DstPort: 33434}
	seg, _ := udp.Append(nil, src, dst, make([]byte, 32))
	probe := packet.IPv4{TTL: 1, Protocol: packet.ProtoUDP, Src: src, Dst: dst}
	sent, _ := probe.Append(nil, seg)

	// What the router at TTL 1 sends back: the probe's header and 8 bytes.
	te := packet.ICMP{Proto: packet.ProtoICMP, Type: packet.ICMPv4TimeExceeded, Data: sent[:28]}
	reply, _ := te.Append(nil, netip.Addr{}, netip.Addr{})

	var m packet.ICMP // reuse it for every reply: Parse does not allocate
	if err := m.Parse(packet.ProtoICMP, reply); err != nil {
		fmt.Println(err)
		return
	}
	sport, dport, ok := m.Quoted.Ports()
	fmt.Println(m.IsError(), m.Quoted.Dst(), sport, dport, ok)
	// Output:
	// true 198.51.100.7 50000 33434 true
}

// Parse an echo reply without allocating: the fast path of a ping loop.
func ExampleICMP_Parse_echo() {
	b := []byte{0, 0, 0x85, 0x5b, 0x12, 0x34, 0, 7, 'h', 'i'}
	var m packet.ICMP
	if err := m.Parse(packet.ProtoICMP, b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.IsEchoReply(), m.ID, m.Seq, string(m.Data), packet.VerifyICMPChecksum(packet.ProtoICMP, netip.Addr{}, netip.Addr{}, b))
	// Output:
	// true 4660 7 hi <nil>
}

// A lying length is an error naming the cause, never a panic.
func ExampleIPv4_Parse() {
	b := []byte{0x45, 0, 0x05, 0xdc, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7}
	var h packet.IPv4
	_, err := h.Parse(b)
	fmt.Println(err)
	// Output:
	// ipv4: total length 1500 exceeds the 20 bytes present: packet truncated
}

func ExampleChecksum() {
	// An IPv4 header with its checksum field zeroed.
	h := []byte{0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7}
	c := packet.Checksum(h)
	h[10], h[11] = byte(c>>8), byte(c)
	fmt.Printf("%#04x %#04x\n", c, packet.Checksum(h))
	// Output:
	// 0xb861 0x0000
}

func ExampleHexdump() {
	fmt.Print(packet.Hexdump([]byte("GET / HTTP/1.1\r\nHost: x\r\n")))
	// Output:
	// 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|
	// 00000010  48 6f 73 74 3a 20 78 0d  0a                       |Host: x..|
	// 00000019
}
