//go:build linux

package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rawsock/rawsock/internal/socktest"
)

// netnsState is what the system shows of this package's namespaces.
func netnsState(t *testing.T) (files, listed, mounts []string) {
	t.Helper()
	ents, _ := os.ReadDir(netnsDir)
	for _, e := range ents {
		files = append(files, e.Name())
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed = append(listed, f[0])
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, netnsDir+"/") {
			mounts = append(mounts, line)
		}
	}
	return files, listed, mounts
}

// assertGone fails if any of names is still a file, a listed namespace or a
// mount.
func assertGone(t *testing.T, names []string) {
	t.Helper()
	files, listed, mounts := netnsState(t)
	for _, n := range names {
		if slices.Contains(files, n) {
			t.Errorf("%s still in %s", n, netnsDir)
		}
		if slices.Contains(listed, n) {
			t.Errorf("%s still in ip netns list", n)
		}
		for _, m := range mounts {
			if strings.Contains(m, "/"+n+" ") {
				t.Errorf("%s still mounted: %s", n, m)
			}
		}
	}
}

// waitExit waits for cmd with a bound and reports whether it ended.
func waitExit(cmd *exec.Cmd, d time.Duration) error {
	c := make(chan error, 1)
	go func() { c <- cmd.Wait() }()
	select {
	case err := <-c:
		return err
	case <-time.After(d):
		return errors.New("still running")
	}
}

// TestCleanup proves a topology leaves nothing: files, ip netns list
// entries and mounts are gone, processes started inside are killed, and the
// namespaces are really destroyed, which a veth end in a witness namespace
// of another topology shows by disappearing.
func TestCleanup(t *testing.T) {
	t.Parallel()
	witness := New(t).Host("witness")
	var names []string
	var cmds []*exec.Cmd
	var sawW *Link
	t.Run("topology", func(t *testing.T) {
		l := NewLine(t, 2)
		for _, ns := range []*Namespace{l.A, l.B, l.Routers[0], l.Routers[1]} {
			names = append(names, ns.Name)
		}
		// The same observation as assertGone sees the names while they live.
		files, listed, mounts := netnsState(t)
		for _, n := range names {
			if !slices.Contains(files, n) || !slices.Contains(listed, n) ||
				!slices.ContainsFunc(mounts, func(m string) bool { return strings.Contains(m, "/"+n+" ") }) {
				t.Fatalf("%s not visible: files %v, listed %v", n, files, listed)
			}
		}
		var err error
		if sawW, err = l.Topology.connect(witness, l.B); err != nil {
			t.Fatal(err)
		}
		cmd := l.A.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		cmd = exec.Command("sleep", "600")
		socktest.AsNobody(cmd)
		if err := l.Routers[0].Start(cmd); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	})
	if t.Failed() {
		return
	}
	assertGone(t, names)
	for _, cmd := range cmds {
		if err := waitExit(cmd, 5*time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("%v (pid %d): %v, want killed at cleanup", cmd.Args, cmd.Process.Pid, err)
		}
	}
	// B's namespace is destroyed only when nothing holds it any more; then
	// its veth pairs are deleted, the witness's end with them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := witness.run("", "ip", "link", "show", sawW.AIf); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of the witness survives: B's namespace was never destroyed", sawW.AIf)
		}
	}
}

// childReport is what TestHelperChild writes for its parent.
type childReport struct {
	Names []string
	Sleep int
}

// TestHelperChild is not a test: the tests below run it in a child process
// (RSNETNS_CHILD set) to build a topology and then fail, panic or hang.
func TestHelperChild(t *testing.T) {
	mode := os.Getenv("RSNETNS_CHILD")
	if mode == "" {
		return
	}
	l := NewLine(t, 1)
	cmd := l.A.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// ip netns exec takes a moment to join the namespace and exec sleep.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if id, err := statNS(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)); err == nil && id == l.A.id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sleep never entered A's namespace")
		}
	}
	rep := childReport{Names: []string{l.A.Name, l.Routers[0].Name, l.B.Name}, Sleep: cmd.Process.Pid}
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(os.Getenv("RSNETNS_OUT"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "hang":
		fmt.Println("ready")
		time.Sleep(time.Minute)
	}
}

func startChild(t *testing.T, mode string) (*exec.Cmd, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChild$", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), "RSNETNS_CHILD="+mode, "RSNETNS_OUT="+out)
	return cmd, out
}

func readReport(t *testing.T, path string) childReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("child wrote no report: %v", err)
	}
	var rep childReport
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Names) != 3 || rep.Sleep <= 0 {
		t.Fatalf("bad report %q: %v", b, err)
	}
	return rep
}

// alive reports whether pid runs inside one of this package's namespaces
// (a zombie, or a pid reused by an unrelated process, does not count).
func aliveInNS(pid int) bool {
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return false
	}
	root, _ := os.Readlink("/proc/thread-self/ns/net")
	return link != root
}

// TestCleanupAfterFailure proves cleanup runs when a test fails or panics:
// a child test process builds a line, starts a process in it, and fails.
// Not parallel, like TestSweep: a child's own first sweep must not race the
// parent's.
func TestCleanupAfterFailure(t *testing.T) {
	Require(t)
	for _, mode := range []string{"fail", "panic"} {
		t.Run(mode, func(t *testing.T) {
			cmd, path := startChild(t, mode)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("child passed:\n%s", out)
			}
			if !strings.Contains(string(out), "on purpose") {
				t.Fatalf("child did not get to fail:\n%s", out)
			}
			rep := readReport(t, path)
			assertGone(t, rep.Names)
			if aliveInNS(rep.Sleep) {
				t.Errorf("process %d started in the child's namespace survived", rep.Sleep)
			}
		})
	}
}

// TestParallelTopologies builds several lines at once with the same labels:
// names stay unique and each line works.
func TestParallelTopologies(t *testing.T) {
	Require(t)
	t.Parallel()
	var mu sync.Mutex
	names := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				l := NewLine(t, 1)
				mu.Lock()
				for _, ns := range []*Namespace{l.A, l.Routers[0], l.B} {
					if names[ns.Name] {
						t.Errorf("name %s used twice", ns.Name)
					}
					names[ns.Name] = true
				}
				mu.Unlock()
				a := socketIn(t, l.A, unix.SOCK_DGRAM, 0, l.A.Addr4(), 0)
				b := socketIn(t, l.B, unix.SOCK_DGRAM, 0, l.B.Addr4(), 0)
				if err := unix.Sendto(a, []byte{byte(i)}, 0, sockaddr(l.B.Addr4(), localPort(t, b))); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 8)
				if n, _, err := recvfrom(b, buf); err != nil || n != 1 || buf[0] != byte(i) {
					t.Fatalf("got %v %v\n%s", buf[:max(n, 0)], err, l.Dump())
				}
			})
		}
	})
	if len(names) != 12 && !t.Failed() {
		t.Errorf("%d names for 4 lines of 3", len(names))
	}
}
