package socktest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// AsNobody makes cmd run as uid and gid 65534 (nobody) with no
// supplementary groups and so no capabilities: what an unprivileged user
// sees. The rest of cmd.SysProcAttr is kept. It returns cmd.
func AsNobody(cmd *exec.Cmd) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	return cmd
}

// NobodyBinary copies this test binary where nobody may run it (go test
// builds it in a directory only root may enter; t.TempDir's parent is
// root's too) and returns the copy's path. It skips the test unless the
// process is root, the only one that can start a child as another user.
func NobodyBinary(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as uid 65534")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "rawsock-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, filepath.Base(exe))
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// NobodyCommand returns a command running NobodyBinary with args as
// nobody, in the copy's directory. Like NobodyBinary, it skips the test
// unless the process is root.
func NobodyCommand(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	bin := NobodyBinary(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(bin)
	return AsNobody(cmd)
}

// RunNobody runs cmd, from NobodyCommand, and returns its output and exit
// status. It skips the test when uid 65534 may not execute the copy here,
// and fails it when the child does not end within a minute.
func RunNobody(t testing.TB, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skipf("uid 65534 cannot run %s here: %v", cmd.Path, err)
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
		t.Fatalf("%q as uid 65534 did not end within a minute", cmd.Args)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
