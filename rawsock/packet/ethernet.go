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
	EtherTypeVLAN = 0x8100 // an IEEE 802.1Q tag follows (its TPID)
	EtherTypeIPv6 = 0x86dd
	EtherTypeQinQ = 0x88a8 // an IEEE 802.1ad service tag follows (QinQ's outer tag)
)

// VLANTagLen is the length of an 802.1Q tag: TPID and TCI.
const VLANTagLen = 4

// MaxVLANTags is how many stacked tags Ethernet.Parse takes apart: an
// 802.1ad service tag and the 802.1Q tag inside it (QinQ).
const MaxVLANTags = 2

// MAC is an Ethernet (EUI-48) hardware address.
type MAC [6]byte

// Broadcast is the Ethernet broadcast address ff:ff:ff:ff:ff:ff.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// String returns the address as net.HardwareAddr prints it: 00:11:22:33:44:55.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// VLANTag is an IEEE 802.1Q tag (or an 802.1ad service tag): the TPID that
// announces it, then the TCI's priority, drop eligible bit and VLAN ID.
type VLANTag struct {
	TPID     uint16 // EtherTypeVLAN, or EtherTypeQinQ for a service tag
	Priority uint8  // PCP, 0-7 (IEEE 802.1p)
	DropOK   bool   // DEI: drop eligible
	ID       uint16 // VLAN identifier, 0-4095 (0: priority tag only, no VLAN)
}

// TCI returns the tag control information as it is on the wire.
func (v VLANTag) TCI() uint16 {
	tci := uint16(v.Priority&7)<<13 | v.ID&0x0fff
	if v.DropOK {
		tci |= 1 << 12
	}
	return tci
}

func isVLANTPID(et uint16) bool { return et == EtherTypeVLAN || et == EtherTypeQinQ }

// Ethernet is an Ethernet II header, as AF_PACKET SOCK_RAW sockets deliver
// and take it (packet(7)): destination, source, up to MaxVLANTags 802.1Q or
// 802.1ad tags, EtherType. Linux usually strips the outer tag on receive
// into PACKET_AUXDATA, so captured frames carry tags mostly on trunks and
// from tap devices. A deeper stack is not taken apart: EtherType is then
// the third tag's TPID and the tag starts the payload. A value below
// 0x0600 is an IEEE 802.3 length, not a type; Parse accepts it as is.
type Ethernet struct {
	Dst       MAC                  // destination address
	Src       MAC                  // source address
	VLANs     [MaxVLANTags]VLANTag // the tags, outermost first: NumVLANs of them
	NumVLANs  int                  // how many of VLANs are present
	EtherType uint16               // payload type, after the tags: EtherTypeIPv4, EtherTypeARP, EtherTypeIPv6, ...
}

// Tags returns the VLAN tags present, outermost first, aliasing h.
func (h *Ethernet) Tags() []VLANTag { return h.VLANs[:h.NumVLANs] }

// HeaderLen returns the header's length: 14 bytes and 4 per tag.
func (h *Ethernet) HeaderLen() int { return EthernetHeaderLen + VLANTagLen*h.NumVLANs }

// Parse parses the Ethernet frame at the start of b into h and returns the
// payload after the header and its tags, aliasing b (with any padding to
// the 60-byte minimum frame: the IP layer's length bounds it). It does not
// allocate.
func (h *Ethernet) Parse(b []byte) (payload []byte, err error) {
	*h = Ethernet{}
	if len(b) < EthernetHeaderLen {
		return nil, errorf(ErrTruncated, "ethernet: header needs %d bytes, have %d", EthernetHeaderLen, len(b))
	}
	h.Dst = MAC(b[0:6])
	h.Src = MAC(b[6:12])
	off := 12
	for {
		et := binary.BigEndian.Uint16(b[off:])
		if !isVLANTPID(et) || h.NumVLANs == MaxVLANTags {
			h.EtherType = et
			break
		}
		if len(b) < off+2+VLANTagLen {
			return nil, errorf(ErrTruncated, "ethernet: 802.1Q tag %d needs %d bytes, have %d", h.NumVLANs+1, VLANTagLen, len(b)-off)
		}
		tci := binary.BigEndian.Uint16(b[off+2:])
		h.VLANs[h.NumVLANs] = VLANTag{TPID: et, Priority: uint8(tci >> 13), DropOK: tci&(1<<12) != 0, ID: tci & 0x0fff}
		h.NumVLANs++
		off += VLANTagLen
	}
	off += 2
	return b[off:len(b):len(b)], nil
}

// Append appends the header, its tags and payload to b and returns the
// extended slice. It does not pad to the 60-byte minimum: the kernel's
// driver does that. A tag whose TPID is 0 is written as 802.1Q.
func (h *Ethernet) Append(b, payload []byte) []byte {
	n := min(max(h.NumVLANs, 0), MaxVLANTags)
	hl := EthernetHeaderLen + VLANTagLen*n
	at := len(b)
	b = grow(b, hl+len(payload))
	p := b[at:]
	copy(p[0:6], h.Dst[:])
	copy(p[6:12], h.Src[:])
	off := 12
	for _, v := range h.VLANs[:n] {
		tpid := v.TPID
		if tpid == 0 {
			tpid = EtherTypeVLAN
		}
		binary.BigEndian.PutUint16(p[off:], tpid)
		binary.BigEndian.PutUint16(p[off+2:], v.TCI())
		off += VLANTagLen
	}
	binary.BigEndian.PutUint16(p[off:], h.EtherType)
	copy(p[hl:], payload)
	return b
}
