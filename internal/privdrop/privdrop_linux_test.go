package privdrop

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/rawsock/rawsock/internal/socktest"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// envChild makes the test binary the program under test: it opens a raw
// ICMP socket, calls Drop, prints "dropped: ok" (or the error), waits for
// its standard input to close while the test reads its /proc status, then
// pings 127.0.0.1 on the socket it opened before and prints "reply".
const envChild = "RAWSOCK_PRIVDROP_CHILD"

// The net package links cgo (its resolver) when CGO_ENABLED=1, as it does
// in the rawsock command: so a cgo build of this test binary is one where
// the Go runtime refuses syscall.AllThreadsSyscall.
var _ = net.IPv4len

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(child())
	}
	code := m.Run()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func child() int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		fmt.Println("socket:", err)
		return 3
	}
	if err := Drop(); err != nil {
		fmt.Println("dropped:", err)
	} else {
		fmt.Println("dropped: ok")
	}
	bufio.NewReader(os.Stdin).ReadByte() // the test reads /proc meanwhile
	if err := echo(fd); err != nil {
		fmt.Println("echo:", err)
		return 1
	}
	fmt.Println("reply")
	return 0
}

// echo sends an echo request to 127.0.0.1 on the raw socket fd and waits
// for its reply: the socket opened before Drop still works.
func echo(fd int) error {
	id := uint16(os.Getpid())
	req := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'p', 'r', 'i', 'v'}
	var sum uint32
	for i := 0; i < len(req); i += 2 {
		sum += uint32(req[i])<<8 | uint32(req[i+1])
	}
	sum = sum>>16 + sum&0xffff
	sum += sum >> 16
	req[2], req[3] = byte(^sum>>8), byte(^sum)
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5}); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	buf := make([]byte, 1500)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return os.NewSyscallError("recvfrom", err)
		}
		hl := int(buf[0]&0x0f) * 4
		if n >= hl+8 && buf[hl] == 0 && uint16(buf[hl+4])<<8|uint16(buf[hl+5]) == id {
			return nil
		}
	}
}

var (
	binMu    sync.Mutex
	testBins = map[bool]string{}
	tempDirs []string
)

// testBinary builds this package's test binary, with cgo or without, in a
// directory every user may enter (removed by TestMain).
func testBinary(t *testing.T, cgo bool) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := testBins[cgo]; ok {
		if p == "" {
			t.Skip("the test binary could not be built (see the first test that tried)")
		}
		return p
	}
	testBins[cgo] = ""
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	dir, err := os.MkdirTemp("", "rawsock-privdrop-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	tempDirs = append(tempDirs, dir)
	bin := filepath.Join(dir, "privdrop.test")
	cmd := exec.Command(goTool, "test", "-c", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{false: "0", true: "1"}[cgo])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the test binary (go in PATH? gcc for cgo?): %v: %s", err, out)
	}
	testBins[cgo] = bin
	return bin
}

// threadStatus returns, for every thread of pid, "Uid Gid Groups CapInh
// CapPrm CapEff CapAmb" from /proc/PID/task/TID/status (effective ids).
func threadStatus(t *testing.T, pid int) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "status"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		m := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				m[k] = strings.Join(strings.Fields(v), " ")
			}
		}
		out = append(out, strings.Join([]string{m["Uid"], m["Gid"], "groups=" + m["Groups"], m["CapInh"], m["CapPrm"], m["CapEff"], m["CapAmb"]}, " "))
	}
	if len(out) == 0 {
		t.Fatalf("no threads of %d in /proc", pid)
	}
	return out
}

// TestDrop runs a child (this test binary, without and with cgo) that
// opens a raw socket and calls Drop, and reads /proc/PID/task/*/status of
// every thread of it after Drop: as root it is nobody, or SUDO_UID and
// SUDO_GID, with no groups and no capability; as nobody from a binary
// given cap_net_raw+ep (setcap), as "setcap" users run it, the cgo-free
// build has given CAP_NET_RAW up on every thread, and a cgo build, which
// cannot clear other threads' capabilities, says so (ErrCapsRemain) rather
// than pretend. Either way the socket opened before still pings.
func TestDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: to be dropped from, and to setcap a binary run as nobody")
	}
	nobody := strconv.Itoa(Nobody)
	for _, tc := range []struct {
		name     string
		env      []string
		setcap   bool   // run as nobody from a setcap'd binary
		uid, gid string // after Drop
	}{
		{"root to nobody", []string{"SUDO_UID=", "SUDO_GID="}, false, nobody, nobody},
		{"root to SUDO_UID", []string{"SUDO_UID=4321", "SUDO_GID=4322"}, false, "4321", "4322"},
		{"root, SUDO_UID 0", []string{"SUDO_UID=0", "SUDO_GID=0"}, false, nobody, nobody},
		{"setcap as nobody", []string{"SUDO_UID=", "SUDO_GID="}, true, nobody, nobody},
	} {
		for _, cgo := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/CGO_ENABLED=%d", tc.name, map[bool]int{false: 0, true: 1}[cgo]), func(t *testing.T) {
				bin := testBinary(t, cgo)
				if tc.setcap {
					setcap, err := exec.LookPath("setcap")
					if err != nil {
						t.Skip("setcap is not installed (libcap2-bin)")
					}
					if out, err := exec.Command(setcap, "cap_net_raw+ep", bin).CombinedOutput(); err != nil {
						t.Skipf("setcap on %s: %v: %s", bin, err, out)
					}
					defer exec.Command(setcap, "-r", bin).Run()
				}
				testDrop(t, bin, tc.env, tc.setcap, cgo, tc.uid, tc.gid)
			})
		}
	}
}

func testDrop(t *testing.T, bin string, env []string, asNobody, cgo bool, uid, gid string) {
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), envChild+"=1"), env...)
	if asNobody {
		socktest.AsNobody(cmd)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewReader(stdoutPipe)
	first := make(chan string, 1)
	go func() { l, _ := out.ReadString('\n'); first <- l }()
	var line string
	select {
	case line = <-first:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child did not report Drop within 30 s")
	}
	threads := threadStatus(t, cmd.Process.Pid) // the child waits on stdin meanwhile
	stdin.Close()
	rest, _ := out.ReadString(0)
	if err := cmd.Wait(); err != nil || rest != "reply\n" {
		t.Fatalf("after %q: %v, then %q; stderr %q", line, err, rest, stderr.String())
	}
	ids := strings.Repeat(uid+" ", 4) + strings.Repeat(gid+" ", 4) + "groups= " // no supplementary group
	none := "0000000000000000 0000000000000000 0000000000000000 0000000000000000"
	held := 0
	for _, th := range threads {
		switch {
		case !strings.HasPrefix(th, ids):
			t.Errorf("thread (uids gids groups CapInh CapPrm CapEff CapAmb) %q: want %q", th, ids)
		case th != ids+none:
			held++
		}
	}
	if !asNobody || !cgo {
		// Root leaving uid 0 loses every capability on every thread,
		// cgo or not; without cgo capset(2) reaches every thread.
		if held != 0 || line != "dropped: ok\n" {
			t.Errorf("Drop: %q; threads: %q: want every capability gone, and no error", line, threads)
		}
		return
	}
	if held > 0 && (!strings.HasPrefix(line, "dropped: CapPrm 0000000000002000 on thread ") || !strings.Contains(line, "CGO_ENABLED=0") || !strings.Contains(line, ErrCapsRemain.Error())) {
		t.Errorf("%d threads keep CAP_NET_RAW, and Drop said %q", held, line)
	}
	if held == 0 && line != "dropped: ok\n" {
		t.Errorf("no thread keeps a capability, yet Drop said %q", line)
	}
	t.Logf("cgo build: %d of %d threads keep CAP_NET_RAW; Drop said %q", held, len(threads), line)
}
