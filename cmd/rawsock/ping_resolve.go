package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The ping target: names and literals as getaddrinfo(3) gives them to
// iputils.

// isBroadcast reports whether a is 255.255.255.255 or the broadcast
// address of a network on one of this host's interfaces.
func isBroadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		n, ok := ia.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		ones, bits := n.Mask.Size()
		if bits != 32 || ones >= 31 {
			continue
		}
		b := [4]byte(n.IP.To4())
		for i := range b {
			b[i] |= ^n.Mask[len(n.Mask)-4+i]
		}
		if netip.AddrFrom4(b) == a {
			return true
		}
	}
	return false
}

// resolveTarget parses or looks up host; numeric reports a literal
// address, which iputils never looks up in reverse either. IPv4 literals
// are read as inet_aton(3) reads them (127.1, 0x7f.1, 2130706433), as
// glibc's getaddrinfo does for iputils.
func resolveTarget(host string, family int) (addr netip.Addr, numeric bool, err error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		a, err = inetAton(host)
	}
	if err == nil {
		a = a.Unmap()
		if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
			return netip.Addr{}, false, fmt.Errorf("%s: Address family for hostname not supported", host)
		}
		if z := a.Zone(); z != "" {
			// getaddrinfo refuses a scope that names no interface.
			if _, err := strconv.ParseUint(z, 10, 32); err != nil {
				if _, err := net.InterfaceByName(z); err != nil {
					return netip.Addr{}, false, fmt.Errorf("%s: Name or service not known", host)
				}
			}
		}
		return a, true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		var de *net.DNSError
		if errors.As(err, &de) && !de.IsNotFound {
			return netip.Addr{}, false, fmt.Errorf("%s: Temporary failure in name resolution", host)
		}
		return netip.Addr{}, false, fmt.Errorf("%s: Name or service not known", host)
	}
	var other bool
	for _, want4 := range []bool{true, false} { // IPv4 first, as this system's getaddrinfo orders them
		for _, a := range addrs {
			a = a.Unmap()
			if a.Is4() != want4 {
				continue
			}
			if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
				other = true
				continue
			}
			return a, false, nil
		}
	}
	if other { // the name has addresses, none of the family asked for
		return netip.Addr{}, false, fmt.Errorf("%s: No address associated with hostname", host)
	}
	return netip.Addr{}, false, fmt.Errorf("%s: Name or service not known", host)
}

// inetAton reads an IPv4 address as inet_aton(3): one to four numbers,
// each decimal, octal (leading 0) or hex (0x), the last filling the bytes
// that remain (a.b.c.d, a.b.c with c 16 bits, a.b with b 24 bits, a alone
// 32 bits).
func inetAton(s string) (netip.Addr, error) {
	bad := errors.New("not an IPv4 address")
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, bad
	}
	var v uint64
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 0, 32)
		if err != nil || part == "" || part[0] == '+' || strings.ContainsRune(part, '_') ||
			len(part) > 1 && part[0] == '0' && strings.ContainsRune("bBoO", rune(part[1])) {
			return netip.Addr{}, bad
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, bad
			}
			v = v<<8 | n
			continue
		}
		rest := uint(4 - i) // bytes the last number fills
		if n >= 1<<(8*rest) && rest < 4 {
			return netip.Addr{}, bad
		}
		v = v<<(8*rest) | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}
