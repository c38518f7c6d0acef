//go:build linux

package main

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/echobench"
)

// TestFloorAnswers: the floor server answers as the C one does, every reply
// byte checked by the bench's own load generator on 1 and 16 connections,
// and refuses a bad address in one line with status 2.
func TestFloorAnswers(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "floor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-b", "127.0.0.1", "-p", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v: want listening on ADDR", line, err)
	}
	for _, conns := range []int{1, 16} {
		res, err := echobench.Load(context.Background(), echobench.LoadConfig{Addr: addr, Conns: conns, Count: 100, Duration: 20 * time.Second})
		if err != nil || !res.Verified || res.RoundTrips != int64(100*conns) {
			t.Errorf("%d conns: %+v, %v; want %d verified round trips", conns, res, err, 100*conns)
		}
	}
	out, err := exec.Command(bin, "-b", "nowhere", "-p", "1").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "bad address") {
		t.Errorf("bad address: %v, %q; want status 2 and one line naming it", err, out)
	}
}
