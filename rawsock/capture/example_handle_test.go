package capture_test

import (
	"fmt"
	"log"

	"github.com/rawsock/rawsock/rawsock/capture"
	"golang.org/x/net/bpf"
)

// Capture ten IPv4 packets on lo. It needs CAP_NET_RAW, so it has no
// output to check.
func ExampleOpen() {
	// "ip" by hand: the EtherType is 0x0800 (Compile writes such programs
	// from tcpdump expressions).
	filter, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := capture.Open(capture.Config{Interface: "lo", Filter: filter})
	if err != nil {
		log.Fatal(err) // without CAP_NET_RAW, the error says how to get it
	}
	defer h.Close()
	for range 10 {
		ci, b, err := h.ReadPacket() // b is valid until the next ReadPacket
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %d/%d bytes, packet type %d: % x\n", ci.Timestamp.Format("15:04:05.000000"), ci.CaptureLength, ci.Length, ci.PacketType, b[:min(len(b), 34)])
	}
	st, err := h.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d packets received by filter, %d dropped by kernel\n", st.Packets, st.Drops)
}

// Replace the filter while capturing: nothing the old one let through is
// read after SetFilter returns.
func ExampleHandle_SetFilter() {
	h, err := capture.Open(capture.Config{Interface: "lo"})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	arp, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0806, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := h.SetFilter(arp); err != nil {
		log.Fatal(err)
	}
}
