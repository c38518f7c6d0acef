package ping

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binMu    sync.Mutex
	binPaths = map[bool]string{}
)

// rawsockBinary builds the rawsock command once per test binary, with cgo
// or without, in a directory every user may enter, removed when the test
// binary ends (TestMain).
func rawsockBinary(t *testing.T, cgo bool) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binPaths[cgo]; ok {
		if p == "" {
			t.Skip("the rawsock command could not be built (see the first test that tried)")
		}
		return p
	}
	binPaths[cgo] = ""
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "rawsock-ping-bin-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	tempDirs = append(tempDirs, dir)
	bin := filepath.Join(dir, "rawsock")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/rawsock/rawsock/cmd/rawsock")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if cgo {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the rawsock command (go in PATH?): %v: %s", err, out)
	}
	binPaths[cgo] = bin
	return bin
}

// tempDirs are removed when the test binary ends.
var tempDirs []string

func removeTempDirs() {
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
}
