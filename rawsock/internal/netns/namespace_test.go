//go:build linux

package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
)

// TestSysctl proves the per-namespace sysctls: set where asked and nowhere
// else, and the ones the helper sets itself.
func TestSysctl(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 1)
	root, err := readSysctl("net.ipv4.ping_group_range")
	if err != nil {
		t.Fatal(err)
	}
	l.A.Sysctl("net.ipv4.ping_group_range", "100 200")
	if got := l.A.ReadSysctl("net.ipv4.ping_group_range"); got != "100\t200" {
		t.Errorf("A: ping_group_range %q, want \"100\\t200\"", got)
	}
	if got := l.B.ReadSysctl("net/ipv4/ping_group_range"); got == "100\t200" {
		t.Errorf("B sees A's ping_group_range")
	}
	if now, _ := readSysctl("net.ipv4.ping_group_range"); now != root {
		t.Errorf("root namespace ping_group_range changed from %q to %q", root, now)
	}
	for _, c := range []struct {
		ns   *Namespace
		key  string
		want string
	}{
		{l.Routers[0], "net.ipv4.ip_forward", "1"},
		{l.Routers[0], "net.ipv6.conf.all.forwarding", "1"},
		{l.Routers[0], "net.ipv6.conf.eth1.forwarding", "1"},
		{l.A, "net.ipv4.ip_forward", "0"},
		{l.A, "net.ipv6.conf.all.forwarding", "0"},
		{l.A, "net.ipv4.icmp_ratelimit", "0"},
		{l.B, "net.ipv6.icmp.ratelimit", "0"},
		{l.Routers[0], "net.ipv4.icmp_msgs_burst", "1000000"},
		{l.Routers[0], "net.ipv6.conf.eth0.accept_dad", "0"},
	} {
		if got := c.ns.ReadSysctl(c.key); got != c.want {
			t.Errorf("%s: %s = %q, want %q", c.ns.Label, c.key, got, c.want)
		}
	}
	if up := l.B.IP("-o", "link", "show", "lo"); !strings.Contains(up, "UP") {
		t.Errorf("loopback not up in B: %s", up)
	}
}

// TestCommandAndStart proves both ways of running a binary inside a
// namespace, the second as an unprivileged user.
func TestCommandAndStart(t *testing.T) {
	t.Parallel()
	tp := New(t)
	ns := tp.Host("h")
	want := fmt.Sprintf("net:[%d]", ns.id.ino)

	out, err := ns.Command("readlink", "/proc/self/ns/net").Output()
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("Command: %q %v, want %s", out, err, want)
	}

	cmd := exec.Command("sh", "-c", "id -u; readlink /proc/self/ns/net")
	socktest.AsNobody(cmd)
	var buf strings.Builder
	cmd.Stdout = &buf
	if err := ns.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "65534\n"+want+"\n" {
		t.Errorf("Start as nobody: %q, want uid 65534 in %s", got, want)
	}
}

// threadsOutside lists this process's threads that are not in the root
// network namespace.
func threadsOutside(t *testing.T) []string {
	// This goroutine's thread never joins a namespace; the main thread
	// (/proc/self) might, if Do let it.
	root, err := statNS("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if id, err := statNS("/proc/self/task/" + e.Name() + "/ns/net"); err == nil && id != root {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestDoThreads proves that no thread stays behind in a namespace once Do
// returns (so no goroutine is ever scheduled there), that panics and
// Goexit inside f reach the caller, and that Do after cleanup is an error.
// Not parallel: it looks at every thread of the process.
func TestDoThreads(t *testing.T) {
	Require(t)
	var gone *Namespace
	t.Run("build", func(t *testing.T) {
		tp := New(t)
		ns := tp.Host("h")
		gone = ns
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ns.Do(func() error { runtime.Gosched(); return nil }); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// The locked threads exit just after their goroutines; give them time.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			left := threadsOutside(t)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("threads %v still in another network namespace after Do returned", left)
			}
		}

		sentinel := errors.New("from f")
		if err := ns.Do(func() error { return sentinel }); err != sentinel {
			t.Errorf("Do returned %v, want f's error", err)
		}
		for _, c := range []struct {
			name string
			f    func() error
			want string
		}{
			{"panic", func() error { panic("boom") }, "boom"},
			{"goexit", func() error { runtime.Goexit(); return nil }, "Goexit"},
		} {
			func() {
				defer func() {
					p := recover()
					if s, _ := p.(string); !strings.Contains(s, c.want) || !strings.Contains(s, "panic in "+ns.Name) {
						t.Errorf("%s: recovered %v, want a panic naming %q", c.name, p, c.want)
					}
				}()
				ns.Do(c.f)
				t.Errorf("%s: Do returned", c.name)
			}()
		}
	})
	if err := gone.Do(func() error { return nil }); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("Do after cleanup: %v, want an error saying the namespace is gone", err)
	}
}
