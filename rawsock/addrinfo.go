package rawsock

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// Htons converts a 16-bit value from host to network byte order.
func Htons(v uint16) uint16 { return hostToNet16(v) }

// Ntohs converts a 16-bit value from network to host byte order.
func Ntohs(v uint16) uint16 { return hostToNet16(v) }

// Htonl converts a 32-bit value from host to network byte order.
func Htonl(v uint32) uint32 { return hostToNet32(v) }

// Ntohl converts a 32-bit value from network to host byte order.
func Ntohl(v uint32) uint32 { return hostToNet32(v) }

var bigEndian = func() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 0
}()

func hostToNet16(v uint16) uint16 {
	if bigEndian {
		return v
	}
	return v<<8 | v>>8
}

func hostToNet32(v uint32) uint32 {
	if bigEndian {
		return v
	}
	return v<<24 | v>>24 | (v<<8)&0x00ff0000 | (v>>8)&0x0000ff00
}

// InetPton converts an address in text to its network-order bytes, as
// inet_pton(3): 4 bytes for AF_INET, 16 for AF_INET6.
func InetPton(family int, s string) ([]byte, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return nil, fmt.Errorf("inet_pton: illegal IP address string %q", s)
	}
	switch family {
	case afInet:
		if !ip.Is4() {
			return nil, fmt.Errorf("inet_pton: %q is not an AF_INET address", s)
		}
		b := ip.As4()
		return b[:], nil
	case afInet6:
		if ip.Is4() {
			return nil, fmt.Errorf("inet_pton: %q is not an AF_INET6 address", s)
		}
		b := ip.As16()
		return b[:], nil
	}
	return nil, fmt.Errorf("inet_pton: %w", unix.EAFNOSUPPORT)
}

// InetNtop converts network-order address bytes to text, as inet_ntop(3).
func InetNtop(family int, b []byte) (string, error) {
	switch {
	case family == afInet && len(b) == 4:
		return netip.AddrFrom4([4]byte(b)).String(), nil
	case family == afInet6 && len(b) == 16:
		return netip.AddrFrom16([16]byte(b)).String(), nil
	case family == afInet || family == afInet6:
		return "", fmt.Errorf("inet_ntop: %d bytes is not a %s address", len(b), FamilyName(family))
	}
	return "", fmt.Errorf("inet_ntop: %w", unix.EAFNOSUPPORT)
}

// Addrinfo is one answer of Getaddrinfo: the arguments for Socket and the
// address for Connect or Bind, as Python's (family, type, proto,
// canonname, sockaddr).
type Addrinfo struct {
	Family    int
	Type      int
	Proto     int
	Canonname string
	Addr      unix.Sockaddr
}

// Getaddrinfo resolves host and port as getaddrinfo(3) does, through Go's
// resolver (/etc/hosts, then DNS): it makes no socket syscall, so the trace
// shows none. family 0 (AF_UNSPEC) asks for both IP families, typ 0 for
// SOCK_STREAM, SOCK_DGRAM and SOCK_RAW, each with its protocol. host ""
// with AI_PASSIVE gives the wildcard address, without it loopback. port may
// be a number or a service name ("http").
func Getaddrinfo(host, port string, family, typ, proto, flags int) ([]Addrinfo, error) {
	pn := 0
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil {
			if p, err = net.DefaultResolver.LookupPort(context.Background(), "tcp", port); err != nil {
				return nil, fmt.Errorf("getaddrinfo: service %q: %w", port, err)
			}
		}
		if err := checkPort(p); err != nil {
			return nil, fmt.Errorf("getaddrinfo: %w", err)
		}
		pn = p
	}
	var ips []netip.Addr
	canon := ""
	switch {
	case host == "" && flags&aiPassive != 0:
		ips = []netip.Addr{netip.IPv6Unspecified(), netip.IPv4Unspecified()}
	case host == "":
		ips = []netip.Addr{netip.IPv6Loopback(), netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	default:
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
			break
		}
		if flags&aiNumerichost != 0 {
			return nil, fmt.Errorf("getaddrinfo: %q is not a numeric host", host)
		}
		res, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if err != nil {
			return nil, fmt.Errorf("getaddrinfo: %w", err)
		}
		for _, ip := range res {
			ips = append(ips, ip.Unmap())
		}
		if flags&aiCanonname != 0 {
			canon = host
			if c, err := net.DefaultResolver.LookupCNAME(context.Background(), host); err == nil {
				canon = c
			}
		}
	}
	types := []struct{ typ, proto int }{{sockStream, unix.IPPROTO_TCP}, {sockDgram, unix.IPPROTO_UDP}, {sockRaw, 0}}
	var out []Addrinfo
	for _, ip := range ips {
		fam := afInet6
		if ip.Is4() {
			fam = afInet
		}
		if family != 0 && family != fam {
			continue
		}
		for _, t := range types {
			if typ != 0 && typ != t.typ {
				continue
			}
			p := t.proto
			if proto != 0 {
				p = proto
			}
			out = append(out, Addrinfo{Family: fam, Type: t.typ, Proto: p, Canonname: canon,
				Addr: SockaddrFromAddrPort(netip.AddrPortFrom(ip, uint16(pn)))})
			canon = ""
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("getaddrinfo: %q: no address of the requested family", host)
	}
	return out, nil
}

// Flags of Getaddrinfo, with getaddrinfo(3)'s values.
const (
	AI_PASSIVE     = 0x1
	AI_CANONNAME   = 0x2
	AI_NUMERICHOST = 0x4

	aiPassive     = AI_PASSIVE
	aiCanonname   = AI_CANONNAME
	aiNumerichost = AI_NUMERICHOST
)

func itoa(i int) string { return strconv.Itoa(i) }

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}
