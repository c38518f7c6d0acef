package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawsock/rawsock/internal/socktest"
)

// testNS is a network namespace of the test's own (ip-netns(8)), with lo
// up, deleted at cleanup. rawsock/internal/netns does this and more for the
// packages under rawsock/, but Go's internal rule keeps it from cmd/.
type testNS struct {
	name string
}

var testNSSeq atomic.Uint64

// newTestNS makes a namespace, or skips t with the reason.
func newTestNS(t *testing.T, label string) *testNS {
	t.Helper()
	socktest.NeedRaw(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("needs ip(8) to make a network namespace: %v", err)
	}
	ns := &testNS{name: fmt.Sprintf("rssniff-%d-%d-%s", os.Getpid(), testNSSeq.Add(1), label)}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace (needs CAP_SYS_ADMIN): ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.name, err, out)
		}
	})
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

// ip runs "ip -n NS args...", or ends the test.
func (ns *testNS) ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns.name}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns.name, strings.Join(args, " "), err, out)
	}
}

// start starts cmd inside the namespace: ip netns exec runs it there, in
// its own process (it execs), so cmd.Process is the command itself.
func (ns *testNS) start(cmd *exec.Cmd) error {
	ip, err := exec.LookPath("ip")
	if err != nil {
		return err
	}
	cmd.Args = append([]string{"ip", "netns", "exec", ns.name, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = ip
	return cmd.Start()
}

// do runs f on a locked OS thread that has joined the namespace; sockets f
// opens stay in it. The thread is not unlocked, so it dies with f's
// goroutine and no other code ever runs in the namespace.
func (ns *testNS) do(f func() error) error {
	c := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			c <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			c <- os.NewSyscallError("setns", err)
			return
		}
		c <- f()
	}()
	return <-c
}

// nsLink is a veth pair between two namespaces, addressed 10.9.0.1/24 and
// 10.9.0.2/24 (inside the test's namespaces only).
type nsLink struct {
	aIf, bIf string
	a4, b4   string
}

func connectNS(t *testing.T, a, b *testNS) nsLink {
	t.Helper()
	l := nsLink{aIf: "veth-a", bIf: "veth-b", a4: "10.9.0.1", b4: "10.9.0.2"}
	a.ip(t, "link", "add", l.aIf, "type", "veth", "peer", "name", l.bIf, "netns", b.name)
	a.ip(t, "addr", "add", l.a4+"/24", "dev", l.aIf)
	b.ip(t, "addr", "add", l.b4+"/24", "dev", l.bIf)
	a.ip(t, "link", "set", l.aIf, "up")
	b.ip(t, "link", "set", l.bIf, "up")
	// No ARP in the captures: each end knows the other's address.
	a.ip(t, "neigh", "replace", l.b4, "lladdr", mac(t, b, l.bIf), "dev", l.aIf, "nud", "permanent")
	b.ip(t, "neigh", "replace", l.a4, "lladdr", mac(t, a, l.aIf), "dev", l.bIf, "nud", "permanent")
	// Until linkwatch has marked both ends up (and given them a qdisc),
	// what they are given to send is dropped.
	for _, e := range []struct {
		ns *testNS
		If string
	}{{a, l.aIf}, {b, l.bIf}} {
		deadline := time.Now().Add(10 * time.Second)
		for sysfs(t, e.ns, e.If, "operstate") != "up" {
			if time.Now().After(deadline) {
				t.Fatalf("%s in %s is not up after 10 s", e.If, e.ns.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return l
}

func mac(t *testing.T, ns *testNS, ifname string) string { return sysfs(t, ns, ifname, "address") }

// sysfs reads an interface's attribute in ns (/sys/class/net/IF/ATTR).
func sysfs(t *testing.T, ns *testNS, ifname, attr string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns.name, "cat", "/sys/class/net/"+ifname+"/"+attr).Output()
	if err != nil {
		t.Fatalf("%s of %s in %s: %v", attr, ifname, ns.name, err)
	}
	return strings.TrimSpace(string(out))
}
