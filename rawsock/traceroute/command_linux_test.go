package traceroute

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/internal/netns"
)

// TestCommandAcrossHops runs the rawsock binary itself in A (cmd cannot
// reach netns, internal to rawsock): its output through the three routers
// is traceroute's, line for line.
func TestCommandAcrossHops(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	routeErrors(l)
	bin := buildCommand(t)
	h4, h6 := l.Hops4, l.Hops6
	hop := func(n int, addr string, mark string) string {
		return ` ` + string(rune('0'+n)) + `  ` + regexp.QuoteMeta(addr) + strings.Repeat(`  \d+\.\d{3} ms`+mark, 3) + `\n`
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "-w", "1", l.B.Addr4().String()},
			`traceroute to 10\.0\.4\.2 \(10\.0\.4\.2\), 30 hops max, 60 byte packets\n` +
				hop(1, h4[0].String(), "") + hop(2, h4[1].String(), "") + hop(3, h4[2].String(), "") + hop(4, h4[3].String(), "")},
		{[]string{"-n", "-I", "-w", "1", "-m", "8", l.B.Addr6().String()},
			`traceroute to fd00:0:0:4::2 \(fd00:0:0:4::2\), 8 hops max, 80 byte packets\n` +
				hop(1, h6[0].String(), "") + hop(2, h6[1].String(), "") + hop(3, h6[2].String(), "") + hop(4, h6[3].String(), "")},
		{[]string{"-nT", "-p", "8080", "-w1", l.B.Addr4().String()},
			`traceroute to 10\.0\.4\.2 \(10\.0\.4\.2\), 30 hops max, 60 byte packets\n` +
				hop(1, h4[0].String(), "") + hop(2, h4[1].String(), "") + hop(3, h4[2].String(), "") + hop(4, h4[3].String(), "")},
		{[]string{"-n", "-N", "3", "-w", "1", l.Unreachable4.String()},
			`traceroute to 10\.255\.0\.1 \(10\.255\.0\.1\), 30 hops max, 60 byte packets\n` +
				hop(1, h4[0].String(), "") + hop(2, h4[1].String(), "") + hop(3, h4[2].String(), " !H")},
	} {
		out, err := l.A.Command(bin, append([]string{"traceroute"}, tc.args...)...).CombinedOutput()
		if err != nil {
			t.Errorf("rawsock traceroute %q: %v\n%s", tc.args, err, out)
			continue
		}
		if !regexp.MustCompile(`^` + tc.want + `$`).Match(out) {
			t.Errorf("rawsock traceroute %q printed\n%s\nwant it to match\n%s", tc.args, out, tc.want)
		} else {
			t.Logf("rawsock traceroute %s\n%s", strings.Join(tc.args, " "), out)
		}
	}
}

// buildCommand builds cmd/rawsock into the test's temporary directory.
func buildCommand(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command in PATH to build rawsock: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "rawsock")
	cmd := exec.Command(gobin, "build", "-o", bin, "../../cmd/rawsock")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/rawsock: %v\n%s", err, out)
	}
	return bin
}

// TestCommandInterrupt: Ctrl-C stops a trace waiting on silent hops (r1
// drops everything to a blackholed network): the header and exit status
// 130, at once.
func TestCommandInterrupt(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 1)
	l.Routers[0].RouteType("blackhole", netip.MustParsePrefix("10.253.0.0/24"))
	bin := buildCommand(t)
	cmd := l.A.Command(bin, "traceroute", "-n", "-w", "30", "10.253.0.1")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait for the header: the probes are out.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "byte packets\n"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no header within 10 s: %q", out.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit: %v, want status 130", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after Ctrl-C")
	}
	if want := "traceroute to 10.253.0.1 (10.253.0.1), 30 hops max, 60 byte packets\n"; out.String() != want {
		t.Errorf("output %q, want only the header", out.String())
	}
}

// syncBuffer is a bytes.Buffer a child process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
