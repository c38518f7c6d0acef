package ping

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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

// threadCaps returns "Uid CapPrm CapEff" of every thread of pid.
func threadCaps(t *testing.T, pid int) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "status"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		var uid, prm, eff string
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch k {
			case "Uid":
				uid = strings.Fields(v)[1] // effective
			case "CapPrm":
				prm = strings.TrimSpace(v)
			case "CapEff":
				eff = strings.TrimSpace(v)
			}
		}
		out = append(out, uid+" "+prm+" "+eff)
	}
	if len(out) == 0 {
		t.Fatalf("no threads of %d in /proc", pid)
	}
	return out
}

// TestDropPrivilegesFileCaps runs the command as a user (nobody) from a
// binary given cap_net_raw+ep, as "setcap" users run it: built with
// CGO_ENABLED=0, every thread has given up CAP_NET_RAW while it pings; a
// cgo build cannot clear other threads' capabilities and says so on
// stderr, in one line, rather than pretend.
func TestDropPrivilegesFileCaps(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to setcap a binary and run it as nobody")
	}
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Skip("setcap is not installed (libcap2-bin)")
	}
	for _, cgo := range []bool{false, true} {
		name := "CGO_ENABLED=0"
		if cgo {
			name = "CGO_ENABLED=1"
		}
		t.Run(name, func(t *testing.T) {
			bin := rawsockBinary(t, cgo)
			if out, err := exec.Command(setcap, "cap_net_raw+ep", bin).CombinedOutput(); err != nil {
				t.Skipf("setcap on %s: %v: %s", bin, err, out)
			}
			cmd := exec.Command(bin, "ping", "-c", "3", "-i", "0.3", "-w", "10", "127.0.0.1")
			cmd.Env = append(os.Environ(), "RAWSOCK_TRACE=")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
			var stdout, stderr lockedBuf
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stdout.String(), "icmp_seq=1 "); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no first reply in 10 s:\n%s%s", stdout.String(), stderr.String())
				}
			}
			caps := threadCaps(t, cmd.Process.Pid)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), "3 packets transmitted, 3 received") {
				t.Errorf("the pings did not all come back:\n%s", stdout.String())
			}
			held := 0
			for _, c := range caps {
				if !strings.HasPrefix(c, "65534 ") {
					t.Errorf("thread %q: not nobody", c)
				}
				if c != "65534 0000000000000000 0000000000000000" {
					held++
				}
			}
			if !cgo {
				if held != 0 || stderr.Len() != 0 {
					t.Errorf("threads (uid CapPrm CapEff): %q; stderr %q: want every capability gone, silently", caps, stderr.String())
				}
				return
			}
			warn := stderr.String()
			if held > 0 && (strings.Count(warn, "\n") != 1 || !strings.HasPrefix(warn, "ping: warning: CapPrm 0000000000002000 on thread ") || !strings.Contains(warn, "CGO_ENABLED=0")) {
				t.Errorf("%d threads keep CAP_NET_RAW, and the warning is %q", held, warn)
			}
			if held == 0 && warn != "" {
				t.Errorf("no thread keeps a capability, yet: %q", warn)
			}
			t.Logf("cgo build: %d of %d threads keep CAP_NET_RAW; stderr %q", held, len(caps), warn)
		})
	}
}

// lockedBuf is a child's output read while it runs.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuf) Len() int { return len(l.String()) }
