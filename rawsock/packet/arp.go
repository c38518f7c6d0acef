package packet

import (
	"encoding/binary"
	"net/netip"
)

// ARPLen is the length of an ARP packet for IPv4 over Ethernet.
const ARPLen = 28

// ARP operations (RFC 826).
const (
	ARPRequest = 1
	ARPReply   = 2
)

// ARP is an ARP packet (RFC 826) mapping IPv4 addresses to 6-byte hardware
// addresses, the only kind in use on Ethernet: Parse rejects other address
// lengths and protocol types rather than misread them.
type ARP struct {
	HType     uint16     // hardware type: 1 for Ethernet; Append writes 1 when 0
	Op        uint16     // ARPRequest or ARPReply
	SenderMAC MAC        // sender hardware address
	SenderIP  netip.Addr // sender protocol address
	TargetMAC MAC        // target hardware address; zero in a request
	TargetIP  netip.Addr // target protocol address
}

// Parse parses the ARP packet at the start of b into h and returns what
// follows it (Ethernet padding, usually), aliasing b. It rejects a protocol
// type other than IPv4 (0x0800), a hardware address length other than 6 and a
// protocol address length other than 4. It does not allocate.
func (h *ARP) Parse(b []byte) (rest []byte, err error) {
	if len(b) < 8 {
		return nil, errorf(ErrTruncated, "arp: header needs 8 bytes, have %d", len(b))
	}
	if pt := binary.BigEndian.Uint16(b[2:4]); pt != EtherTypeIPv4 {
		return nil, errorf(ErrMalformed, "arp: protocol type 0x%04x is not IPv4 (0x0800)", pt)
	}
	if b[4] != 6 || b[5] != 4 {
		return nil, errorf(ErrMalformed, "arp: address lengths %d and %d, want 6 and 4", b[4], b[5])
	}
	if len(b) < ARPLen {
		return nil, errorf(ErrTruncated, "arp: packet needs %d bytes, have %d", ARPLen, len(b))
	}
	h.HType = binary.BigEndian.Uint16(b[0:2])
	h.Op = binary.BigEndian.Uint16(b[6:8])
	h.SenderMAC = MAC(b[8:14])
	h.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	h.TargetMAC = MAC(b[18:24])
	h.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return b[ARPLen:len(b):len(b)], nil
}

// Append appends the packet to b and returns the extended slice. Both IP
// addresses must be IPv4; the zero Addr is written as 0.0.0.0 (an ARP probe,
// RFC 5227, has sender 0.0.0.0).
func (h *ARP) Append(b []byte) ([]byte, error) {
	sip, tip := h.SenderIP.Unmap(), h.TargetIP.Unmap()
	if !sip.IsValid() {
		sip = netip.IPv4Unspecified()
	}
	if !tip.IsValid() {
		tip = netip.IPv4Unspecified()
	}
	if !sip.Is4() || !tip.Is4() {
		return nil, errorf(ErrMalformed, "arp: sender %v and target %v must be IPv4 addresses", h.SenderIP, h.TargetIP)
	}
	ht := h.HType
	if ht == 0 {
		ht = 1
	}
	n := len(b)
	b = grow(b, ARPLen)
	p := b[n:]
	binary.BigEndian.PutUint16(p[0:2], ht)
	binary.BigEndian.PutUint16(p[2:4], EtherTypeIPv4)
	p[4], p[5] = 6, 4
	binary.BigEndian.PutUint16(p[6:8], h.Op)
	copy(p[8:14], h.SenderMAC[:])
	s4, t4 := sip.As4(), tip.As4()
	copy(p[14:18], s4[:])
	copy(p[18:24], h.TargetMAC[:])
	copy(p[24:28], t4[:])
	return b, nil
}
