package capture_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock/capture"
	"github.com/rawsock/rawsock/rawsock/packet"
)

// exampleFrame builds an Ethernet frame carrying a UDP datagram.
func exampleFrame() []byte {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	udp := packet.UDP{SrcPort: 40000, DstPort: 40001}
	seg, _ := udp.Append(nil, src, dst, []byte("hello"))
	ip := packet.IPv4{ID: 1, TTL: 64, Protocol: packet.ProtoUDP, Src: src, Dst: dst}
	pkt, _ := ip.Append(nil, seg)
	eth := packet.Ethernet{Dst: packet.MAC{2, 0, 0, 0, 0, 2}, Src: packet.MAC{2, 0, 0, 0, 0, 1}, EtherType: packet.EtherTypeIPv4}
	return eth.Append(nil, pkt)
}

// Write a packet to a pcap file (here a buffer; tcpdump -r reads the same
// bytes from a file) and read it back.
func ExampleWriter() {
	var file bytes.Buffer
	w, err := capture.NewWriter(&file, capture.DefaultSnaplen, capture.LinkTypeEthernet)
	if err != nil {
		panic(err)
	}
	ts := time.Date(2026, 12, 3, 7, 0, 0, 123456789, time.UTC)
	if err := w.WritePacket(capture.CaptureInfo{Timestamp: ts}, exampleFrame()); err != nil {
		panic(err)
	}
	fmt.Printf("file: %d bytes, magic % x\n", file.Len(), file.Bytes()[:4])

	r, err := capture.NewReader(&file)
	if err != nil {
		panic(err)
	}
	var buf []byte // grown by the first record, reused by the rest
	for {
		ci, data, err := r.ReadPacket(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(ci.Timestamp.UTC().Format(time.RFC3339Nano), ci.CaptureLength, ci.Length, len(data))
		buf = data
	}
	// Output:
	// file: 87 bytes, magic 4d 3c b2 a1
	// 2026-12-03T07:00:00.123456789Z 47 47 47
}

// Print frames as tcpdump -n does, then with -X's hex dump.
func ExamplePrinter() {
	ci := capture.CaptureInfo{Timestamp: time.Date(2026, 12, 3, 7, 0, 0, 123456789, time.UTC)}
	p := capture.Printer{W: os.Stdout, Location: time.UTC}
	if err := p.Print(ci, exampleFrame()); err != nil {
		panic(err)
	}
	p.Hex = true
	if err := p.Print(ci, exampleFrame()); err != nil {
		panic(err)
	}
	// Output:
	// 07:00:00.123456 IP 192.0.2.1.40000 > 198.51.100.7.40001: UDP, length 5
	// 07:00:00.123456 IP 192.0.2.1.40000 > 198.51.100.7.40001: UDP, length 5
	// 	0x0000:  4500 0021 0001 0000 4011 8e8f c000 0201  E..!....@.......
	// 	0x0010:  c633 6407 9c40 9c41 000d 9743 6865 6c6c  .3d..@.A...Chell
	// 	0x0020:  6f                                       o
}
