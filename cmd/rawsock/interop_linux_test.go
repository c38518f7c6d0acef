package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
)

// The tutorial's two Python programs are the original peers: its client
// against rawsock serve, its server against rawsock connect. They are
// taken from the tutorial's README (../shared/tutorial/README.md from the
// repository root) and run from a temporary copy whose only change is the
// port: the programs hard-code 9999, which a test cannot count on being
// free, while a copy works for root and normal users alike (a network
// namespace would keep 9999 but needs root).

// tutorialPrograms returns the server's and the client's source, or skips
// the test saying what is missing.
func tutorialPrograms(t *testing.T) (server, client string) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skipf("python3 not found: %v", err)
	}
	root := repoRoot(t)
	readme := filepath.Join(root, "..", "shared", "tutorial", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Skipf("the tutorial is not beside the repository: %v", err)
	}
	for _, m := range regexp.MustCompile("(?s)```python\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		switch {
		case strings.HasPrefix(m[1], "# server"):
			server = m[1]
		case strings.HasPrefix(m[1], "# client"):
			client = m[1]
		}
	}
	if server == "" || client == "" {
		t.Fatalf("%s: no '# server' and '# client' python blocks", readme)
	}
	return server, client
}

// repoRoot is the directory holding this module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/rawsock/rawsock\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("not inside the rawsock source tree")
		}
		dir = parent
	}
}

// withPort writes src, its "PORT = 9999" set to port, to a temporary file.
func withPort(t *testing.T, src, port, name string) string {
	t.Helper()
	const line = "PORT = 9999\n"
	if strings.Count(src, line) != 1 {
		t.Fatalf("%s: want exactly one %q line to change", name, line)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Replace(src, line, "PORT = "+port+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// TestPythonClient: the tutorial's client against rawsock serve, in both
// engines. It prompts, sends each line, prints the answer, and stops at
// the empty line.
func TestPythonClient(t *testing.T) {
	_, client := tutorialPrograms(t)
	for _, loop := range []string{"goroutine", "epoll"} {
		t.Run(loop, func(t *testing.T) {
			s, _, _ := serving(t, "--addr", "127.0.0.1:0", "--loop", loop, "-q")
			cmd := exec.Command("python3", "-u", withPort(t, client, port(s.Addr()), "client.py"))
			cmd.Stdin = strings.NewReader("i\nhello, world\n\n")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python client: %v\n%s", err, stderr.String())
			}
			answers(t, string(out), ">>:", "i", "hello, world")
		})
	}
}

// TestPythonServer: rawsock connect against the tutorial's server, with
// -m and with a script; the server logs each connection as the tutorial
// shows.
func TestPythonServer(t *testing.T) {
	server, _ := tutorialPrograms(t)
	addr := freeAddr(t)
	cmd := exec.Command("python3", "-u", withPort(t, server, port(addr), "server.py"))
	var stderr socktest.SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill() // it serves forever, as in the tutorial
		cmd.Wait()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(prefix string) {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok || !strings.HasPrefix(l, prefix) {
				t.Fatalf("python server said %q (ok %v), want %q...\n%s", l, ok, prefix, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("python server silent, want %q\n%s", prefix, stderr.String())
		}
	}
	expect("waiting for connection...")

	var stdout, cerr bytes.Buffer
	if code := connectMain([]string{"--addr", addr, "-m", "i"}, nil, false, &stdout, &cerr); code != 0 {
		t.Fatalf("connect -m: exit %d: %s", code, cerr.String())
	}
	answers(t, stdout.String(), "", "i")
	expect("...connected from: ('127.0.0.1', ")
	expect("waiting for connection...")

	stdout.Reset()
	if code := connectMain([]string{"--addr", addr}, strings.NewReader("one\ntwo\n"), false, &stdout, &cerr); code != 0 {
		t.Fatalf("connect: exit %d: %s", code, cerr.String())
	}
	answers(t, stdout.String(), "", "one", "two")
	expect("...connected from: ('127.0.0.1', ")
}
