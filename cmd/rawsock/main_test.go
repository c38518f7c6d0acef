package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	if rawErr() != nil {
		return runCmd(args...)
	}
	return runUnprivileged(t, args...)
}

// runUnprivileged runs "rawsock ARGS..." as uid 65534 with no capabilities:
// the test binary, copied where that user may run it, acting as the
// command (see TestMain). It skips t when not root.
func runUnprivileged(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := nobodyBinary(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("uid 65534 cannot run %s here: %v", bin, err)
		}
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("rawsock %q as uid 65534 did not end within a minute", args)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// nobodyBinary copies this test binary where uid 65534 may run it.
func nobodyBinary(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as uid 65534")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "rawsock-cmd-test-") // not t.TempDir(): its parent is for root only
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(exe)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "rawsock.test"), b, 0o755)
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "rawsock.test")
}
