// Command hdrincl-udp builds a UDP datagram byte by byte, IPv4 header
// included, sends it with IP_HDRINCL and receives it on an ordinary UDP
// socket: the kernel drops a datagram whose UDP checksum is wrong, so its
// arrival proves the checksums right. Needs CAP_NET_RAW.
//
//	sudo go run ./examples/hdrincl-udp [-payload hello]
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
)

func main() {
	payload := flag.String("payload", "hello, IP_HDRINCL", "the datagram's data")
	flag.Parse()
	lo := [4]byte{127, 0, 0, 1}
	to := rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4(lo), 0))

	// The receiver: socket(2), bind(2) to 127.0.0.1 port 0, getsockname(2).
	rx, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	check(err)
	check(rx.Bind(to))
	sa, err := rx.Getsockname()
	check(err)
	ap, _ := rawsock.AddrPortFromSockaddr(sa)

	// The UDP header (RFC 768): ports, length, checksum (0 while summing).
	udp := make([]byte, 8, 8+len(*payload))
	binary.BigEndian.PutUint16(udp[0:], 40000) // source port
	binary.BigEndian.PutUint16(udp[2:], ap.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(*payload)))
	udp = append(udp, *payload...)
	// Its checksum covers a pseudo-header (source, destination, 0, 17, length).
	pseudo := append(append(append([]byte{}, lo[:]...), lo[:]...), 0, 17, udp[4], udp[5])
	binary.BigEndian.PutUint16(udp[6:], packet.Checksum(append(pseudo, udp...)))

	// The IPv4 header (RFC 791), 20 bytes, no options.
	ip := []byte{
		0x45, 0, // version 4, IHL 5 words; type of service
		0, 0, // total length: the kernel always fills it in
		0, 0, // identification: 0 lets the kernel pick one
		0x40, 0, // flags DF, fragment offset 0
		64, 17, // TTL, protocol UDP
		0, 0, // header checksum: the kernel always fills it in
	}
	pkt := append(append(append(ip, lo[:]...), lo[:]...), udp...) // source, destination, UDP

	// socket(2): socket(AF_INET, SOCK_RAW, IPPROTO_RAW) implies IP_HDRINCL.
	raw, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_RAW)
	check(err)
	// setsockopt(2): say it anyway, as any other raw protocol must.
	check(raw.SetsockoptInt(rawsock.IPPROTO_IP, rawsock.IP_HDRINCL, 1))
	// sendto(2): the kernel routes by this address, port unused.
	_, err = raw.Sendto(pkt, 0, to)
	check(err)
	fmt.Printf("sent %d bytes: IPv4 %d + UDP 8 + %d of data, UDP checksum %#04x\n",
		len(pkt), 20, len(*payload), binary.BigEndian.Uint16(udp[6:]))

	// recvfrom(2) on the ordinary socket (2 s at most): the data, the sender.
	check(rx.SetTimeout(2 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := rx.RecvfromInet(buf, 0)
	check(err)
	fmt.Printf("received %q from %s\n", buf[:n], from)
	check(errors.Join(raw.Close(), rx.Close())) // close(2), twice
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "hdrincl-udp:", err)
		os.Exit(1)
	}
}
