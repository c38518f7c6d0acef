package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Prefix starts the name of every namespace this package makes; Sweep only
// ever removes names that start with it.
const Prefix = "rsnetns-"

const netnsDir = "/run/netns"

var (
	seq  atomic.Uint64 // namespace numbers; 0 is the probe's
	live = struct {
		sync.Mutex
		names map[string]bool
	}{names: map[string]bool{}}
	sweepOnce sync.Once
)

// nsName is "rsnetns-PID-SEQ-LABEL": unique per process by SEQ and across
// processes by PID; LABEL is only for people reading "ip netns list".
func nsName(n uint64, label string) string {
	var b strings.Builder
	for _, r := range label {
		if b.Len() == 12 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		}
	}
	return fmt.Sprintf("%s%d-%d-%s", Prefix, os.Getpid(), n, b.String())
}

func nsPath(name string) string { return netnsDir + "/" + name }

// setLive records the names this process owns, so that Sweep, seeing its own
// pid on a name it does not own, knows an earlier process with the same pid
// left it.
func setLive(name string, on bool) {
	live.Lock()
	defer live.Unlock()
	if on {
		live.names[name] = true
	} else {
		delete(live.names, name)
	}
}

func isLive(name string) bool {
	live.Lock()
	defer live.Unlock()
	return live.names[name]
}

// A Topology is the set of namespaces and links one test builds. Its
// cleanup, registered with t.Cleanup by New, kills every process left inside
// its namespaces and deletes them, which also destroys their veths.
type Topology struct {
	t      testing.TB
	ctx    context.Context // ends Command processes at cleanup
	cancel context.CancelFunc

	mu     sync.Mutex
	nss    []*Namespace
	links  []*Link
	nrules int
}

// New returns an empty topology owned by t, or skips t with the reason when
// namespaces cannot be made here (see Check). The first call in a process
// also sweeps stale namespaces (see Sweep).
func New(t testing.TB) *Topology {
	t.Helper()
	Require(t)
	sweepOnce.Do(func() {
		removed, err := Sweep()
		if len(removed) > 0 {
			t.Logf("netns: swept stale namespaces %v", removed)
		}
		if err != nil {
			t.Logf("netns: sweep: %v", err)
		}
	})
	tp := &Topology{t: t}
	tp.ctx, tp.cancel = context.WithCancel(context.Background())
	t.Cleanup(tp.cleanup)
	return tp
}

// Host adds a namespace with loopback up and no forwarding.
func (tp *Topology) Host(label string) *Namespace {
	tp.t.Helper()
	ns, err := tp.add(label, false)
	if err != nil {
		tp.t.Fatalf("netns: host %q: %v", label, err)
	}
	return ns
}

// Router adds a namespace with loopback up and IPv4 and IPv6 forwarding on.
func (tp *Topology) Router(label string) *Namespace {
	tp.t.Helper()
	ns, err := tp.add(label, true)
	if err != nil {
		tp.t.Fatalf("netns: router %q: %v", label, err)
	}
	return ns
}

// baseSysctls are set in every namespace before it has any interface, so the
// "default" values reach the veths made later.
var baseSysctls = [][2]string{
	{"net.ipv6.conf.all.accept_dad", "0"},
	{"net.ipv6.conf.default.accept_dad", "0"},
	{"net.ipv4.icmp_ratelimit", "0"},
	{"net.ipv6.icmp.ratelimit", "0"},
	// icmp_global_allow spends credits whatever icmp_ratelimit says; 0
	// would mean no credit at all. 1e6 times HZ still fits in an int.
	{"net.ipv4.icmp_msgs_per_sec", "1000000"},
	{"net.ipv4.icmp_msgs_burst", "1000000"},
	// Take ICMPv4 errors out of the per-destination token bucket: with
	// icmp_ratelimit 0 each error empties it, and the errors of unreachable
	// and prohibit routes (ip_error) draw on it too, so an unreachable sent
	// within a second of a time-exceeded to the same host was never sent.
	{"net.ipv4.icmp_ratemask", "0"},
}

var routerSysctls = [][2]string{
	{"net.ipv4.ip_forward", "1"},
	{"net.ipv6.conf.all.forwarding", "1"},
}

func (tp *Topology) add(label string, router bool) (*Namespace, error) {
	name := nsName(seq.Add(1), label)
	ns := &Namespace{Name: name, Label: label, Router: router, tp: tp, fd: -1}
	setLive(name, true) // before it exists, so no concurrent Sweep takes it
	tp.mu.Lock()
	tp.nss = append(tp.nss, ns) // before it exists, so cleanup removes a half-made one
	tp.mu.Unlock()
	if out, err := runOut(nil, "", "ip", "netns", "add", name); err != nil {
		return nil, fmt.Errorf("%v%s", err, out)
	}
	fd, id, err := openNS(nsPath(name))
	if err != nil {
		return nil, err
	}
	ns.mu.Lock()
	ns.fd, ns.id = fd, id
	ns.mu.Unlock()
	sysctls := baseSysctls
	if router {
		sysctls = append(sysctls[:len(sysctls):len(sysctls)], routerSysctls...)
	}
	return ns, ns.Do(func() error {
		for _, kv := range sysctls {
			if err := writeSysctl(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return linkUp("lo")
	})
}

// cleanup ends every process inside the topology's namespaces, then deletes
// the namespaces. Failures are test errors: a leak is a bug.
func (tp *Topology) cleanup() {
	tp.cancel()
	tp.mu.Lock()
	nss := tp.nss
	tp.nss = nil
	tp.mu.Unlock()
	ids := map[nsID]bool{}
	for _, ns := range nss {
		ns.mu.RLock()
		if ns.fd >= 0 {
			ids[ns.id] = true
		}
		ns.mu.RUnlock()
	}
	if killed, left := killIn(ids, 5*time.Second); len(left) > 0 {
		tp.t.Errorf("netns: processes %v still inside the test namespaces after SIGKILL", left)
	} else if len(killed) > 0 {
		tp.t.Logf("netns: killed processes %v left inside the test namespaces", killed)
	}
	var errs []error
	for _, ns := range nss {
		ns.mu.Lock()
		if ns.fd >= 0 {
			closeFD(ns.fd)
			ns.fd = -1
		}
		ns.mu.Unlock()
		if err := removeNS(nsPath(ns.Name)); err != nil {
			errs = append(errs, err)
		} else {
			setLive(ns.Name, false)
		}
	}
	if err := errors.Join(errs...); err != nil {
		tp.t.Errorf("netns: cleanup: %v", err)
	}
}

// Dump returns, for each namespace, its links with their counters, addresses,
// neighbours, routes, nftables ruleset and SNMP counters: what a failing test
// should log to say where packets went.
func (tp *Topology) Dump() string {
	tp.mu.Lock()
	nss := append([]*Namespace(nil), tp.nss...)
	tp.mu.Unlock()
	var b strings.Builder
	for _, ns := range nss {
		fmt.Fprintf(&b, "=== %s (%s)\n", ns.Label, ns.Name)
		for _, args := range [][]string{
			{"ip", "-s", "-o", "link"},
			{"ip", "-o", "addr"},
			{"ip", "neigh"},
			{"ip", "route"},
			{"ip", "-6", "route"},
			{"nft", "list", "ruleset"},
			{"nstat", "-asz"},
		} {
			out, err := ns.run("", args[0], args[1:]...)
			if err != nil {
				out = err.Error() + "\n"
			}
			fmt.Fprintf(&b, "--- %s\n%s", strings.Join(args, " "), out)
		}
	}
	return b.String()
}
