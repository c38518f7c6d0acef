package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/tour/tourtest"
)

// mustMatch is the tour tests' check of a command's output; send's tests
// use it too.
var mustMatch = tourtest.MustMatch

// TestTourUnprivileged runs "rawsock tour" as nobody, without capabilities,
// in a child process: the command exits 0, the exchanges still run, and the
// raw step is skipped with the reason. As a normal user internal/tour's
// TestTour checks the same skip in-process.
func TestTourUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as uid 65534; internal/tour's TestTour checks the unprivileged tour in its process")
	}
	out, stderr, code := runUnprivileged(t, "tour")
	if code != 0 {
		t.Fatalf("unprivileged rawsock tour: exit %d\nstderr: %s\nstdout:\n%s", code, stderr, out)
	}
	mustMatch(t, out,
		`(?m)^  process: uid 65534, euid 65534, egid 65534, groups \[\]$`,
		`CAP_NET_RAW: NOT effective \(CapEff 0000000000000000`,
		// The protocol is looked up before the capability is checked.
		`(?m)^  SOCK_RAW +EPROTONOSUPPORT +EPERM +EPERM +EPERM +EPERM +EPERM$`,
		`(?m)^  skipped: this process has no effective CAP_NET_RAW \(CapEff 0000000000000000, bit 13 clear; uid 65534\): run as root, or: go build -o rawsock-bin \./cmd/rawsock && sudo setcap cap_net_raw\+ep \./rawsock-bin && \./rawsock-bin tour$`,
		`(?m)^== Done: 9 steps, 6 ran, 3 skipped, 0 failed ==$`,
	)
	tourtest.CheckTimestampReply(t, tourtest.Section(t, out, "TCP: the tutorial's timestamp exchange"), "hello")
	if t.Failed() {
		t.Logf("unprivileged tour output:\n%s", out)
	}
}

func TestRunTourArgs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"tour", "extra"}, &stdout, &stderr); code != 2 {
		t.Errorf("tour extra: exit status %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `takes no arguments, got ["extra"]`) {
		t.Errorf("tour extra: stderr %q", stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"tour", "-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("tour -h: exit status %d, want 0", code)
	}
	if !strings.Contains(stderr.String(), "go run ./cmd/rawsock tour") {
		t.Errorf("tour -h: usage lacks the example: %q", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("tour with bad arguments wrote to stdout: %q", stdout.String())
	}
}
