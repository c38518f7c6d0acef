package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock/capture"
	"github.com/rawsock/rawsock/rawsock/packet"
)

// kernelWait bounds how long --show-kernel waits for its packet's outgoing
// copy. On any interface it shows up within the sendto(2) call, so a second
// is only there for a loaded machine.
const kernelWait = time.Second

// kernelWatch captures the copy of one IPv4 packet that leaves the host:
// the PACKET_OUTGOING copy AF_PACKET sees on the egress interface, after
// the kernel has filled in what raw(7) says it fills in.
type kernelWatch struct {
	h    *capture.Handle
	sent []byte
}

// watchOutgoing opens the capture before the packet is sent: on every
// interface (the packet leaves by whichever the route picks), filtered in
// the kernel to the packet's protocol, destination and ports.
func watchOutgoing(s *sendSpec, pkt []byte) (*kernelWatch, error) {
	expr := fmt.Sprintf("ip and dst host %s", s.dst)
	switch s.proto {
	case packet.ProtoUDP:
		expr += fmt.Sprintf(" and udp and src port %d and dst port %d", s.sport, s.dport)
	case packet.ProtoTCP:
		expr += fmt.Sprintf(" and tcp and src port %d and dst port %d", s.sport, s.dport)
	case packet.ProtoICMP:
		expr += " and icmp"
	}
	prog, err := capture.Compile(expr, capture.DefaultSnaplen)
	if err != nil {
		return nil, err
	}
	h, err := capture.Open(capture.Config{Filter: prog, RingBlocks: 4, RingBlockSize: 1 << 16, RingTimeout: time.Millisecond})
	if err != nil {
		return nil, err
	}
	return &kernelWatch{h: h, sent: pkt}, nil
}

// wait returns the outgoing copy of the packet sent, starting at its IP
// header, and the interface it left by. Another packet that passes the
// filter (another program's, to the same place) is told apart by its
// transport header and payload, which the kernel never changes.
func (k *kernelWatch) wait() ([]byte, string, error) {
	defer k.h.Close()
	if err := k.h.SetReadDeadline(time.Now().Add(kernelWait)); err != nil {
		return nil, "", err
	}
	hl := int(k.sent[0]&0x0f) * 4
	for {
		ci, frame, err := k.h.ReadPacket()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, "", fmt.Errorf("no outgoing copy of the packet within %v: the kernel did not send it (a firewall rule?)", kernelWait)
		}
		if err != nil {
			return nil, "", err
		}
		if !ci.Outgoing() || !ci.Ethernet() {
			continue
		}
		var eth packet.Ethernet
		ip, err := eth.Parse(frame)
		if err != nil || eth.EtherType != packet.EtherTypeIPv4 || len(ip) < hl || len(ip) < len(k.sent) {
			continue
		}
		if string(ip[hl:len(k.sent)]) != string(k.sent[hl:]) {
			continue
		}
		name := fmt.Sprintf("ifindex %d", ci.Ifindex)
		if ifi, err := net.InterfaceByIndex(ci.Ifindex); err == nil {
			name = ifi.Name
		}
		return append([]byte(nil), ip...), name, nil
	}
}

// showKernel prints what was written beside what left.
func showKernel(w io.Writer, sent, wire []byte, ifname string) error {
	rows, err := packet.CompareSent(sent, wire)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwhat left, captured on %s on its way out (PACKET_OUTGOING), beside what was written:\n", ifname)
	return packet.WriteComparison(w, rows)
}

// overrideHeader writes --tot-len and --ip-csum over the values build
// computed: raw(7) says the kernel rewrites both, and 0 is how a C program
// leaves them to it.
func (s *sendSpec) overrideHeader(pkt []byte) {
	if s.totLen >= 0 {
		binary.BigEndian.PutUint16(pkt[2:], uint16(s.totLen))
	}
	if s.ipCsum >= 0 {
		binary.BigEndian.PutUint16(pkt[10:], uint16(s.ipCsum))
	}
}
