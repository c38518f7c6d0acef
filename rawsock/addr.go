package rawsock

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// InetAddr builds the AF_INET address Python writes as (host, port): host ""
// is INADDR_ANY (Python's empty string), "<broadcast>" is INADDR_BROADCAST, a dotted
// quad is taken as is, and a name is resolved (from /etc/hosts or DNS) to
// its first IPv4 address.
func InetAddr(host string, port int) (unix.Sockaddr, error) {
	if err := checkPort(port); err != nil {
		return nil, err
	}
	ip, err := resolveHost(host, 4)
	if err != nil {
		return nil, err
	}
	return &unix.SockaddrInet4{Port: port, Addr: ip.As4()}, nil
}

// Inet6Addr builds an AF_INET6 address from (host, port): host "" is
// in6addr_any, a literal may carry a zone ("fe80::1%eth0"), and a name is
// resolved to its first IPv6 address.
func Inet6Addr(host string, port int) (unix.Sockaddr, error) {
	if err := checkPort(port); err != nil {
		return nil, err
	}
	ip, err := resolveHost(host, 6)
	if err != nil {
		return nil, err
	}
	sa := &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		id, err := zoneIndex(z)
		if err != nil {
			return nil, err
		}
		sa.ZoneId = id
	}
	return sa, nil
}

// UnixAddr builds an AF_UNIX address. A path starting with '@' names the
// Linux abstract namespace (unix(7)).
func UnixAddr(path string) unix.Sockaddr { return &unix.SockaddrUnix{Name: path} }

// SockaddrFromAddrPort converts a netip.AddrPort to the AF_INET or AF_INET6
// sockaddr that fits the address.
func SockaddrFromAddrPort(ap netip.AddrPort) unix.Sockaddr {
	ip := ap.Addr()
	if ip.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if id, err := zoneIndex(z); err == nil {
			sa.ZoneId = id
		}
	}
	return sa
}

// AddrPortFromSockaddr converts an AF_INET or AF_INET6 sockaddr to a
// netip.AddrPort; ok is false for any other family.
func AddrPortFromSockaddr(sa unix.Sockaddr) (ap netip.AddrPort, ok bool) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		if a != nil {
			return netipAddrPort4(a), true
		}
	case *unix.SockaddrInet6:
		if a != nil {
			return netipAddrPort6(a), true
		}
	}
	return netip.AddrPort{}, false
}

// AddrString formats an address the short way a log line wants it:
// "127.0.0.1:9999", "[::1]:9999", "/tmp/sock", "@abstract".
func AddrString(sa unix.Sockaddr) string {
	if ap, ok := AddrPortFromSockaddr(sa); ok {
		return ap.String()
	}
	if a, ok := sa.(*unix.SockaddrUnix); ok && a != nil {
		if a.Name == "" {
			return "unnamed"
		}
		if a.Name[0] == 0 {
			return "@" + a.Name[1:]
		}
		return a.Name
	}
	if sa == nil {
		return "<nil>"
	}
	return SockaddrString(sa)
}

func netipAddrPort4(a *unix.SockaddrInet4) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
}

func netipAddrPort6(a *unix.SockaddrInet6) netip.AddrPort {
	ip := netip.AddrFrom16(a.Addr)
	if a.ZoneId != 0 {
		ip = ip.WithZone(zoneName(a.ZoneId))
	}
	return netip.AddrPortFrom(ip, uint16(a.Port))
}

func checkPort(port int) error {
	if port < 0 || port > 0xffff {
		return fmt.Errorf("rawsock: port %d out of range 0-65535", port)
	}
	return nil
}

// resolveHost turns Python's host string into an address of the wanted IP
// version.
func resolveHost(host string, version int) (netip.Addr, error) {
	switch host {
	case "":
		if version == 4 {
			return netip.IPv4Unspecified(), nil
		}
		return netip.IPv6Unspecified(), nil
	case "<broadcast>":
		if version == 4 {
			return netip.AddrFrom4([4]byte{255, 255, 255, 255}), nil
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if version == 4 && !ip.Is4() {
			return netip.Addr{}, fmt.Errorf("rawsock: %s is not an IPv4 address (use Inet6Addr)", host)
		}
		if version == 6 && ip.Is4() {
			return netip.Addr{}, fmt.Errorf("rawsock: %s is not an IPv6 address (use InetAddr, or ::ffff:%s)", host, host)
		}
		return ip, nil
	}
	network := "ip4"
	if version == 6 {
		network = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), network, host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("rawsock: resolve %q: %w", host, err)
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("rawsock: resolve %q: no %s address", host, network)
	}
	return ips[0].Unmap(), nil
}

// zoneIndex maps an IPv6 zone (interface name or number) to its index.
func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, fmt.Errorf("rawsock: zone %q: %w", zone, err)
	}
	return uint32(ifi.Index), nil
}

// zoneName keeps zones numeric: looking up the name would cost a netlink
// round trip per datagram.
func zoneName(id uint32) string { return strconv.FormatUint(uint64(id), 10) }
