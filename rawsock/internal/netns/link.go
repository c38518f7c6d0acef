package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// A Link is a veth pair joining two namespaces. Link number i of a topology
// (from 1) has the networks 10.0.i.0/24 and fd00:0:0:i::/64; its A end has
// host address 1, its B end host address 2.
type Link struct {
	A, B       *Namespace
	AIf, BIf   string // interface names, "eth<n>" in each namespace
	AMAC, BMAC string // 02:72:73:00:<link number>:01 and :02
	Net4, Net6 netip.Prefix
	A4, B4     netip.Addr
	A6, B6     netip.Addr
}

// Addr returns the address of ns's end of the link, IPv4 or IPv6.
func (l *Link) Addr(ns *Namespace, v4 bool) netip.Addr {
	switch {
	case ns == l.A && v4:
		return l.A4
	case ns == l.A:
		return l.A6
	case v4:
		return l.B4
	default:
		return l.B6
	}
}

// Peer returns the namespace at the other end of the link from ns.
func (l *Link) Peer(ns *Namespace) *Namespace {
	if ns == l.A {
		return l.B
	}
	return l.A
}

// Connect joins a and b with a veth pair, addresses both ends, and sets
// them up, or ends the test.
func (tp *Topology) Connect(a, b *Namespace) *Link {
	tp.t.Helper()
	if a == nil || b == nil || a.tp != tp || b.tp != tp {
		tp.t.Fatalf("netns: connect %v and %v: %v", a, b, errNotSame)
	}
	l, err := tp.connect(a, b)
	if err != nil {
		tp.t.Fatalf("netns: connect %s and %s: %v", a.Label, b.Label, err)
	}
	return l
}

// connect does the work of Connect. a and b may belong to different
// topologies (the cleanup test links across them); the link counts in tp.
func (tp *Topology) connect(a, b *Namespace) (*Link, error) {
	if a == b {
		return nil, errors.New("a namespace cannot be linked to itself")
	}
	tp.mu.Lock()
	i := len(tp.links) + 1
	if i > 254 {
		tp.mu.Unlock()
		return nil, errors.New("more than 254 links")
	}
	n4 := netip.AddrFrom4([4]byte{10, 0, byte(i), 0})
	n6 := netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, byte(i)})
	l := &Link{
		A: a, B: b,
		AIf:  fmt.Sprintf("eth%d", len(a.links)),
		BIf:  fmt.Sprintf("eth%d", len(b.links)),
		Net4: netip.PrefixFrom(n4, 24),
		Net6: netip.PrefixFrom(n6, 64),
		A4:   hostAddr(n4, 1), B4: hostAddr(n4, 2),
		A6: hostAddr(n6, 1), B6: hostAddr(n6, 2),
	}
	tp.links = append(tp.links, l)
	tp.mu.Unlock()
	a.links = append(a.links, l)
	b.links = append(b.links, l)

	// The pair is made inside a with its peer sent straight to b, so it never
	// exists in the root namespace and eth<n> cannot clash with a real NIC
	// or another test's interface. The two ends get different ifindexes:
	// left to the kernel, both would often be 2, and linkwatch treats a
	// device whose ifindex equals its iflink (the peer's ifindex) as not
	// urgent, delaying its carrier-up by up to a second, and IPv6 on it with
	// that. nodad: no waiting for duplicate address detection (off anyway,
	// see baseSysctls).
	//
	// The MAC addresses are fixed, 02:72:73:00:<link>:<end> ("rs", locally
	// administered), and each end knows its peer's as a permanent neighbour
	// entry, in both families: no ARP or neighbour discovery ever delays or
	// loses the first packets of a test on a busy machine. Addresses on the
	// link that no end owns are still resolved, and fail, as usual.
	macA, macB := fmt.Sprintf("02:72:73:00:%02x:01", i), fmt.Sprintf("02:72:73:00:%02x:02", i)
	l.AMAC, l.BMAC = macA, macB
	err := a.ipBatch([]string{
		fmt.Sprintf("link add %s index %d address %s type veth peer name %s index %d address %s netns %s",
			l.AIf, 1000+2*i, macA, l.BIf, 1001+2*i, macB, b.Name),
		fmt.Sprintf("addr add %s/24 dev %s", l.A4, l.AIf),
		fmt.Sprintf("addr add %s/64 dev %s nodad", l.A6, l.AIf),
		fmt.Sprintf("link set %s up", l.AIf),
		fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", l.B4, macB, l.AIf),
		fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", l.B6, macB, l.AIf),
	})
	if err == nil {
		err = b.ipBatch([]string{
			fmt.Sprintf("addr add %s/24 dev %s", l.B4, l.BIf),
			fmt.Sprintf("addr add %s/64 dev %s nodad", l.B6, l.BIf),
			fmt.Sprintf("link set %s up", l.BIf),
			fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", l.A4, macA, l.BIf),
			fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", l.A6, macA, l.BIf),
		})
	}
	if err == nil {
		err = a.waitActive(l.AIf, 1000+2*i)
	}
	if err == nil {
		err = b.waitActive(l.BIf, 1001+2*i)
	}
	return l, err
}

// waitActive waits until the interface can send (see linkActive).
func (ns *Namespace) waitActive(name string, index int) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		err := ns.Do(func() (err error) {
			ok, err = linkActive(index)
			return err
		})
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s in %s: not operational after 20s", name, ns.Name)
		}
		time.Sleep(time.Millisecond)
	}
}

// hostAddr returns the address of host number h in the network n.
func hostAddr(n netip.Addr, h byte) netip.Addr {
	b := n.AsSlice()
	b[len(b)-1] = h
	a, _ := netip.AddrFromSlice(b)
	return a
}
