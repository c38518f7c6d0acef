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

	"github.com/rawsock/rawsock/rawsock/echo"
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

// TestBenchTable checks the ratios and the target verdicts on made-up
// figures.
func TestBenchTable(t *testing.T) {
	res := func(rate float64) echo.LoadResult {
		return echo.LoadResult{RoundTrips: int64(rate), Elapsed: time.Second, P50: 10 * time.Microsecond, P99: 2 * time.Millisecond, Verified: true}
	}
	us := time.Microsecond
	goName, epName := benchServerByKey("rawsock").name, benchServerByKey("rawsock-epoll").name
	cells := []benchCell{
		{server: benchNetName, conns: 1, res: res(1000), cpu: 8 * us, ccpu: 2 * us},
		{server: benchCName, conns: 1, res: res(2000), cpu: 4 * us, ccpu: 1 * us},
		{server: goName, conns: 1, res: res(1100)},
		{server: epName, conns: 1, res: res(1700), cpu: 6 * us, ccpu: 2 * us},
		{server: benchNetName, conns: 16, res: res(1000)},
		{server: benchCName, conns: 16, res: res(1000)},
		{server: goName, conns: 16, res: res(1150), cpu: 3 * us, ccpu: 1 * us},
		{server: epName, conns: 16, err: context.DeadlineExceeded},
	}
	var b bytes.Buffer
	benchPrintTable(&b, cells)
	benchPrintCost(&b, cells)
	benchPrintTargets(&b, cells, []int{1, 16}, "round trips/s", benchCell.wall)
	benchPrintTargets(&b, cells, []int{1, 16}, "per CPU-second", benchCell.cpuRate)
	benchPrintTargets(&b, cells, []int{1}, "per server CPU-second", benchCell.serverRate)
	out := b.String()
	for _, want := range []string{
		"| " + epName + " | 1 | 1700 | 10.0 µs | 2.00 ms | 1.70 | 0.85 |",
		"| " + goName + " | 16 | 1150 | 10.0 µs | 2.00 ms | 1.15 | 1.15 |",
		"| " + epName + " | 16 | failed: context deadline exceeded |",
		"| " + epName + " | 1 | 6.0 µs | 2.0 µs | 125000 | 1.25 | 0.62 |",
		"| " + goName + " | 16 | 3.0 µs | 1.0 µs | 250000 | - | - |",
		"target at 1 conns (round trips/s): " + epName + " 1700/s; vs net 1.70x (want >= 1.20: met); vs C 0.85x (want >= 0.80: met)",
		"target at 16 conns (round trips/s): " + goName + " 1150/s; vs net 1.15x (want >= 1.20: MISSED); vs C 1.15x (want >= 0.80: met)",
		"target at 1 conns (per CPU-second): " + epName + " 125000/s; vs net 1.25x (want >= 1.20: met); vs C 0.62x (want >= 0.80: MISSED)",
		"target at 1 conns (per server CPU-second): " + epName + " 166667/s; vs net 1.33x (want >= 1.20: met); vs C 0.67x (want >= 0.80: MISSED)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
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
	cmd := exec.CommandContext(ctx, exe, "bench", "echo", "--duration", "100ms", "--rounds", "2", "--warmup", "0s", "--conns", "1,4", "--big", "50", "--big-duration", "100ms")
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
	for _, s := range benchServers {
		if strings.Contains(text, "skipped "+s.name+": ") {
			if s.key == "net" || s.key == "go-epoll" || (s.key == "c" && haveCC()) {
				t.Errorf("%s skipped though it can be built:\n%s", s.name, text)
			}
			continue
		}
		// Two connection counts and the --big run.
		if measured[s.name] != 3 {
			t.Errorf("%s: %d measured rows, want 3:\n%s", s.name, measured[s.name], text)
		}
	}
	if n := strings.Count(text, "| 50 | "); n != len(benchServers)-strings.Count(text, "skipped ") {
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

// TestBenchCPUTime: the /proc reading grows as this process burns CPU
// (by 50ms within 10s of spinning, however busy the machine).
func TestBenchCPUTime(t *testing.T) {
	t0 := benchCPUTime(os.Getpid())
	if t0 < 0 {
		t.Skip("no /proc/PID/stat here")
	}
	t1 := t0
	for start := time.Now(); t1 < t0+50*time.Millisecond && time.Since(start) < 10*time.Second; {
		for i := 0; i < 1e6; i++ {
			t1 += 0 // spin
		}
		t1 = benchCPUTime(os.Getpid())
	}
	if t1 < t0+50*time.Millisecond {
		t.Errorf("CPU time went from %v only to %v over 10s of spinning", t0, t1)
	}
	if benchCPUTime(-1) != -1 {
		t.Error("no process -1, yet a CPU time")
	}
}
