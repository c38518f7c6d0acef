package tour

import (
	"fmt"
	"net/netip"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
)

// hdrinclSport is the source port the tour writes into its UDP header.
const hdrinclSport = 40000

var stepHdrinclUDP = tourStep{
	title: "Raw socket with IP_HDRINCL: a UDP datagram built by hand",
	about: `With IP_HDRINCL (implied by IPPROTO_RAW) the program writes the IP header
too. Linux still fills in the header checksum and total length, and the
identification and source address when they are 0 (raw(7)); it never
computes the UDP checksum, which covers a pseudo-header of both addresses.
An ordinary UDP socket receives the datagram only if that checksum is right.`,
	trace:   true,
	needRaw: true,
	run: func(s *stepRun) error {
		lo := netip.MustParseAddr("127.0.0.1")
		s.say("server", "udpSerSock = socket(AF_INET, SOCK_DGRAM); udpSerSock.bind(('127.0.0.1', 0))")
		srv, addr, err := s.loopbackSocket(rawsock.SOCK_DGRAM)
		if err != nil {
			return err
		}
		port := uint16(addrPort(addr))

		payload := []byte("hello from a hand-built header")
		udp := packet.UDP{SrcPort: hdrinclSport, DstPort: port}
		seg, err := udp.Append(nil, lo, lo, payload)
		if err != nil {
			return err
		}
		ip := packet.IPv4{TTL: 64, Protocol: packet.ProtoUDP, Src: lo, Dst: lo} // ID 0: the kernel picks one
		pkt, err := ip.Append(nil, seg)
		if err != nil {
			return err
		}
		s.say("raw", "the packet as built, every field (identification 0: the kernel picks one):")
		if err := packet.WriteDump(&prefixWriter{w: s.w, prefix: "    "}, pkt, packet.LayerIPv4); err != nil {
			return err
		}

		s.say("raw", "r = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); r.setsockopt(IPPROTO_IP, IP_HDRINCL, 1)")
		r, err := s.socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_RAW)
		if err != nil {
			return err
		}
		if err := r.SetsockoptInt(rawsock.IPPROTO_IP, rawsock.IP_HDRINCL, 1); err != nil {
			return err
		}
		s.say("raw", "r.sendto(packet, ('127.0.0.1', 0))    %d bytes, IP header and all; the port is not used", len(pkt))
		if _, err := r.Sendto(pkt, 0, loopback4()); err != nil {
			return err
		}
		s.say("server", "data, addr = udpSerSock.recvfrom(BUFSIZ)    the kernel strips both headers")
		buf := make([]byte, bufsiz)
		n, from, err := srv.Recvfrom(buf, 0)
		if err != nil {
			return fmt.Errorf("the hand-built datagram did not arrive: %w", err)
		}
		if string(buf[:n]) != string(payload) {
			return fmt.Errorf("received %q, want %q", buf[:n], payload)
		}
		s.result("server got %q from %s: the UDP checksum was right", buf[:n], rawsock.AddrString(from))
		s.say("both", "r.close(); udpSerSock.close()")
		r.Close()
		return srv.Close()
	},
}
