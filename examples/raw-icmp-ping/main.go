// Command raw-icmp-ping is the shortest honest ping on a raw socket:
// socket, sendto, recvfrom, parse. Honest because a raw ICMP socket gets a
// copy of every ICMP packet the host receives, so it keeps only the echo
// reply carrying its own identifier and sequence number. Needs CAP_NET_RAW.
//
//	sudo go run ./examples/raw-icmp-ping [-c 3] [HOST]
package main

import (
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
	count := flag.Int("c", 3, "echo requests to send, one a second")
	wait := flag.Duration("W", 2*time.Second, "how long to wait for each reply")
	flag.Parse()
	dst, err := netip.ParseAddr(flag.Arg(0))
	if flag.NArg() == 0 {
		dst, err = netip.MustParseAddr("127.0.0.1"), nil
	} else if err == nil && !dst.Is4() {
		err = fmt.Errorf("%s: an IPv4 address is needed", dst)
	}
	check(err)

	// socket(2): s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP)
	check(err)
	id := uint16(os.Getpid())
	buf, replies := make([]byte, 1500), 0
	for seq := 1; seq <= *count; seq++ {
		req := packet.ICMP{Proto: packet.ProtoICMP, Type: packet.ICMPv4EchoRequest, ID: id, Seq: uint16(seq), Data: []byte("raw-icmp-ping")}
		msg, err := req.Append(nil, netip.Addr{}, netip.Addr{}) // computes the checksum
		check(err)
		// sendto(2): the kernel puts an IPv4 header in front.
		sent := time.Now()
		_, err = s.Sendto(msg, 0, rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(dst, 0)))
		check(err)
		check(s.SetReadDeadline(sent.Add(*wait)))
		for {
			// recvfrom(2): the IPv4 header, then the ICMP message.
			n, from, err := s.RecvfromInet(buf, 0)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				fmt.Printf("no reply to icmp_seq=%d within %v\n", seq, *wait)
				break
			}
			check(err)
			var ip, reply = packet.IPv4{}, packet.ICMP{}
			data, err := ip.Parse(buf[:n])
			if err != nil || reply.Parse(packet.ProtoICMP, data) != nil {
				continue // not parsable: not ours
			}
			if !reply.IsEchoReply() || reply.ID != id || reply.Seq != uint16(seq) {
				continue // someone else's ICMP, or our own request on lo
			}
			fmt.Printf("%d bytes from %s: icmp_seq=%d ttl=%d time=%.3f ms\n",
				len(data), from.Addr(), reply.Seq, ip.TTL, float64(time.Since(sent).Microseconds())/1000)
			replies++
			break
		}
		time.Sleep(time.Duration(min(*count-seq, 1)) * time.Second) // none after the last
	}
	check(s.Close()) // close(2)
	if replies == 0 {
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "raw-icmp-ping:", err)
		os.Exit(1)
	}
}
