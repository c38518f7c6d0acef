package netns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

var (
	checkOnce sync.Once
	checkErr  error
)

// Check reports why namespaced topologies cannot be built here, or nil. It
// probes instead of trusting the uid: ip(8) must be in PATH, unshare(2) of a
// network namespace must succeed, and "ip netns add" plus a veth pair inside
// the new namespace must work. The answer is computed once per process.
func Check() error {
	checkOnce.Do(func() { checkErr = probe() })
	return checkErr
}

// Require skips t, with the reason, when Check fails.
func Require(t testing.TB) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("netns: %v", err)
	}
}

// CheckNft reports whether nft(8), needed by Loss, Dup and Nft, is missing.
func CheckNft() error {
	if _, err := exec.LookPath("nft"); err != nil {
		return fmt.Errorf("nft not found (apt-get install nftables): %v", err)
	}
	return nil
}

// probe does the work of Check; tests call it directly to see it fail.
func probe() error {
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("ip (iproute2) not found: %v", err)
	}
	if err := probeUnshare(); err != nil {
		return err
	}
	// Sequence 0 is never used by a Topology, and the name has the usual
	// shape, so a probe namespace left by a killed run is swept like others.
	name := nsName(0, "probe")
	setLive(name, true)
	defer setLive(name, false)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, strings.TrimSpace(string(out)))
	}
	defer removeNS(nsPath(name))
	out, err := exec.Command("ip", "-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip link add type veth: %v: %s (kernel without veth?)", err, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		return fmt.Errorf("kernel without IPv6: %v", err)
	}
	return nil
}
