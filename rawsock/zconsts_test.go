package rawsock

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTool finds the go command that built the test, or skips.
func goTool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go command; skipped in -short mode")
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		if p, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command (GOROOT/bin/go or PATH): cannot run the generator")
		}
	}
	// A user without a home (nobody) has no build cache to build in.
	out, err := exec.Command(p, "env", "GOCACHE").Output()
	cache := strings.TrimSpace(string(out))
	if err != nil || cache == "" || cache == "off" {
		t.Skipf("go env GOCACHE: %q, %v: the go command cannot build here", cache, err)
	}
	if err := os.MkdirAll(cache, 0o777); err != nil {
		t.Skipf("the go command's build cache is not writable by this user: %v", err)
	}
	f, err := os.CreateTemp(cache, "probe")
	if err != nil {
		t.Skipf("the go command's build cache is not writable by this user: %v", err)
	}
	f.Close()
	os.Remove(f.Name())
	return p
}

// TestGenerated checks that the committed zconsts files are what
// go generate writes, so that an edit by hand or a forgotten regeneration
// after an x/sys upgrade fails here.
func TestGenerated(t *testing.T) {
	goCmd := goTool(t)
	dir := t.TempDir()
	cmd := exec.Command(goCmd, "run", "./internal/mkconsts", "-o", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./internal/mkconsts: %v\n%s", err, out)
	}
	for _, f := range []string{"zconsts_linux.go", "zconsts_others.go"} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the generator writes: run go generate ./rawsock", f)
		}
	}
}

// TestCrossBuild vets the package where the generated constants are
// narrower or fewer: a 32-bit Linux (a table value that overflows int
// broke it) and a system other than Linux (the portable subset).
func TestCrossBuild(t *testing.T) {
	goCmd := goTool(t)
	for _, env := range [][]string{{"GOOS=linux", "GOARCH=386"}, {"GOOS=darwin", "GOARCH=arm64"}} {
		cmd := exec.Command(goCmd, "vet", ".")
		cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%v go vet: %v\n%s", env, err, out)
		}
	}
}
