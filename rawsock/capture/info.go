package capture

import "time"

// CaptureInfo describes one captured packet: the metadata that travels with
// its bytes from the kernel (or a pcap record) to a printer or a file.
type CaptureInfo struct {
	Timestamp     time.Time
	CaptureLength int // bytes captured (at most the snap length)
	Length        int // bytes on the wire

	// From the kernel's sockaddr_ll; zero when read from a pcap file.
	Ifindex    int
	PacketType uint8  // sll_pkttype: PACKET_HOST, PACKET_OUTGOING, ... (packet(7))
	Protocol   uint16 // sll_protocol, the EtherType in host byte order
	// HardwareType is sll_hatype, the ARPHRD_ of the packet's interface
	// (ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE for tun, ...): on all
	// interfaces at once, it says whether the bytes start with an Ethernet
	// header.
	HardwareType uint16
}

// Stats are the kernel's PACKET_STATISTICS, as running totals: the kernel
// resets its counters on each read, so a Handle adds them up.
type Stats struct {
	Packets uint64 // received by the filter (tp_packets)
	Drops   uint64 // dropped by the kernel for want of room (tp_drops)
	// FreezeQueueCount is TPACKET_V3's tp_freeze_q_cnt: times the ring was full.
	FreezeQueueCount uint64
}
