//go:build linux

package netns

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rawsock/rawsock/internal/socktest"
)

// TestProbe proves the probe reports a missing ip(8) by name.
func TestProbe(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if err := probe(); err == nil || !strings.Contains(err.Error(), "ip (iproute2) not found") {
		t.Errorf("probe without ip in PATH: %v", err)
	}
}

// TestUnprivilegedSkips proves that without CAP_SYS_ADMIN the probe fails
// and tests skip with the reason. As root it runs itself again as nobody.
func TestUnprivilegedSkips(t *testing.T) {
	if os.Geteuid() == 0 && os.Getenv("RSNETNS_UNPRIV") == "" {
		cmd := socktest.NobodyCommand(t, "-test.run=^TestUnprivilegedSkips$", "-test.v")
		cmd.Env = append(os.Environ(), "RSNETNS_UNPRIV=1")
		stdout, stderr, code := socktest.RunNobody(t, cmd)
		out := stdout + stderr
		if code != 0 || !strings.Contains(out, "--- SKIP: TestUnprivilegedSkips/line") ||
			!strings.Contains(out, "CAP_SYS_ADMIN") {
			t.Fatalf("as nobody: exit status %d\n%s", code, out)
		}
		t.Logf("as nobody:\n%s", out)
		return
	}
	if hasCapSysAdmin(t) {
		t.Skip("this process has CAP_SYS_ADMIN: nothing to prove here")
	}
	if err := Check(); err == nil {
		t.Fatal("Check passed without CAP_SYS_ADMIN")
	} else {
		t.Logf("Check: %v", err)
	}
	ran := false
	sub := t.Run("line", func(t *testing.T) {
		NewLine(t, 1)
		ran = true
	})
	if ran || !sub {
		t.Errorf("NewLine did not skip without privilege")
	}
}

func hasCapSysAdmin(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<unix.CAP_SYS_ADMIN) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}
