//go:build linux

package netns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestSweep kills a child test process that holds a topology (SIGKILL: no
// cleanup can run) and proves Sweep removes its namespaces and the process
// left in one, while keeping live ones: this process's, and a name carrying
// a pid that exists (1). A name with this process's pid that it did not make
// (a reused pid) is stale.
func TestSweep(t *testing.T) {
	Require(t)
	cmd, path := startChild(t, "hang")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child never got ready")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	rep := readReport(t, path)
	if !aliveInNS(rep.Sleep) {
		t.Fatalf("process %d in the killed child's namespace is not there to sweep", rep.Sleep)
	}

	mine := New(t).Host("mine")
	keep := fmt.Sprintf("%s1-%d-keep", Prefix, os.Getpid()) // pid 1 exists
	reused := nsName(1<<40, "reused")                       // this pid, not made by this process
	for _, n := range []string{keep, reused} {
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v %s", n, err, out)
		}
		t.Cleanup(func() { removeNS(nsPath(n)) })
	}

	// Another test process on the machine may sweep the child's namespaces
	// first: the same code, so they only have to be gone.
	files, _, _ := netnsState(t)
	present := map[string]bool{}
	for _, f := range files {
		present[f] = true
	}
	removed, err := Sweep()
	if err != nil {
		t.Error(err)
	}
	want := append([]string{reused}, rep.Names...)
	for _, n := range want {
		found := false
		for _, r := range removed {
			found = found || r == n
		}
		if !found && present[n] {
			t.Errorf("Sweep did not remove %s (removed %v)", n, removed)
		} else if !found {
			t.Logf("%s was swept by another process", n)
		}
	}
	for _, r := range removed {
		if r == keep || r == mine.Name {
			t.Errorf("Sweep removed %s, which is not stale", r)
		}
	}
	assertGone(t, want)
	if _, err := os.Stat(nsPath(keep)); err != nil {
		t.Errorf("%s: %v", keep, err)
	}
	if err := mine.Do(func() error { return nil }); err != nil {
		t.Errorf("live namespace harmed by Sweep: %v", err)
	}
	if aliveInNS(rep.Sleep) {
		t.Errorf("process %d inside a swept namespace survived", rep.Sleep)
	}
}
