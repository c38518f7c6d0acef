//go:build linux

package netns

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

// TestBadInput checks that bad arguments are one-line errors naming the
// cause, without touching the system.
func TestBadInput(t *testing.T) {
	ns := &Namespace{Name: "x", tp: &Topology{}}
	router := &Namespace{Name: "y", Router: true, tp: &Topology{}}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"percent<0", errOf(ns.loss(-1, "icmp type echo-request")), "outside 0..100"},
		{"percent>100", errOf(ns.loss(101, "icmp type echo-request")), "outside 0..100"},
		{"empty match", errOf(ns.loss(30, " ")), "empty match"},
		{"two statements", errOf(ns.loss(30, "udp; flush ruleset")), "one nft expression"},
		{"dup on a host", errOf(ns.dup("icmp type echo-reply", netip.MustParseAddr("10.0.1.1"))), "not a router"},
		{"dup empty match", errOf(router.dup("", netip.MustParseAddr("10.0.1.1"))), "empty match"},
		{"sysctl ..", errOf(sysctlPath("net/../../etc/passwd")), "bad sysctl name"},
		{"self link", errOf(ns.tp.connect(ns, ns)), "itself"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || strings.Contains(c.err.Error(), "\n") {
			t.Errorf("%s: %v, want one line containing %q", c.name, c.err, c.want)
		}
	}
	for name, want := range map[string]int{
		Prefix + "123-4-a":  123,
		Prefix + "123-4-":   123,
		Prefix + "123":      0,
		Prefix + "x-4-a":    0,
		Prefix + "-1-4-a":   0,
		"rsnetns123-4-a":    0,
		"other-123-4-a":     0,
		nsName(7, "a b/c!"): os.Getpid(),
	} {
		if pid, _ := namePID(name); pid != want {
			t.Errorf("namePID(%q) = %d, want %d", name, pid, want)
		}
	}
	if p, _ := sysctlPath("net.ipv4.ip_forward"); p != "/proc/sys/net/ipv4/ip_forward" {
		t.Errorf("sysctlPath: %s", p)
	}
}

func errOf[T any](_ T, err error) error { return err }
