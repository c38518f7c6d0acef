package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
)

// envRunMain makes the test binary act as the rawsock command itself, so a
// test can run a subcommand in a child process (for instance under another
// uid): RAWSOCK_TEST_MAIN=1 ./x.test tour runs "rawsock tour".
const envRunMain = "RAWSOCK_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	dropPrivileges = func() error { return nil } // this process stays root: see privilege.go
	os.Exit(m.Run())
}

func TestRunUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"no-such-command"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `unknown command "no-such-command"`) {
		t.Errorf("stderr %q does not name the unknown command", stderr.String())
	}
}

func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"help"}, 0},
		{[]string{"-h"}, 0},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("run(%q): exit status %d, want %d", tc.args, code, tc.code)
		}
		if !strings.Contains(stderr.String(), "usage: rawsock COMMAND") || !strings.Contains(stderr.String(), "tour ") {
			t.Errorf("run(%q): usage does not list the tour:\n%s", tc.args, stderr.String())
		}
	}
}

// runWithoutRaw runs "rawsock ARGS..." without CAP_NET_RAW: in this
// process when it lacks the capability, else as uid 65534.
func runWithoutRaw(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if socktest.RawErr() != nil {
		return runCmd(args...)
	}
	return runUnprivileged(t, args...)
}

// runUnprivileged runs "rawsock ARGS..." as uid 65534 with no capabilities:
// the test binary, copied where that user may run it, acting as the
// command (see TestMain). It skips t when not root.
func runUnprivileged(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := socktest.NobodyCommand(t, args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=")
	return socktest.RunNobody(t, cmd)
}
