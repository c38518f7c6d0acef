package capture_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock/capture"
)

// Read a pcap file through a tcpdump filter and print what it keeps, as
// rawsock sniff -r does. A live capture feeds the same Loop from a Handle's
// ReadPacket, with the filter in the kernel instead.
func ExampleLoop() {
	// A file of three datagrams, to ports 40001, 40002 and 40001.
	var file bytes.Buffer
	w, err := capture.NewWriter(&file, capture.DefaultSnaplen, capture.LinkTypeEthernet)
	if err != nil {
		panic(err)
	}
	ts := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	for i, port := range []byte{0x41, 0x42, 0x41} { // 0x9c41 is 40001
		frame := exampleFrame()
		frame[14+20+3] = port
		ci := capture.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Second)}
		if err := w.WritePacket(ci, frame); err != nil {
			panic(err)
		}
	}

	prog, err := capture.Compile("udp and dst port 40001", capture.DefaultSnaplen)
	if err != nil {
		panic(err)
	}
	vm, err := capture.NewFilterVM(prog)
	if err != nil {
		panic(err)
	}
	r, err := capture.NewReader(&file)
	if err != nil {
		panic(err)
	}
	p := &capture.Printer{W: os.Stdout, Location: time.UTC}
	loop := &capture.Loop{Filter: vm, Packet: p.Print}
	if err := loop.Run(capture.ReaderSource(r), nil); err != nil {
		panic(err)
	}
	fmt.Println(loop.Captured(), "packets captured")
	// Output:
	// 07:00:00.000000 IP 192.0.2.1.40000 > 198.51.100.7.40001: UDP, length 5
	// 07:00:02.000000 IP 192.0.2.1.40000 > 198.51.100.7.40001: UDP, length 5
	// 2 packets captured
}

// The statistics lines tcpdump prints when a capture ends.
func ExampleWriteSummary() {
	capture.WriteSummary(os.Stdout, 1, capture.Stats{Packets: 2})
	// Output:
	// 1 packet captured
	// 2 packets received by filter
	// 0 packets dropped by kernel
}
