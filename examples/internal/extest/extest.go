// Package extest holds what the examples' tests share: build an example,
// run a server until it prints its address, run a client with piped stdin,
// and check the timestamp replies.
package extest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

// Wait bounds every process a test runs.
const Wait = 20 * time.Second

// Build compiles the example in the sibling directory name (tests run in
// their own example's directory) and returns the binary's path.
func Build(t testing.TB, name string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command in PATH to build %s: %v", name, err)
	}
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(gobin, "build", "-buildvcs=false", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("permission denied")) && os.Geteuid() != 0 {
			// Typically a normal user running tests built by root: the
			// Go build and module caches are root's.
			t.Skipf("go build %s cannot run as uid %d here (the Go caches are not this user's): %s", name, os.Geteuid(), bytes.TrimSpace(out))
		}
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// Server is a running example server.
type Server struct {
	Addr string // what it printed after "listening on "
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{} // closed when stdout ends
}

// Start runs bin and waits for its "listening on ADDR" line. The server is
// killed (by its PID) when the test ends, unless Stop ended it first.
func Start(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	s.cmd.Stderr = lockedWriter{s}
	pr, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.out.WriteString(line + "\n")
			s.mu.Unlock()
			if a, ok := strings.CutPrefix(line, "listening on "); ok {
				select {
				case addr <- a:
				default:
				}
			}
		}
	}()
	select {
	case s.Addr = <-addr:
	case <-s.done:
		s.cmd.Wait()
		t.Fatalf("%s exited before listening:\n%s", filepath.Base(bin), s.Output())
	case <-time.After(Wait):
		t.Fatalf("%s printed no address within %v:\n%s", filepath.Base(bin), Wait, s.Output())
	}
	return s
}

// Output returns what the server printed so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Count waits, up to Wait, until the server has printed substr n times, and
// returns how many times it has: a server may log a line after its reply
// is already on its way.
func (s *Server) Count(substr string, n int) int {
	deadline := time.Now().Add(Wait)
	for {
		got := strings.Count(s.Output(), substr)
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stop sends sig and waits for the server to exit; it returns the exit
// status.
func (s *Server) Stop(t testing.TB, sig syscall.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(Wait):
		t.Fatalf("server still running %v after %v", Wait, sig)
	}
	err := s.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// Run runs a client with stdin and returns its stdout, stderr and exit
// status.
func Run(t testing.TB, bin, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %v; stdout:\n%s", filepath.Base(bin), Wait, o.String())
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// ctimeRE is C's ctime() without the newline: "Tue Sep 13 19:11:20 2016".
var ctimeRE = regexp.MustCompile(`^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 123][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}`)

// CheckReply checks one reply: a ctime timestamp within a minute of now,
// then exactly data.
func CheckReply(t testing.TB, reply, data string) {
	t.Helper()
	ts := ctimeRE.FindString(reply)
	if len(ts) != 24 {
		t.Errorf("reply %q does not start with a 24-byte ctime timestamp", reply)
		return
	}
	when, err := time.ParseInLocation(time.ANSIC, ts, time.Local)
	if err != nil {
		t.Errorf("reply %q: timestamp: %v", reply, err)
	} else if d := time.Since(when); d < -time.Minute || d > time.Minute {
		t.Errorf("reply %q: timestamp %v away from now", reply, d)
	}
	if got := reply[24:]; got != data {
		t.Errorf("reply %q: data %q, want %q", reply, got, data)
	}
}

// CheckSession checks a client's stdout: for each line sent, a ">>:"
// prompt followed by perLine replies each "ctime"+line, then the last prompt
// before quitting.
func CheckSession(t testing.TB, stdout string, lines []string, perLine int) {
	t.Helper()
	parts := strings.Split(stdout, ">>:")
	if len(parts) != len(lines)+2 || parts[0] != "" || parts[len(parts)-1] != "" {
		t.Fatalf("client printed %q: want %d prompts and %d replies each", stdout, len(lines)+1, perLine)
	}
	for i, line := range lines {
		replies := strings.Split(strings.TrimSuffix(parts[i+1], "\n"), "\n")
		if len(replies) != perLine {
			t.Errorf("line %q: got %d replies %q, want %d", line, len(replies), replies, perLine)
			continue
		}
		for _, r := range replies {
			CheckReply(t, r, line)
		}
	}
}

// ErrorLine checks that a failed run printed exactly one line naming the
// cause and exited non-zero.
func ErrorLine(t testing.TB, stderr string, code int, want string) {
	t.Helper()
	if code == 0 {
		t.Errorf("exit status 0, want non-zero")
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q: want one line containing %q", stderr, want)
	}
}

// lockedWriter appends the server's stderr to its output under the lock.
type lockedWriter struct{ s *Server }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(b)
}

// Session runs the client bin with lines on stdin (ended by an empty line
// when quit is true, else by the end of stdin) and checks its session.
func Session(t testing.TB, bin string, lines []string, perLine int, quit bool, args ...string) {
	t.Helper()
	stdin := strings.Join(lines, "\n") + "\n"
	if quit {
		stdin += "\n"
	}
	out, errs, code := Run(t, bin, stdin, args...)
	if code != 0 {
		t.Fatalf("%s exit status %d: %s", filepath.Base(bin), code, errs)
	}
	CheckSession(t, out, lines, perLine)
}

// BuildC compiles ../epoll-echo-c/server.c with the system's cc, as the
// benchmark does, or skips the test saying why it cannot.
func BuildC(t testing.TB) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skipf("no C compiler (cc) in PATH to build epoll-echo-c: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "epoll-echo-c")
	cmd := exec.Command(cc, "-O2", "-Wall", "-o", bin, filepath.Join("..", "epoll-echo-c", "server.c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cc epoll-echo-c/server.c: %v\n%s", err, out)
	}
	return bin
}

// Tutorial returns the tutorial's Python server or client ("server" or
// "client"), taken from ../shared/tutorial/README.md beside the repository,
// with PORT = 9999 replaced by port, written to a file ready for python3.
// It skips the test, saying why, where python3 or the tutorial is missing.
func Tutorial(t testing.TB, which string, port string) (python, script string) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("no python3 to run the tutorial's %s: %v", which, err)
	}
	// Tests run in examples/NAME: the repository is two up, shared/ beside it.
	readme := filepath.Join("..", "..", "..", "shared", "tutorial", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Skipf("no tutorial beside the repository to take the Python %s from: %v", which, err)
	}
	var code string
	for _, block := range strings.Split(string(b), "```python\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if strings.HasPrefix(block, "# "+which+"\n") {
			code = block
		}
	}
	if code == "" || !strings.Contains(code, "PORT = 9999\n") {
		t.Fatalf("%s holds no Python %s with PORT = 9999", readme, which)
	}
	script = filepath.Join(t.TempDir(), which+".py")
	code = strings.Replace(code, "PORT = 9999\n", "PORT = "+port+"\n", 1)
	if err := os.WriteFile(script, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	return python, script
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sa, _ := rawsock.InetAddr("127.0.0.1", 0)
	if err := s.Bind(sa); err != nil {
		t.Fatal(err)
	}
	me, err := s.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(rawsock.AddrString(me), ":")
	return port
}

// StartListening runs bin, which prints no address, and waits until
// 127.0.0.1:port accepts a connection. The process is killed (by its PID)
// when the test ends.
func StartListening(t testing.TB, port string, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	sa, err := rawsock.InetAddr("127.0.0.1", atoi(port))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(Wait); ; time.Sleep(20 * time.Millisecond) {
		s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Connect(sa)
		s.Close()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not accepting on port %s after %v: %v", filepath.Base(bin), port, Wait, err)
		}
	}
}
