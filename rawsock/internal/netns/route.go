package netns

import (
	"fmt"
	"net/netip"
)

// Route adds (or replaces) a route to dst through the neighbour address via,
// or ends the test. Use 0.0.0.0/0 or ::/0 for a default route.
func (ns *Namespace) Route(dst netip.Prefix, via netip.Addr) {
	ns.tp.t.Helper()
	if err := ns.ipBatch([]string{routeLine(dst, via)}); err != nil {
		ns.tp.t.Fatalf("netns: route: %v", err)
	}
}

// RouteType adds (or replaces) a route of a special type to dst, or ends
// the test: "unreachable" (ICMP host unreachable, ICMPv6 no route),
// "prohibit" (ICMP administratively filtered, ICMPv6 administratively
// prohibited), "blackhole" (silent drop) or "throw".
func (ns *Namespace) RouteType(kind string, dst netip.Prefix) {
	ns.tp.t.Helper()
	switch kind {
	case "unreachable", "prohibit", "blackhole", "throw":
	default:
		ns.tp.t.Fatalf("netns: route type %q: want unreachable, prohibit, blackhole or throw", kind)
	}
	if err := ns.ipBatch([]string{fmt.Sprintf("route replace %s %s", kind, dst.Masked())}); err != nil {
		ns.tp.t.Fatalf("netns: route: %v", err)
	}
}

func routeLine(dst netip.Prefix, via netip.Addr) string {
	return fmt.Sprintf("route replace %s via %s", dst.Masked(), via)
}

// AutoRoute gives every namespace a route, in both families, to the network
// of every link it is not on, through the neighbour on a shortest path, or
// ends the test. Next hops follow shortest paths, so forwarding has no loops;
// ties go to the link made first. Calling it again after adding links
// replaces the routes.
func (tp *Topology) AutoRoute() {
	tp.t.Helper()
	tp.mu.Lock()
	nss := append([]*Namespace(nil), tp.nss...)
	links := append([]*Link(nil), tp.links...)
	tp.mu.Unlock()
	for _, ns := range nss {
		if err := ns.ipBatch(autoRoutes(ns, links)); err != nil {
			tp.t.Fatalf("netns: autoroute: %v", err)
		}
	}
}

// autoRoutes returns the "ip route" lines AutoRoute gives src.
func autoRoutes(src *Namespace, links []*Link) []string {
	// Breadth-first from src: dist[n] hops away, leaving src by first[n].
	dist := map[*Namespace]int{src: 0}
	first := map[*Namespace]*Link{}
	queue := []*Namespace{src}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, l := range n.links {
			p := l.Peer(n)
			if _, seen := dist[p]; seen {
				continue
			}
			dist[p] = dist[n] + 1
			if n == src {
				first[p] = l
			} else {
				first[p] = first[n]
			}
			queue = append(queue, p)
		}
	}
	order := map[*Link]int{}
	for i, l := range links {
		order[l] = i
	}
	var lines []string
	for _, l := range links {
		if l.A == src || l.B == src {
			continue // connected
		}
		// Go toward the nearer end; on a tie, by the older first link.
		var out *Link
		best := -1
		for _, end := range []*Namespace{l.A, l.B} {
			d, ok := dist[end]
			if !ok {
				continue // not reachable from src
			}
			if f := first[end]; out == nil || d < best || d == best && order[f] < order[out] {
				out, best = f, d
			}
		}
		if out == nil {
			continue
		}
		nb := out.Peer(src)
		lines = append(lines,
			routeLine(l.Net4, out.Addr(nb, true)),
			routeLine(l.Net6, out.Addr(nb, false)))
	}
	return lines
}
