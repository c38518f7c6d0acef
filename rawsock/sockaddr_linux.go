package rawsock

import (
	"net/netip"
	"reflect"
	"unsafe"

	"golang.org/x/sys/unix"
)

// decodeSockaddr turns what the kernel wrote into a unix.Sockaddr without
// the getsockopt(SO_PROTOCOL) x/sys/unix makes for AF_INET and AF_INET6.
// It returns nil for an empty address (a connected stream) and for
// families it does not know.
func decodeSockaddr(rsa *unix.RawSockaddrAny, salen uint32) unix.Sockaddr {
	if salen < 2 {
		return nil
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return &unix.SockaddrInet4{Port: int(Ntohs(p.Port)), Addr: p.Addr}
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return &unix.SockaddrInet6{Port: int(Ntohs(p.Port)), ZoneId: p.Scope_id, Addr: p.Addr}
	case unix.AF_UNIX:
		p := (*unix.RawSockaddrUnix)(unsafe.Pointer(rsa))
		n := int(salen) - 2
		if n > len(p.Path) {
			n = len(p.Path)
		}
		if n <= 0 {
			return &unix.SockaddrUnix{}
		}
		path := unsafe.Slice((*byte)(unsafe.Pointer(&p.Path[0])), n)
		if path[0] == 0 {
			// Abstract: the length, not a NUL, ends the name.
			return &unix.SockaddrUnix{Name: "@" + string(path[1:])}
		}
		for i, c := range path {
			if c == 0 {
				path = path[:i]
				break
			}
		}
		return &unix.SockaddrUnix{Name: string(path)}
	case unix.AF_PACKET:
		p := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(rsa))
		return &unix.SockaddrLinklayer{
			Protocol: p.Protocol, Ifindex: int(p.Ifindex), Hatype: p.Hatype,
			Pkttype: p.Pkttype, Halen: p.Halen, Addr: p.Addr,
		}
	case unix.AF_NETLINK:
		p := (*unix.RawSockaddrNetlink)(unsafe.Pointer(rsa))
		return &unix.SockaddrNetlink{Family: p.Family, Pad: p.Pad, Pid: p.Pid, Groups: p.Groups}
	}
	return nil
}

// decodeAddrPort reads an AF_INET or AF_INET6 address without allocating.
func decodeAddrPort(rsa *unix.RawSockaddrAny, salen uint32) netip.AddrPort {
	if salen < 2 {
		return netip.AddrPort{}
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), Ntohs(p.Port))
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		ip := netip.AddrFrom16(p.Addr)
		if p.Scope_id != 0 {
			ip = ip.WithZone(zoneName(p.Scope_id))
		}
		return netip.AddrPortFrom(ip, Ntohs(p.Port))
	}
	return netip.AddrPort{}
}

// encodeAddrPort writes ap as the sockaddr a socket of family wants. An
// IPv4 address on an AF_INET6 socket becomes its v4-mapped form; a
// v4-mapped address on an AF_INET socket is unmapped.
func encodeAddrPort(family int, ap netip.AddrPort, rsa *unix.RawSockaddrAny) (uint32, error) {
	ip := ap.Addr()
	switch {
	case !ip.IsValid():
		return 0, unix.EDESTADDRREQ
	case family == unix.AF_INET || family == unix.AF_PACKET && ip.Unmap().Is4():
		ip = ip.Unmap()
		if !ip.Is4() {
			return 0, unix.EAFNOSUPPORT
		}
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		*p = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: Htons(ap.Port()), Addr: ip.As4()}
		return unix.SizeofSockaddrInet4, nil
	default:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		*p = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: Htons(ap.Port()), Addr: ip.As16()}
		if z := ip.Zone(); z != "" {
			id, err := zoneIndex(z)
			if err != nil {
				return 0, unix.EINVAL
			}
			p.Scope_id = id
		}
		return unix.SizeofSockaddrInet6, nil
	}
}

// encodeSockaddr writes sa in the kernel's layout. ok is false for the
// families it does not know, which then go through x/sys/unix's encoder.
func encodeSockaddr(sa unix.Sockaddr, rsa *unix.RawSockaddrAny) (n uint32, ok bool, err error) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		if a == nil {
			return 0, true, unix.EINVAL
		}
		if a.Port < 0 || a.Port > 0xffff {
			return 0, true, unix.EINVAL
		}
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		*p = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: Htons(uint16(a.Port)), Addr: a.Addr}
		return unix.SizeofSockaddrInet4, true, nil
	case *unix.SockaddrInet6:
		if a == nil {
			return 0, true, unix.EINVAL
		}
		if a.Port < 0 || a.Port > 0xffff {
			return 0, true, unix.EINVAL
		}
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		*p = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: Htons(uint16(a.Port)), Scope_id: a.ZoneId, Addr: a.Addr}
		return unix.SizeofSockaddrInet6, true, nil
	case *unix.SockaddrUnix:
		if a == nil {
			return 0, true, unix.EINVAL
		}
		p := (*unix.RawSockaddrUnix)(unsafe.Pointer(rsa))
		name := a.Name
		if len(name) > len(p.Path) {
			return 0, true, unix.EINVAL
		}
		*p = unix.RawSockaddrUnix{Family: unix.AF_UNIX}
		for i := 0; i < len(name); i++ {
			p.Path[i] = int8(name[i])
		}
		if len(name) > 0 && (name[0] == '@' || name[0] == 0) {
			// Abstract namespace, written "@name" or "\x00name" as
			// x/sys/unix takes it: a leading NUL, no trailing one.
			p.Path[0] = 0
			return uint32(2 + len(name)), true, nil
		}
		if len(name) == 0 {
			return 2, true, nil
		}
		return uint32(2 + len(name) + 1), true, nil
	case *unix.SockaddrLinklayer:
		if a == nil || a.Ifindex < 0 || a.Ifindex > 0x7fffffff {
			return 0, true, unix.EINVAL
		}
		p := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(rsa))
		*p = unix.RawSockaddrLinklayer{Family: unix.AF_PACKET, Protocol: a.Protocol, Ifindex: int32(a.Ifindex),
			Hatype: a.Hatype, Pkttype: a.Pkttype, Halen: a.Halen, Addr: a.Addr}
		return unix.SizeofSockaddrLinklayer, true, nil
	case *unix.SockaddrNetlink:
		if a == nil {
			return 0, true, unix.EINVAL
		}
		p := (*unix.RawSockaddrNetlink)(unsafe.Pointer(rsa))
		*p = unix.RawSockaddrNetlink{Family: unix.AF_NETLINK, Pad: a.Pad, Pid: a.Pid, Groups: a.Groups}
		return unix.SizeofSockaddrNetlink, true, nil
	}
	return 0, false, nil
}

func sockaddrStringOS(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrLinklayer:
		if a == nil {
			return "NULL"
		}
		hw := ""
		for i := 0; i < int(a.Halen) && i < len(a.Addr); i++ {
			if i > 0 {
				hw += ":"
			}
			hw += hex2(a.Addr[i])
		}
		s := "AF_PACKET, proto=" + nameOr(ethPNames, int(Ntohs(a.Protocol))) + ", if" + itoa(a.Ifindex)
		if hw != "" {
			s += ", " + hw
		}
		return s
	case *unix.SockaddrNetlink:
		if a == nil {
			return "NULL"
		}
		return "AF_NETLINK, pid=" + itoa(int(a.Pid)) + ", groups=" + itoa(int(a.Groups))
	}
	return "?"
}

// checkSockaddr refuses a nil address, or a typed nil pointer in the
// interface, before x/sys/unix would dereference it.
func checkSockaddr(sa unix.Sockaddr) error {
	var isNil bool
	switch a := sa.(type) {
	case nil:
		return unix.EINVAL
	case *unix.SockaddrInet4:
		isNil = a == nil
	case *unix.SockaddrInet6:
		isNil = a == nil
	case *unix.SockaddrUnix:
		isNil = a == nil
	case *unix.SockaddrLinklayer:
		isNil = a == nil
	case *unix.SockaddrNetlink:
		isNil = a == nil
	default:
		// The other families x/sys/unix knows, and any it adds: every
		// Sockaddr is a pointer, and these calls are not the hot path.
		v := reflect.ValueOf(sa)
		isNil = v.Kind() == reflect.Pointer && v.IsNil()
	}
	if isNil {
		return &hintError{unix.EINVAL, "nil " + reflect.TypeOf(sa).String()}
	}
	return nil
}
