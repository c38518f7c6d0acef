// Package capture reads packets off the wire: an AF_PACKET socket with a
// classic BPF filter attached before it is bound (so no unfiltered packet
// slips in), a PACKET_RX_RING (TPACKET_V3) receive path, a compiler from a
// tcpdump expression subset to classic BPF (golang.org/x/net/bpf), pcap
// files, and the tcpdump-style one-line description of a packet.
//
// Capturing needs CAP_NET_RAW; reading and writing pcap files, compiling
// filters and describing packets need nothing. Read packet(7), the kernel's
// Documentation/networking/packet_mmap.rst and filter.rst, and pcap(5)
// (pcap-savefile).
package capture
