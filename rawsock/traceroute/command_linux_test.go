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
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
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
	var out socktest.SyncBuffer
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

// TestCommandMatchesTraceroute runs the rawsock binary and the system's
// traceroute (Debian's 2.1) with the same arguments in A, through three
// routers whose last two links have MTUs 1400 and 1300, and compares their
// output, times aside. In the first line r2 sends no time exceeded (hop 2
// is silent); the second line has every router answering, for --mtu with
// one probe in flight. The adaptive waits use large factors, so that a
// loaded machine's slow answers cannot make either tool print '*'.
func TestCommandMatchesTraceroute(t *testing.T) {
	t.Parallel()
	sys, err := exec.LookPath("traceroute")
	if err != nil {
		t.Skipf("no system traceroute to compare with: %v", err)
	}
	if err := netns.CheckNft(); err != nil {
		t.Skipf("no nft(8) to silence a router: %v", err)
	}
	bin := buildCommand(t)
	mtuLine := func() *netns.Line {
		l := newLine(t)
		for i, mtu := range map[int]string{2: "1400", 3: "1300"} {
			lk := l.Links[i]
			lk.A.IP("link", "set", lk.AIf, "mtu", mtu)
			lk.B.IP("link", "set", lk.BIf, "mtu", mtu)
		}
		return l
	}
	silent, plain := mtuLine(), mtuLine()
	silent.Routers[1].Nft(`table inet rstest_silent {
	chain out {
		type filter hook output priority 0; policy accept;
		icmp type time-exceeded drop
		icmpv6 type time-exceeded drop
	}
}`)
	const w = "5,100,1000"
	times := regexp.MustCompile(`\d+\.\d{3} ms`)
	for _, tc := range []struct {
		l    *netns.Line
		args []string
	}{
		{silent, []string{"-n", "-w", w, silent.B.Addr4().String()}},
		{silent, []string{"-n", "-I", "-w", w, silent.B.Addr6().String()}},
		{silent, []string{"-n", "-T", "-w", w, silent.B.Addr4().String()}},
		{silent, []string{"-n", "-q", "1", "-z", "20", "-w", w, silent.B.Addr4().String()}},
		{silent, []string{"-n", "-F", "-w", w, silent.B.Addr4().String(), "1450"}},
		{silent, []string{"-n", "-F", "-w", w, silent.B.Addr6().String(), "1600"}},
		{silent, []string{"-n", "-q", "1", "-i", silent.Links[0].AIf, "-w", w, silent.B.Addr4().String(), "10"}},
		{plain, []string{"-n", "--mtu", "-w", w, plain.B.Addr4().String()}},
		{plain, []string{"-n", "-I", "--mtu", "-w", w, plain.B.Addr6().String()}},
		{plain, []string{"-n", "-w", "0", plain.B.Addr4().String()}},
		{plain, []string{"-n", "-f", "2", "-m", "3", "-w", w, plain.B.Addr4().String()}},
		{plain, []string{"-n", "-p", "40000", "-q", "2", "-N", "1", "-w", w, plain.B.Addr6().String()}},
		{plain, []string{"-n", "-I", "-q", "5", "-w", w, plain.B.Addr4().String()}},
		{plain, []string{"-n", "-T", "-p", "8080", "-w", w, plain.B.Addr6().String()}},
		{silent, []string{"-n", "-U", "-w", w, silent.B.Addr4().String()}},
		{plain, []string{"-n", "-U", "-p", "8080", "-q", "2", "-w", w, plain.B.Addr6().String()}},
	} {
		// Each tool starts from the same path-MTU state: a run leaves the
		// MTUs it learned in the route cache, and the next run's -F probes
		// then meet a local refusal instead of a router's answer.
		run := func(name string, args ...string) ([]byte, error) {
			tc.l.A.IP("route", "flush", "cache")
			tc.l.A.IP("-6", "route", "flush", "cache")
			return tc.l.A.Command(name, args...).CombinedOutput()
		}
		// On a loaded machine an answer can cross a probe's deadline in
		// one run and not in the other: a difference must show twice.
		for try := 1; ; try++ {
			want, err := run(sys, tc.args...)
			if err != nil {
				t.Errorf("traceroute %q: %v\n%s", tc.args, err, want)
				break
			}
			got, err := run(bin, append([]string{"traceroute"}, tc.args...)...)
			if err != nil {
				t.Errorf("rawsock traceroute %q: %v\n%s", tc.args, err, got)
				break
			}
			g, w := times.ReplaceAll(got, []byte("X ms")), times.ReplaceAll(want, []byte("X ms"))
			if bytes.Equal(g, w) {
				t.Logf("%s\n%s", strings.Join(tc.args, " "), got)
				break
			}
			if try == 1 {
				t.Logf("%q: the outputs differ; running both again\nrawsock:\n%s\ntraceroute:\n%s", tc.args, got, want)
				continue
			}
			t.Errorf("%q: rawsock printed\n%s\ntraceroute printed\n%s", tc.args, got, want)
			break
		}
	}
}
