//go:build linux

package netns

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// TestAutoRoutes checks the routes chosen for a diamond with one long side,
// A—r1—B and A—r2—r3—B, without making namespaces.
func TestAutoRoutes(t *testing.T) {
	tp := &Topology{}
	ns := map[string]*Namespace{}
	for _, n := range []string{"a", "b", "r1", "r2", "r3"} {
		ns[n] = &Namespace{Label: n, tp: tp}
	}
	link := func(x, y string) *Link {
		i := len(tp.links) + 1
		l := &Link{A: ns[x], B: ns[y],
			Net4: netip.MustParsePrefix(fmt.Sprintf("10.0.%d.0/24", i)),
			Net6: netip.MustParsePrefix(fmt.Sprintf("fd00:0:0:%x::/64", i)),
			A4:   netip.MustParseAddr(fmt.Sprintf("10.0.%d.1", i)), B4: netip.MustParseAddr(fmt.Sprintf("10.0.%d.2", i)),
			A6: netip.MustParseAddr(fmt.Sprintf("fd00:0:0:%x::1", i)), B6: netip.MustParseAddr(fmt.Sprintf("fd00:0:0:%x::2", i)),
		}
		tp.links = append(tp.links, l)
		ns[x].links = append(ns[x].links, l)
		ns[y].links = append(ns[y].links, l)
		return l
	}
	link("a", "r1")  // 1
	link("r1", "b")  // 2
	link("a", "r2")  // 3
	link("r2", "r3") // 4
	link("r3", "b")  // 5
	got := strings.Join(autoRoutes(ns["a"], tp.links), "\n")
	want := strings.Join([]string{
		"route replace 10.0.2.0/24 via 10.0.1.2", "route replace fd00:0:0:2::/64 via fd00:0:0:1::2",
		"route replace 10.0.4.0/24 via 10.0.3.2", "route replace fd00:0:0:4::/64 via fd00:0:0:3::2",
		"route replace 10.0.5.0/24 via 10.0.1.2", "route replace fd00:0:0:5::/64 via fd00:0:0:1::2",
	}, "\n")
	if got != want {
		t.Errorf("routes of a:\n%s\nwant:\n%s", got, want)
	}
	// r3 reaches link 1 (a—r1) in two hops either way; the first link
	// found wins: r3's link 4 to r2 comes before link 5 to b.
	got = strings.Join(autoRoutes(ns["r3"], tp.links), "\n")
	if !strings.Contains(got, "route replace 10.0.1.0/24 via 10.0.4.1") || !strings.Contains(got, "route replace 10.0.2.0/24 via 10.0.5.2") {
		t.Errorf("routes of r3:\n%s", got)
	}
}
