package traceroute

import (
	"encoding/binary"
	"net/netip"

	"github.com/rawsock/rawsock/rawsock/packet"
)

// matcher tells which probe, if any, a packet read from a raw socket
// answers. A raw socket sees every ICMP (or TCP) packet the host receives,
// so the packet must prove it is about one of this trace's probes: by the
// datagram an ICMP error quotes (packet.Quoted), or by the ports and
// acknowledgment number of a TCP answer. Its input is untrusted; the parse
// structs are reused, so matching does not allocate.
type matcher struct {
	method Method
	v6     bool
	dst    netip.Addr
	n      int // probes in the trace: Seq is below it

	id    uint16 // ICMP: the echo identifier
	base  uint32 // ICMP: the first sequence number; TCP: the first sequence number (ISN)
	sport uint16 // UDP and TCP: the probes' source port (TCP only: UDP errors come by IP_RECVERR)
	dport uint16 // TCP: the destination port

	ip   packet.IPv4
	icmp packet.ICMP
	tcp  packet.TCP
}

// seqOf returns the probe number of a wire sequence number, or -1.
func (m *matcher) seqOf(wire uint32) int {
	if m.method == ICMP {
		wire &= 0xffff
		wire = (wire - m.base) & 0xffff
	} else {
		wire -= m.base
	}
	if wire >= uint32(m.n) {
		return -1
	}
	return int(wire)
}

// icmpPacket matches a packet read from a raw ICMP socket: for IPv4 it
// starts with the IP header, for IPv6 it is the ICMPv6 message alone (raw(7),
// ipv6(7)) and from is its sender.
func (m *matcher) icmpPacket(b []byte, from netip.Addr) (r reply, ok bool) {
	proto := packet.ProtoICMPv6
	if !m.v6 {
		proto = packet.ProtoICMP
		var err error
		if b, err = m.ip.Parse(b); err != nil || m.ip.Protocol != packet.ProtoICMP {
			return r, false
		}
		from, r.ttl = m.ip.Src, int(m.ip.TTL)
	}
	if err := m.icmp.Parse(proto, b); err != nil {
		// Too short, or an error quoting no valid IP header: nothing
		// could tell which probe it is about.
		return r, false
	}
	r.from, r.typ, r.code = from, m.icmp.Type, m.icmp.Code
	switch {
	case m.icmp.IsEchoReply():
		if m.method != ICMP || m.icmp.ID != m.id {
			return r, false
		}
		r.seq, r.kind, r.final = m.seqOf(uint32(m.icmp.Seq)), EchoReply, true
	case m.icmp.IsError():
		q := &m.icmp.Quoted
		if q.Version == 0 || q.Dst() != m.dst {
			return r, false
		}
		if r.seq = m.quotedSeq(q); r.seq < 0 {
			return r, false
		}
		r.mtu = m.icmp.MTU()
		r.kind, r.annotation, r.final = classifyICMP(m.v6, r.typ, r.code, r.mtu)
	default:
		return r, false
	}
	return r, r.seq >= 0
}

// quotedSeq finds the probe a quoted datagram is: by echo identifier and
// sequence number for ICMP, by ports and sequence number for TCP.
func (m *matcher) quotedSeq(q *packet.Quoted) int {
	switch m.method {
	case ICMP:
		id, seq, ok := q.Echo()
		if !ok || id != m.id {
			return -1
		}
		return m.seqOf(uint32(seq))
	case TCP:
		sport, dport, ok := q.Ports()
		if !ok || q.Protocol != packet.ProtoTCP || sport != m.sport || dport != m.dport || len(q.Payload) < 8 {
			return -1
		}
		return m.seqOf(binary.BigEndian.Uint32(q.Payload[4:8]))
	}
	return -1
}

// tcpPacket matches a packet read from a raw TCP socket (for IPv4 with the
// IP header, for IPv6 the segment alone from from): the destination's
// SYN-ACK or RST acknowledges the probe's sequence number plus one.
func (m *matcher) tcpPacket(b []byte, from netip.Addr) (r reply, ok bool) {
	if !m.v6 {
		var err error
		if b, err = m.ip.Parse(b); err != nil || m.ip.Protocol != packet.ProtoTCP {
			return r, false
		}
		from, r.ttl = m.ip.Src, int(m.ip.TTL)
	}
	if _, err := m.tcp.Parse(b); err != nil {
		return r, false
	}
	t := &m.tcp
	if from != m.dst || t.SrcPort != m.dport || t.DstPort != m.sport || t.Flags&packet.TCPAck == 0 {
		return r, false
	}
	switch {
	case t.Flags&packet.TCPRst != 0:
		r.kind = Reset
	case t.Flags&packet.TCPSyn != 0:
		r.kind = SynAck
	default:
		return r, false
	}
	r.from, r.final = from, true
	r.seq = m.seqOf(t.Ack - 1)
	return r, r.seq >= 0
}
