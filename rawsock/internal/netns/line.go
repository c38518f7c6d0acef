package netns

import (
	"fmt"
	"net/netip"
	"testing"
)

// A Line is the topology A — r1 — ... — rN — B, with routes both ways.
// A and B route everything (default routes) to their router; each router
// routes every link network along the line and everything else toward B;
// the last router answers for the prefixes behind Unreachable4/6 and
// Prohibited4/6 with ICMP errors.
type Line struct {
	*Topology
	A, B    *Namespace
	Routers []*Namespace
	// Links[0] joins A (its A end) and r1; Links[i] joins r(i) and r(i+1);
	// the last joins rN and B (its B end).
	Links []*Link
	// Hops4 and Hops6 are what a traceroute from A to B lists: each
	// router's address on its link toward A (the source of its ICMP time
	// exceeded), then B's address.
	Hops4, Hops6 []netip.Addr
	// Unreachable4 and Unreachable6 are routed by rN as "unreachable":
	// packets to them get ICMP destination unreachable, code host
	// unreachable (ICMPv6: no route to destination), from rN.
	Unreachable4, Unreachable6 netip.Addr
	// Prohibited4 and Prohibited6 are routed by rN as "prohibit": ICMP
	// destination unreachable, code communication administratively
	// prohibited (13; ICMPv6: administratively prohibited, code 1).
	Prohibited4, Prohibited6 netip.Addr
}

// The networks behind the last router of a Line.
var (
	unreachable4 = netip.MustParsePrefix("10.255.0.0/24")
	unreachable6 = netip.MustParsePrefix("fd00:ff::/64")
	prohibited4  = netip.MustParsePrefix("10.254.0.0/24")
	prohibited6  = netip.MustParsePrefix("fd00:fe::/64")
)

// NewLine builds host A, routers r1..rN and host B in a line, or skips t
// when namespaces cannot be made here (see Check).
func NewLine(t testing.TB, routers int) *Line {
	t.Helper()
	if routers < 1 {
		t.Fatalf("netns: NewLine wants at least one router, got %d", routers)
	}
	tp := New(t)
	l := &Line{Topology: tp, A: tp.Host("a")}
	prev := l.A
	for i := 1; i <= routers; i++ {
		r := tp.Router(fmt.Sprintf("r%d", i))
		l.Links = append(l.Links, tp.Connect(prev, r))
		l.Routers = append(l.Routers, r)
		prev = r
	}
	l.B = tp.Host("b")
	l.Links = append(l.Links, tp.Connect(prev, l.B))
	tp.AutoRoute()

	def4, def6 := netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")
	first, last := l.Links[0], l.Links[routers]
	if err := l.A.ipBatch([]string{routeLine(def4, first.B4), routeLine(def6, first.B6)}); err != nil {
		t.Fatalf("netns: line: %v", err)
	}
	if err := l.B.ipBatch([]string{routeLine(def4, last.A4), routeLine(def6, last.A6)}); err != nil {
		t.Fatalf("netns: line: %v", err)
	}
	for i, r := range l.Routers {
		var lines []string
		if i < routers-1 {
			next := l.Links[i+1]
			lines = []string{routeLine(def4, next.B4), routeLine(def6, next.B6)}
		} else {
			lines = []string{
				"route replace unreachable " + unreachable4.String(),
				"route replace unreachable " + unreachable6.String(),
				"route replace prohibit " + prohibited4.String(),
				"route replace prohibit " + prohibited6.String(),
			}
		}
		if err := r.ipBatch(lines); err != nil {
			t.Fatalf("netns: line: %v", err)
		}
		l.Hops4 = append(l.Hops4, l.Links[i].B4)
		l.Hops6 = append(l.Hops6, l.Links[i].B6)
	}
	l.Hops4 = append(l.Hops4, last.B4)
	l.Hops6 = append(l.Hops6, last.B6)
	l.Unreachable4, l.Unreachable6 = hostAddr(unreachable4.Addr(), 1), hostAddr(unreachable6.Addr(), 1)
	l.Prohibited4, l.Prohibited6 = hostAddr(prohibited4.Addr(), 1), hostAddr(prohibited6.Addr(), 1)
	return l
}
