// Package netns builds test topologies out of Linux network namespaces:
// hosts and routers joined by veth pairs, with IPv4 and IPv6 addresses and
// routes, packet loss and duplication by nftables rules, and sysctls set per
// namespace. Everything a Topology creates is removed by t.Cleanup, even when
// the test fails or panics; Sweep removes what a killed test run left behind.
//
// A test asks for a topology and skips, with the reason, where namespaces
// cannot be made (not root, no CAP_SYS_ADMIN, no ip(8), no netns support):
//
//	l := netns.NewLine(t, 3) // A — r1 — r2 — r3 — B
//	var c int
//	err := l.A.Do(func() (err error) {
//		c, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
//		return err
//	})
//	// c lives in A's namespace for good and may be used from any goroutine.
//	out, err := l.A.Command("rawsock", "ping", "-c", "3", l.B.Addr4().String()).CombinedOutput()
//
// Namespaces are named "rsnetns-PID-SEQ-LABEL" in /run/netns (ip-netns(8)),
// so a test binary's namespaces never collide with another's, and the pid
// tells Sweep which ones are stale. Interfaces are named eth0, eth1, ... in
// each namespace, in the order Connect made them.
//
// Configuration runs ip(8) (iproute2) and nft(8) (nftables) forked from a
// thread inside the namespace. Every namespace gets ICMP rate limiting off
// (net.ipv4.icmp_ratelimit=0, net.ipv6.icmp.ratelimit=0, a large
// icmp_msgs_per_sec and icmp_msgs_burst) so that fast traceroute and ping
// tests see every error, and IPv6 duplicate address detection off so that
// addresses work at once. Routers also get net.ipv4.ip_forward=1 and
// net.ipv6.conf.all.forwarding=1.
//
// Links are made ready before Connect returns: fixed MAC addresses
// (02:72:73:00:LINK:END) with permanent neighbour entries for the peer, so no
// ARP or neighbour discovery delays or loses a test's first packets, and a
// wait for the kernel's linkwatch to attach the qdisc of the end that came up
// first (until then it drops what it is given to send).
//
// A panic or t.FailNow in the test goroutine still runs the cleanup; a panic
// in another goroutine, a -timeout, or a kill does not, and the next test
// process's Sweep removes what was left.
//
// Setup methods (Host, Router, Connect, Route, Sysctl, Loss, Dup, ...) must be
// called from the test goroutine: they end the test with t.Fatalf on error.
// Do, Start and Command may be used from any goroutine.
//
// Read ip-netns(8), ip-link(8), ip-route(8), veth(4), nft(8), setns(2) and
// the ip-sysctl kernel documentation.
package netns
