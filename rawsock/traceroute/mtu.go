package traceroute

import (
	"errors"
	"net"
	"net/netip"
)

// errTooBig is what a transport's send returns when the kernel refused a
// probe bigger than the local link's MTU (EMSGSIZE, with DontFragment).
var errTooBig = errors.New("probe bigger than the local link's MTU")

// LinkMTU returns the MTU of the link probes leave by: device's, or that
// of the interface holding src (the route's source address, as Source
// returns it). 0 when not known. Call it in the network namespace of the
// sockets.
func LinkMTU(device string, src netip.Addr) int {
	if device != "" {
		if ifi, err := net.InterfaceByName(device); err == nil {
			return ifi.MTU
		}
		return 0
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, ifi := range ifs {
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr() == src.WithZone("") {
				return ifi.MTU
			}
		}
	}
	return 0
}

// resize is DiscoverMTU's step: when r says the probe was too big for a
// link of MTU r.mtu, smaller than the probes but enough for their headers,
// the probes shrink to it and this one is sent again, marked with the MTU
// (traceroute --mtu's F=<mtu>). It reports whether it did so.
func (e *engine) resize(r *reply) bool {
	if !e.cfg.DiscoverMTU || r.mtu < headerLen(e.cfg.Method, e.cfg.Dst.Is6()) || r.mtu >= e.plen {
		return false
	}
	e.plen = r.mtu
	// Sending is in order and one at a time: the probe is the last sent.
	p := &e.probes[r.seq]
	*p = Probe{TTL: p.TTL, Seq: p.Seq, MTU: r.mtu}
	e.next = r.seq
	e.inflight--
	return true
}
