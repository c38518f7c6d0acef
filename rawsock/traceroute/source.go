package traceroute

import (
	"fmt"
	"net/netip"

	"github.com/rawsock/rawsock/rawsock"
)

// Source returns the address the kernel's route to dst leaves from: the
// source a socket gets when it sends to dst without binding. It connects a
// UDP socket (connect(2) of a datagram socket only looks the route up; no
// packet is sent) and reads getsockname(2), as traceroute and iputils do.
// Call it in the network namespace the probes will leave from.
func Source(dst netip.Addr) (netip.Addr, error) { return sourceVia(dst, "") }

// sourceVia is Source for sockets bound to device (SO_BINDTODEVICE), whose
// route, and so source, the device decides.
func sourceVia(dst netip.Addr, device string) (netip.Addr, error) {
	dst = dst.Unmap()
	af := rawsock.AF_INET
	if dst.Is6() {
		af = rawsock.AF_INET6
	}
	u, err := rawsock.Socket(af, rawsock.SOCK_DGRAM, 0)
	if err != nil {
		return netip.Addr{}, err
	}
	defer u.Close()
	if err := bindDevice(u, device); err != nil {
		return netip.Addr{}, err
	}
	// Port 9 (discard): any port will do, the socket never sends.
	if err := u.Connect(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(dst, 9))); err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %s: %w", dst, err)
	}
	sa, err := u.Getsockname()
	if err != nil {
		return netip.Addr{}, err
	}
	ap, _ := rawsock.AddrPortFromSockaddr(sa)
	return ap.Addr().Unmap(), nil
}
