package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ICMPHeaderLen is the length of the ICMP header: type, code, checksum and
// the 4 bytes whose meaning depends on the type (RFC 792, RFC 4443).
const ICMPHeaderLen = 8

// ICMP message types this package gives meaning to. ICMPv4 (RFC 792) and
// ICMPv6 (RFC 4443) number them differently; the values are those of
// x/net's ipv4.ICMPType and ipv6.ICMPType constants.
const (
	ICMPv4EchoReply    = 0
	ICMPv4DestUnreach  = 3
	ICMPv4Redirect     = 5
	ICMPv4EchoRequest  = 8
	ICMPv4TimeExceeded = 11
	ICMPv4ParamProblem = 12

	ICMPv6DestUnreach  = 1
	ICMPv6PacketTooBig = 2
	ICMPv6TimeExceeded = 3
	ICMPv6ParamProblem = 4
	ICMPv6EchoRequest  = 128
	ICMPv6EchoReply    = 129
)

// ICMP is an ICMPv4 or ICMPv6 message parsed into a struct the caller owns:
// parsing an echo reply or an error into the same ICMP does not allocate
// (x/net's icmp.ParseMessage allocates a Message and copies the body; use it,
// through ParseMessage, when that does not matter).
//
// Append builds a message from Type, Code, ID, Seq and Data.
type ICMP struct {
	Proto    int    // ProtoICMP or ProtoICMPv6: the numbering of Type
	Type     uint8  // message type
	Code     uint8  // message code
	Checksum uint16 // set by Parse; Append computes it
	ID       uint16 // header bytes 4-5: the echo identifier
	Seq      uint16 // header bytes 6-7: the echo sequence number
	Data     []byte // after the 8-byte header: echo data, or an error's quoted datagram; aliases the parsed bytes
	Quoted   Quoted // for an error message (IsError), the quoted datagram parsed
}

// IsEcho reports whether m is an echo request or reply.
func (m *ICMP) IsEcho() bool { return m.IsEchoRequest() || m.IsEchoReply() }

// IsEchoRequest reports whether m is an echo request.
func (m *ICMP) IsEchoRequest() bool {
	return m.Proto == ProtoICMP && m.Type == ICMPv4EchoRequest || m.Proto == ProtoICMPv6 && m.Type == ICMPv6EchoRequest
}

// IsEchoReply reports whether m is an echo reply.
func (m *ICMP) IsEchoReply() bool {
	return m.Proto == ProtoICMP && m.Type == ICMPv4EchoReply || m.Proto == ProtoICMPv6 && m.Type == ICMPv6EchoReply
}

// IsError reports whether m is an error message that quotes the datagram
// that caused it: destination unreachable, redirect, source quench, time
// exceeded and parameter problem for ICMPv4, types 0-127 for ICMPv6.
func (m *ICMP) IsError() bool { return icmpIsError(m.Proto, m.Type) }

func icmpIsError(proto int, typ uint8) bool {
	if proto == ProtoICMPv6 {
		return typ < 128
	}
	switch typ {
	case ICMPv4DestUnreach, 4, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// MTU returns the MTU an ICMPv6 Packet Too Big or an ICMPv4 "fragmentation
// needed" (type 3 code 4, RFC 1191) reports, and 0 for other messages.
func (m *ICMP) MTU() int {
	switch {
	case m.Proto == ProtoICMPv6 && m.Type == ICMPv6PacketTooBig:
		return int(m.ID)<<16 | int(m.Seq)
	case m.Proto == ProtoICMP && m.Type == ICMPv4DestUnreach && m.Code == 4:
		return int(m.Seq)
	}
	return 0
}

// Parse parses the ICMP message b into m; proto is ProtoICMP or ProtoICMPv6
// and says how to number the types. b starts at the ICMP header: on a raw
// IPv4 socket, parse the IPv4 header first and pass its payload; raw ICMPv6
// and ICMP datagram ("ping") sockets deliver the message alone.
//
// For an error message it also parses the quoted datagram into m.Quoted and
// returns an error if that does not start with a valid IP header (the other
// fields are set even then, and Quoted.Version is 0: check the error before
// IsError). On any other error every field is zero. It does not verify the
// checksum (see VerifyICMPChecksum).
func (m *ICMP) Parse(proto int, b []byte) error {
	// Nothing of the message parsed before may survive a failure: a
	// caller reusing m must not see an old Type or Quoted.
	m.Proto, m.Type, m.Code, m.Checksum, m.ID, m.Seq, m.Data = 0, 0, 0, 0, 0, 0, nil
	m.Quoted.reset()
	if proto != ProtoICMP && proto != ProtoICMPv6 {
		return errorf(ErrMalformed, "icmp: protocol %d is neither ICMP (1) nor ICMPv6 (58)", proto)
	}
	if len(b) < ICMPHeaderLen {
		return errorf(ErrTruncated, "%s: header needs %d bytes, have %d", icmpName(proto), ICMPHeaderLen, len(b))
	}
	m.Proto = proto
	m.Type = b[0]
	m.Code = b[1]
	m.Checksum = binary.BigEndian.Uint16(b[2:4])
	m.ID = binary.BigEndian.Uint16(b[4:6])
	m.Seq = binary.BigEndian.Uint16(b[6:8])
	m.Data = b[ICMPHeaderLen:len(b):len(b)]
	if !m.IsError() {
		return nil
	}
	if err := m.Quoted.Parse(proto, quotedPart(proto, b)); err != nil {
		return fmt.Errorf("%s: %s: %w", icmpName(proto), icmpDescribe(proto, m.Type, m.Code), err)
	}
	return nil
}

// quotedPart returns the original datagram an error message b carries. With
// ICMP extensions (RFC 4884) a length field gives its size and extension
// objects follow it; without, it is everything after the header.
func quotedPart(proto int, b []byte) []byte {
	data := b[ICMPHeaderLen:]
	var n int
	switch {
	case proto == ProtoICMP && (b[0] == ICMPv4DestUnreach || b[0] == ICMPv4TimeExceeded || b[0] == ICMPv4ParamProblem):
		n = int(b[5]) * 4
	case proto == ProtoICMPv6 && (b[0] == ICMPv6DestUnreach || b[0] == ICMPv6TimeExceeded):
		n = int(b[4]) * 8
	}
	if n > 0 && n <= len(data) {
		return data[:n]
	}
	return data
}

// Append appends the message to b and returns the extended slice: header,
// then Data (for an error message, the quoted datagram; Quoted is not read).
//
// ICMPv4 gets its checksum computed. An ICMPv6 checksum covers a
// pseudo-header (RFC 4443 section 2.3): it is computed when src and dst are
// both valid, else left 0, which is right for raw ICMPv6 and ICMPv6 datagram
// sockets, where Linux always computes it (RFC 3542 section 3.1). ICMP
// datagram ("ping") sockets compute the ICMPv4 checksum too, and replace ID
// with the socket's local port.
func (m *ICMP) Append(b []byte, src, dst netip.Addr) ([]byte, error) {
	var ps uint32
	sum := m.Proto == ProtoICMP
	switch m.Proto {
	case ProtoICMP:
	case ProtoICMPv6:
		if src.IsValid() && dst.IsValid() {
			var err error
			if ps, err = PseudoHeaderSum(src, dst, ProtoICMPv6, ICMPHeaderLen+len(m.Data)); err != nil {
				return nil, fmt.Errorf("icmpv6: %w", err)
			}
			sum = true
		}
	default:
		return nil, errorf(ErrMalformed, "icmp: protocol %d is neither ICMP (1) nor ICMPv6 (58)", m.Proto)
	}
	n := len(b)
	b = grow(b, ICMPHeaderLen+len(m.Data))
	p := b[n:]
	p[0], p[1], p[2], p[3] = m.Type, m.Code, 0, 0
	binary.BigEndian.PutUint16(p[4:6], m.ID)
	binary.BigEndian.PutUint16(p[6:8], m.Seq)
	copy(p[ICMPHeaderLen:], m.Data)
	if sum {
		binary.BigEndian.PutUint16(p[2:4], Fold(Sum(ps, p)))
	}
	return b, nil
}

// VerifyICMPChecksum checks the checksum of the ICMP message b. For ICMPv6
// src and dst give the pseudo-header; for ICMPv4 they are not used.
func VerifyICMPChecksum(proto int, src, dst netip.Addr, b []byte) error {
	if len(b) < ICMPHeaderLen {
		return errorf(ErrTruncated, "%s: header needs %d bytes, have %d", icmpName(proto), ICMPHeaderLen, len(b))
	}
	var ps uint32
	switch proto {
	case ProtoICMP:
	case ProtoICMPv6:
		var err error
		if ps, err = PseudoHeaderSum(src, dst, ProtoICMPv6, len(b)); err != nil {
			return fmt.Errorf("icmpv6: %w", err)
		}
	default:
		return errorf(ErrMalformed, "icmp: protocol %d is neither ICMP (1) nor ICMPv6 (58)", proto)
	}
	what := "icmp:" // a constant: concatenating would allocate
	if proto == ProtoICMPv6 {
		what = "icmpv6:"
	}
	return verifyAt(what, ps, b, 2)
}

// Quoted is the original datagram an ICMP error carries (RFC 792: its IP
// header and at least 8 bytes of its payload; RFC 1812 and RFC 4443: as much
// as fits), parsed so a prober can tell which of its probes the error is
// about: by the quoted ICMP echo identifier and sequence (ping, traceroute
// -I), or by the quoted UDP or TCP ports (traceroute).
type Quoted struct {
	Version  uint8  // 4 or 6, which of IPv4 and IPv6 holds the quoted header; 0 when none was parsed
	IPv4     IPv4   // the quoted IPv4 header, when Version is 4
	IPv6     IPv6   // the quoted IPv6 header, when Version is 6
	Protocol uint8  // the upper-layer protocol, after any IPv6 extension headers
	Fragment bool   // the quoted datagram is a non-first fragment: Payload holds no upper-layer header
	Payload  []byte // the quoted upper-layer bytes that are present (often only 8), aliasing the message
}

func (q *Quoted) reset() {
	q.Version, q.Protocol, q.Fragment, q.Payload = 0, 0, false, nil
}

// Parse parses b, the original-datagram field of an ICMP error, into q. It is
// what ICMP.Parse calls; call it yourself on the Data of x/net's
// icmp.TimeExceeded or icmp.DstUnreach. Unlike a received packet, the quoted
// datagram is cut short on purpose, so a total or payload length past the
// end of b is not an error.
func (q *Quoted) Parse(proto int, b []byte) error {
	q.reset()
	var err error
	switch proto {
	case ProtoICMP:
		if q.Payload, err = q.IPv4.parse(b, false); err != nil {
			return fmt.Errorf("quoted datagram: %w", err)
		}
		q.Version, q.Protocol = 4, q.IPv4.Protocol
		q.Fragment = q.IPv4.FragOff != 0
	case ProtoICMPv6:
		var p []byte
		if p, err = q.IPv6.parse(b, false); err != nil {
			return fmt.Errorf("quoted datagram: %w", err)
		}
		proto, off, frag, err := skipIPv6Extensions(q.IPv6.NextHeader, p)
		if err != nil {
			return fmt.Errorf("quoted datagram: %w", err)
		}
		q.Version, q.Protocol, q.Fragment, q.Payload = 6, proto, frag, p[off:]
	default:
		return errorf(ErrMalformed, "icmp: protocol %d is neither ICMP (1) nor ICMPv6 (58)", proto)
	}
	return nil
}

// Src returns the quoted datagram's source address: the prober's own.
func (q *Quoted) Src() netip.Addr {
	switch q.Version {
	case 4:
		return q.IPv4.Src
	case 6:
		return q.IPv6.Src
	}
	return netip.Addr{}
}

// Dst returns the quoted datagram's destination address: the probe's target.
func (q *Quoted) Dst() netip.Addr {
	switch q.Version {
	case 4:
		return q.IPv4.Dst
	case 6:
		return q.IPv6.Dst
	}
	return netip.Addr{}
}

// Ports returns the source and destination ports of a quoted UDP or TCP
// header, with ok false for other protocols, a non-first fragment, or fewer
// than 4 quoted bytes.
func (q *Quoted) Ports() (src, dst uint16, ok bool) {
	if q.Fragment || (q.Protocol != ProtoUDP && q.Protocol != ProtoTCP) || len(q.Payload) < 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(q.Payload[0:2]), binary.BigEndian.Uint16(q.Payload[2:4]), true
}

// Echo returns the identifier and sequence number of a quoted ICMP or ICMPv6
// echo request, with ok false for anything else or fewer than 8 quoted bytes.
func (q *Quoted) Echo() (id, seq uint16, ok bool) {
	if q.Fragment || len(q.Payload) < ICMPHeaderLen {
		return 0, 0, false
	}
	if !(q.Version == 4 && q.Protocol == ProtoICMP && q.Payload[0] == ICMPv4EchoRequest ||
		q.Version == 6 && q.Protocol == ProtoICMPv6 && q.Payload[0] == ICMPv6EchoRequest) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(q.Payload[4:6]), binary.BigEndian.Uint16(q.Payload[6:8]), true
}

// ParseMessage parses b with x/net's icmp.ParseMessage, turning its errors
// into this package's one-line form (matching ErrTruncated or ErrMalformed).
// It allocates the Message and a copy of the body; ICMP.Parse does neither.
func ParseMessage(proto int, b []byte) (*icmp.Message, error) {
	if proto != ProtoICMP && proto != ProtoICMPv6 {
		return nil, errorf(ErrMalformed, "icmp: protocol %d is neither ICMP (1) nor ICMPv6 (58)", proto)
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		kind := ErrMalformed
		if len(b) < ICMPHeaderLen {
			kind = ErrTruncated
		}
		return nil, errorf(kind, "%s: %v", icmpName(proto), err)
	}
	return m, nil
}

// MarshalMessage encodes m with x/net's Message.Marshal. For ICMPv6 with src
// and dst both valid it passes the pseudo-header, so the checksum is
// computed; otherwise the ICMPv6 checksum is left for the kernel, as
// ICMP.Append does.
func MarshalMessage(m *icmp.Message, src, dst netip.Addr) ([]byte, error) {
	if m == nil || m.Type == nil {
		return nil, errors.New("icmp: message has no type")
	}
	var psh []byte
	if m.Type.Protocol() == ProtoICMPv6 && src.IsValid() && dst.IsValid() {
		if !src.Is6() || !dst.Is6() {
			return nil, errorf(ErrMalformed, "icmpv6: pseudo-header needs IPv6 addresses, have %v and %v", src, dst)
		}
		psh = icmp.IPv6PseudoHeader(net.IP(src.AsSlice()), net.IP(dst.AsSlice()))
	}
	b, err := m.Marshal(psh)
	if err != nil {
		return nil, fmt.Errorf("icmp: %w", err)
	}
	return b, nil
}

func icmpName(proto int) string {
	if proto == ProtoICMPv6 {
		return "icmpv6"
	}
	return "icmp"
}

// Code names (RFC 792, RFC 1812 section 5.2.7.1, RFC 4443 section 3.1).
var (
	icmpv4UnreachCodes = []string{"net unreachable", "host unreachable", "protocol unreachable",
		"port unreachable", "fragmentation needed and DF set", "source route failed",
		"destination network unknown", "destination host unknown", "source host isolated",
		"network administratively prohibited", "host administratively prohibited",
		"network unreachable for TOS", "host unreachable for TOS", "communication administratively prohibited",
		"host precedence violation", "precedence cutoff in effect"}
	icmpv6UnreachCodes = []string{"no route to destination", "communication administratively prohibited",
		"beyond scope of source address", "address unreachable", "port unreachable",
		"source address failed ingress/egress policy", "reject route to destination",
		"error in source routing header"}
	icmpv4TimeCodes = []string{"time to live exceeded in transit", "fragment reassembly time exceeded"}
	icmpv6TimeCodes = []string{"hop limit exceeded in transit", "fragment reassembly time exceeded"}
)

// icmpDescribe names a message type, and its code where the code has a name:
// "destination unreachable (port unreachable)".
func icmpDescribe(proto int, typ, code uint8) string {
	if c := icmpCodeName(proto, typ, code); c != "" {
		return icmpTypeName(proto, typ) + " (" + c + ")"
	}
	return icmpTypeName(proto, typ)
}

// icmpTypeName names a message type as x/net does, but for an unknown type
// (x/net says "<nil>") and ICMPv4 type 8 (x/net says "echo", after RFC 792).
func icmpTypeName(proto int, typ uint8) string {
	var name string
	if proto == ProtoICMPv6 {
		name = ipv6.ICMPType(typ).String()
	} else {
		name = ipv4.ICMPType(typ).String()
	}
	switch {
	case name == "<nil>":
		return fmt.Sprintf("type %d", typ)
	case proto == ProtoICMP && typ == ICMPv4EchoRequest:
		return "echo request"
	}
	return name
}

// icmpCodeName names the code of a destination unreachable or time exceeded
// message, and returns "" for others.
func icmpCodeName(proto int, typ, code uint8) string {
	var codes []string
	switch {
	case proto == ProtoICMPv6 && typ == ICMPv6DestUnreach:
		codes = icmpv6UnreachCodes
	case proto == ProtoICMPv6 && typ == ICMPv6TimeExceeded:
		codes = icmpv6TimeCodes
	case proto == ProtoICMP && typ == ICMPv4DestUnreach:
		codes = icmpv4UnreachCodes
	case proto == ProtoICMP && typ == ICMPv4TimeExceeded:
		codes = icmpv4TimeCodes
	}
	if int(code) < len(codes) {
		return codes[code]
	}
	return ""
}
