package packet

import (
	"encoding/binary"
	"net"
)

// EthernetHeaderLen is the length of an Ethernet II header.
const EthernetHeaderLen = 14

// EtherTypes (IEEE 802 numbers) of the payloads this package knows.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeARP  = 0x0806
	EtherTypeVLAN = 0x8100
	EtherTypeIPv6 = 0x86dd
)

// MAC is an Ethernet (EUI-48) hardware address.
type MAC [6]byte

// Broadcast is the Ethernet broadcast address ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// String returns the address as net.HardwareAddr prints it: 00:11:22:33:44:55.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// Ethernet is an Ethernet II header, as AF_PACKET SOCK_RAW sockets deliver
// and take it (packet(7)): destination, source, EtherType. An 802.1Q tag is
// not taken apart: its EtherType is EtherTypeVLAN and the tag starts the
// payload (Linux usually strips tags on receive into PACKET_AUXDATA). A value
// below 0x0600 is an IEEE 802.3 length, not a type; Parse accepts it as is.
type Ethernet struct {
	Dst       MAC    // destination address
	Src       MAC    // source address
	EtherType uint16 // payload type: EtherTypeIPv4, EtherTypeARP, EtherTypeIPv6, ...
}

// Parse parses the Ethernet frame at the start of b into h and returns the
// payload after the header, aliasing b (with any padding to the 60-byte
// minimum frame: the IP layer's length bounds it). It does not allocate.
func (h *Ethernet) Parse(b []byte) (payload []byte, err error) {
	if len(b) < EthernetHeaderLen {
		return nil, errorf(ErrTruncated, "ethernet: header needs %d bytes, have %d", EthernetHeaderLen, len(b))
	}
	h.Dst = MAC(b[0:6])
	h.Src = MAC(b[6:12])
	h.EtherType = binary.BigEndian.Uint16(b[12:14])
	return b[EthernetHeaderLen:len(b):len(b)], nil
}

// Append appends the header and payload to b and returns the extended slice.
// It does not pad to the 60-byte minimum: the kernel's driver does that.
func (h *Ethernet) Append(b, payload []byte) []byte {
	n := len(b)
	b = grow(b, EthernetHeaderLen+len(payload))
	p := b[n:]
	copy(p[0:6], h.Dst[:])
	copy(p[6:12], h.Src[:])
	binary.BigEndian.PutUint16(p[12:14], h.EtherType)
	copy(p[EthernetHeaderLen:], payload)
	return b
}
