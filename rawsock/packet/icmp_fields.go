package packet

import (
	"fmt"
	"net/netip"
	"time"
)

// More ICMPv4 message types, whose header fields ICMPField names (RFC 792,
// RFC 950, RFC 1256).
const (
	ICMPv4SourceQuench   = 4
	ICMPv4RouterAdvert   = 9
	ICMPv4RouterSolicit  = 10
	ICMPv4Timestamp      = 13
	ICMPv4TimestampReply = 14
	ICMPv4InfoRequest    = 15
	ICMPv4InfoReply      = 16
	ICMPv4MaskRequest    = 17
	ICMPv4MaskReply      = 18
)

// ICMPField names a field of the 4 header bytes after the checksum, which
// the message type (and for a destination unreachable the code) defines.
// ICMP holds those bytes as ID (bytes 4-5) and Seq (6-7); the Set methods
// write a field into them.
type ICMPField int

const (
	ICMPFieldID      ICMPField = iota + 1 // identifier: echo, timestamp, information, mask
	ICMPFieldSeq                          // sequence number: the same types
	ICMPFieldLength                       // RFC 4884 length of the quoted datagram: unreachable, time exceeded, ICMPv4 parameter problem
	ICMPFieldMTU                          // ICMPv4 "fragmentation needed" next-hop MTU (RFC 1191), ICMPv6 packet too big
	ICMPFieldPointer                      // parameter problem: the offset of the bad byte
	ICMPFieldGateway                      // ICMPv4 redirect: the gateway's address
)

// HasField reports whether a message of m's Proto, Type and Code has the
// field f; where it has none, RFC 792 and RFC 4443 want the bytes zero.
func (m *ICMP) HasField(f ICMPField) bool {
	if m.Proto == ProtoICMPv6 {
		switch f {
		case ICMPFieldID, ICMPFieldSeq:
			return m.Type == ICMPv6EchoRequest || m.Type == ICMPv6EchoReply
		case ICMPFieldLength:
			return m.Type == ICMPv6DestUnreach || m.Type == ICMPv6TimeExceeded
		case ICMPFieldMTU:
			return m.Type == ICMPv6PacketTooBig
		case ICMPFieldPointer:
			return m.Type == ICMPv6ParamProblem
		}
		return false
	}
	switch f {
	case ICMPFieldID, ICMPFieldSeq:
		switch m.Type {
		case ICMPv4EchoReply, ICMPv4EchoRequest, ICMPv4Timestamp, ICMPv4TimestampReply,
			ICMPv4InfoRequest, ICMPv4InfoReply, ICMPv4MaskRequest, ICMPv4MaskReply:
			return true
		}
	case ICMPFieldLength:
		return m.Type == ICMPv4DestUnreach || m.Type == ICMPv4TimeExceeded || m.Type == ICMPv4ParamProblem
	case ICMPFieldMTU:
		return m.Type == ICMPv4DestUnreach && m.Code == 4
	case ICMPFieldPointer:
		return m.Type == ICMPv4ParamProblem
	case ICMPFieldGateway:
		return m.Type == ICMPv4Redirect
	}
	return false
}

// SetLength writes the RFC 4884 length of the quoted datagram, in 32-bit
// words for ICMPv4 (byte 5), 64-bit words for ICMPv6 (byte 4).
func (m *ICMP) SetLength(words uint8) {
	if m.Proto == ProtoICMPv6 {
		m.ID = uint16(words)<<8 | m.ID&0xff
		return
	}
	m.ID = m.ID&0xff00 | uint16(words)
}

// SetMTU writes the MTU: bytes 6-7 of an ICMPv4 "fragmentation needed",
// bytes 4-7 of an ICMPv6 packet too big.
func (m *ICMP) SetMTU(mtu uint32) {
	if m.Proto == ProtoICMPv6 {
		m.ID, m.Seq = uint16(mtu>>16), uint16(mtu)
		return
	}
	m.Seq = uint16(mtu)
}

// SetPointer writes a parameter problem's pointer: byte 4 for ICMPv4,
// bytes 4-7 for ICMPv6.
func (m *ICMP) SetPointer(p uint32) {
	if m.Proto == ProtoICMPv6 {
		m.ID, m.Seq = uint16(p>>16), uint16(p)
		return
	}
	m.ID = uint16(p&0xff)<<8 | m.ID&0xff
}

// SetGateway writes an ICMPv4 redirect's gateway address (bytes 4-7).
func (m *ICMP) SetGateway(a netip.Addr) error {
	if !a.Unmap().Is4() {
		return errorf(ErrMalformed, "icmp: redirect gateway %v is not an IPv4 address", a)
	}
	g := a.Unmap().As4()
	m.ID, m.Seq = uint16(g[0])<<8|uint16(g[1]), uint16(g[2])<<8|uint16(g[3])
	return nil
}

// ICMPTimestamp is an RFC 792 timestamp of t: milliseconds since midnight
// UT.
func ICMPTimestamp(t time.Time) uint32 {
	u := t.UTC()
	return uint32(u.Sub(time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)) / time.Millisecond)
}

func (f ICMPField) String() string {
	switch f {
	case ICMPFieldID:
		return "identifier"
	case ICMPFieldSeq:
		return "sequence number"
	case ICMPFieldLength:
		return "length"
	case ICMPFieldMTU:
		return "MTU"
	case ICMPFieldPointer:
		return "pointer"
	case ICMPFieldGateway:
		return "gateway"
	}
	return fmt.Sprintf("ICMPField(%d)", int(f))
}
