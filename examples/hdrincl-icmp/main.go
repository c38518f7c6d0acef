// Command hdrincl-icmp sends an ICMP echo request inside an IPv4 header it
// wrote itself (a raw socket with IP_HDRINCL), and reads the echo reply on a
// raw ICMP socket, which gets every ICMP packet with its IP header in front.
// Needs CAP_NET_RAW.
//
//	sudo go run ./examples/hdrincl-icmp [-dst 127.0.0.1] [-ttl 64]
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
)

func main() {
	dstFlag := flag.String("dst", "127.0.0.1", "IPv4 address to ping")
	ttl := flag.Uint("ttl", 64, "time to live written into the header")
	flag.Parse()
	dst, err := netip.ParseAddr(*dstFlag)
	if err == nil && !dst.Is4() {
		err = fmt.Errorf("-dst %s: an IPv4 address is needed", dst)
	}
	check(err)
	id, seq := uint16(os.Getpid()), uint16(1)

	// socket(2): the receiver first, so the reply cannot come before it.
	rx, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP)
	check(err)
	// socket(2): the sender; IPPROTO_RAW implies IP_HDRINCL (raw(7)).
	tx, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_RAW)
	check(err)

	// ICMP echo request (RFC 792): type 8, code 0, checksum, id, seq, data.
	icmp := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq)}
	icmp = append(icmp, "rawsock hdrincl-icmp"...)
	binary.BigEndian.PutUint16(icmp[2:], packet.Checksum(icmp))
	// IPv4 header: total length, checksum, ID and (0.0.0.0) source are
	// left for the kernel to fill in.
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, byte(*ttl), 1 /* ICMP */, 0, 0, 0, 0, 0, 0}
	ip = append(ip, dst.AsSlice()...)

	// sendto(2)
	sent := time.Now()
	_, err = tx.Sendto(append(ip, icmp...), 0, rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(dst, 0)))
	check(err)
	fmt.Printf("sent echo request id=%d seq=%d to %s, ttl %d\n", id, seq, dst, *ttl)

	// recvfrom(2) until our reply: other ICMP packets come here too (on
	// lo, our own request first). 2 s at most.
	check(rx.SetReadDeadline(sent.Add(2 * time.Second)))
	buf := make([]byte, 1500)
	for {
		n, from, err := rx.RecvfromInet(buf, 0)
		check(err)
		hl := int(buf[0]&0x0f) * 4 // IPv4 header length
		if n < hl+8 {
			continue
		}
		m := buf[hl:n]
		if m[0] != 0 || binary.BigEndian.Uint16(m[4:]) != id || binary.BigEndian.Uint16(m[6:]) != seq {
			continue // not an echo reply, or not ours
		}
		fmt.Printf("echo reply from %s: id=%d seq=%d ttl=%d, %d data bytes, time=%.3f ms\n",
			from.Addr(), id, seq, buf[8], len(m)-8, float64(time.Since(sent).Microseconds())/1000)
		break
	}
	tx.Close() // close(2)
	rx.Close()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "hdrincl-icmp:", err)
		os.Exit(1)
	}
}
