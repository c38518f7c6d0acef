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

// PacketOutgoing is PACKET_OUTGOING of linux/if_packet.h (CaptureInfo's
// PacketType of the copy of a packet this host sent), here so that code
// reading pcap files builds where x/sys/unix does not define it.
const PacketOutgoing = 4

// ARPHRD_ETHER and ARPHRD_LOOPBACK of linux/if_arp.h, for the same reason.
const (
	hardwareEther    = 1
	hardwareLoopback = 772
)

// Outgoing reports whether the packet is the copy of one this host sent.
func (ci *CaptureInfo) Outgoing() bool { return ci.PacketType == PacketOutgoing }

// Ethernet reports whether the packet's interface is an Ethernet or
// loopback one, whose frames start with an Ethernet header.
func (ci *CaptureInfo) Ethernet() bool {
	return ci.HardwareType == hardwareEther || ci.HardwareType == hardwareLoopback
}
