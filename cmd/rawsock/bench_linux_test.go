package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/echobench"
)

func TestBenchBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "want 'echo'"},
		{[]string{"tcp"}, "want 'echo'"},
		{[]string{"echo", "--servers", "net,apache"}, `unknown server "apache"`},
		{[]string{"echo", "--conns", "1,x"}, `--conns: "x" is not a positive number`},
		{[]string{"echo", "--duration", "0s"}, "must be positive"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runBench(tc.args, &stdout, &stderr); code != 2 {
			t.Errorf("bench %q: exit status %d, want 2", tc.args, code)
		}
		if got := stderr.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, tc.want) {
			t.Errorf("bench %q: stderr %q, want one line containing %q", tc.args, got, tc.want)
		}
	}
}

// TestBenchSmoke runs "rawsock bench echo" for real, with tiny durations:
// every server that can be built starts, is measured, and holds the --big
// connections with every byte verified.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five servers; skipped in -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("no go command to build the examples: %v", err)
	}
	// The bench builds the examples with go: that must work for this user.
	probe := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(t.TempDir(), "probe"), "./examples/net-echo-server")
	probe.Dir = filepath.Join("..", "..")
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("go cannot build the examples here as uid %d, so neither can the bench: %v: %s", os.Getuid(), err, bytes.TrimSpace(out))
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "bench", "echo", "--duration", "100ms", "--rounds", "2", "--warmup", "0s", "--conns", "1,4", "--big", "50", "--big-duration", "100ms",
		"--servers", strings.Join(echobench.ServerKeys(), ",")) // go-floor too, which is not in the default set
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	row := regexp.MustCompile(`(?m)^\| ([^|]+) \| (\d+) \| (\d+) \| `)
	measured := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(text, -1) {
		measured[m[1]]++
	}
	for _, s := range echobench.Servers() {
		if strings.Contains(text, "skipped "+s.Name+": ") {
			if s.Src && (s.Key != "c" || haveCC()) {
				t.Errorf("%s skipped though it can be built:\n%s", s.Name, text)
			}
			continue
		}
		// Two connection counts and the --big run.
		if measured[s.Name] != 3 {
			t.Errorf("%s: %d measured rows, want 3:\n%s", s.Name, measured[s.Name], text)
		}
	}
	if n := strings.Count(text, "| 50 | "); n != len(echobench.Servers())-strings.Count(text, "skipped ") {
		t.Errorf("%d servers held 50 connections:\n%s", n, text)
	}
	if strings.Contains(text, "failed:") || !strings.Contains(text, "yes, every byte") {
		t.Errorf("a cell failed or went unverified:\n%s", text)
	}
}

func haveCC() bool {
	_, err := exec.LookPath("cc")
	return err == nil
}
