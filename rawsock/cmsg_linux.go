package rawsock

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Rights returns the fds an SCM_RIGHTS message carries. They are the
// caller's to close (and close-on-exec: Recvmsg asks for it).
func (m ControlMessage) Rights() ([]int, error) {
	if m.Level != unix.SOL_SOCKET || m.Type != unix.SCM_RIGHTS {
		return nil, m.wrong("SCM_RIGHTS")
	}
	if len(m.Data)%4 != 0 {
		return nil, fmt.Errorf("rawsock: SCM_RIGHTS of %d bytes is not a whole number of fds", len(m.Data))
	}
	fds := make([]int, 0, len(m.Data)/4)
	for i := 0; i+4 <= len(m.Data); i += 4 {
		fds = append(fds, int(int32(binary.NativeEndian.Uint32(m.Data[i:]))))
	}
	return fds, nil
}

// TTL returns the value of an IP_TTL message (asked for with IP_RECVTTL)
// or an IPV6_HOPLIMIT one (IPV6_RECVHOPLIMIT).
func (m ControlMessage) TTL() (int, error) {
	ok := m.Level == unix.SOL_IP && m.Type == unix.IP_TTL || m.Level == unix.SOL_IPV6 && m.Type == unix.IPV6_HOPLIMIT
	if !ok {
		return 0, m.wrong("IP_TTL or IPV6_HOPLIMIT")
	}
	if len(m.Data) < 4 {
		return 0, fmt.Errorf("rawsock: TTL message of %d bytes", len(m.Data))
	}
	return int(int32(binary.NativeEndian.Uint32(m.Data))), nil
}

// Pktinfo is what an IP_PKTINFO or IPV6_PKTINFO message says: the
// interface a datagram came in on and the address it was sent to.
type Pktinfo struct {
	Ifindex int
	Dst     netip.Addr // the header's destination address
	Local   netip.Addr // IPv4 only: the local address the route chose (ipi_spec_dst)
}

// Pktinfo decodes an IP_PKTINFO (IP_PKTINFO on) or IPV6_PKTINFO
// (IPV6_RECVPKTINFO on) message.
func (m ControlMessage) Pktinfo() (Pktinfo, error) {
	switch {
	case m.Level == unix.SOL_IP && m.Type == unix.IP_PKTINFO:
		if len(m.Data) < unix.SizeofInet4Pktinfo {
			return Pktinfo{}, fmt.Errorf("rawsock: IP_PKTINFO of %d bytes", len(m.Data))
		}
		var p unix.Inet4Pktinfo
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&p)), unix.SizeofInet4Pktinfo), m.Data)
		return Pktinfo{Ifindex: int(p.Ifindex), Dst: netip.AddrFrom4(p.Addr), Local: netip.AddrFrom4(p.Spec_dst)}, nil
	case m.Level == unix.SOL_IPV6 && m.Type == unix.IPV6_PKTINFO:
		if len(m.Data) < unix.SizeofInet6Pktinfo {
			return Pktinfo{}, fmt.Errorf("rawsock: IPV6_PKTINFO of %d bytes", len(m.Data))
		}
		var p unix.Inet6Pktinfo
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&p)), unix.SizeofInet6Pktinfo), m.Data)
		return Pktinfo{Ifindex: int(p.Ifindex), Dst: netip.AddrFrom16(p.Addr)}, nil
	}
	return Pktinfo{}, m.wrong("IP_PKTINFO or IPV6_PKTINFO")
}

// Timestamp decodes an SO_TIMESTAMPNS message (struct timespec) or an
// SO_TIMESTAMP one (struct timeval): when the kernel received the packet.
func (m ControlMessage) Timestamp() (time.Time, error) {
	if m.Level != unix.SOL_SOCKET {
		return time.Time{}, m.wrong("SO_TIMESTAMPNS or SO_TIMESTAMP")
	}
	switch m.Type {
	case unix.SO_TIMESTAMPNS:
		if len(m.Data) < int(unsafe.Sizeof(unix.Timespec{})) {
			return time.Time{}, fmt.Errorf("rawsock: SO_TIMESTAMPNS of %d bytes", len(m.Data))
		}
		var ts unix.Timespec
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), int(unsafe.Sizeof(unix.Timespec{}))), m.Data)
		return time.Unix(ts.Unix()), nil
	case unix.SO_TIMESTAMP:
		if len(m.Data) < int(unsafe.Sizeof(unix.Timeval{})) {
			return time.Time{}, fmt.Errorf("rawsock: SO_TIMESTAMP of %d bytes", len(m.Data))
		}
		var tv unix.Timeval
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&tv)), int(unsafe.Sizeof(unix.Timeval{}))), m.Data)
		return time.Unix(tv.Unix()), nil
	}
	return time.Time{}, m.wrong("SO_TIMESTAMPNS or SO_TIMESTAMP")
}

func (m ControlMessage) wrong(want string) error {
	return fmt.Errorf("rawsock: control message is %s, not %s", m, want)
}

// PktinfoCmsg builds an IP_PKTINFO message for Sendmsg on an AF_INET
// socket: send from src (if valid) and out of interface ifindex (if not 0).
func PktinfoCmsg(ifindex int, src netip.Addr) []byte {
	p := unix.Inet4Pktinfo{Ifindex: int32(ifindex)}
	if src.Is4() {
		p.Spec_dst = src.As4()
	}
	return unix.PktInfo4(&p)
}

// TTLCmsg builds an IP_TTL message for Sendmsg: the TTL of this one
// datagram.
func TTLCmsg(ttl int) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_IP
	h.Type = unix.IP_TTL
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(ttl))
	return b
}
