package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/echo"
)

// answers splits connect's output into lines and checks each is a ctime
// followed by the expected line.
func answers(t *testing.T, out string, prompt string, want ...string) {
	t.Helper()
	got := strings.Split(out, "\n")
	if len(got) != len(want)+1 {
		t.Fatalf("output %q: %d lines, want %d", out, len(got)-1, len(want))
	}
	for i, w := range want {
		line := strings.TrimPrefix(got[i], prompt)
		if len(line) < echo.CtimeLen || !echo.IsCtime([]byte(line[:echo.CtimeLen])) || line[echo.CtimeLen:] != w {
			t.Errorf("line %d: %q, want %sctime+%q", i, got[i], prompt, w)
		}
	}
	if got[len(want)] != prompt {
		t.Errorf("last line %q, want %q", got[len(want)], prompt)
	}
}

// TestConnect: the three ways in. A script (stdin not a terminal) sends
// every non-empty line until EOF without prompts; at a terminal the
// prompt is ">>:" and an empty line quits; -m sends one message.
func TestConnect(t *testing.T) {
	s, _, _ := serving(t, "--addr", "127.0.0.1:0", "-q", "--bufsize", "8")
	run := func(stdin string, tty bool, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"--addr", s.Addr()}, args...)
		if code := connectMain(args, strings.NewReader(stdin), tty, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
			t.Fatalf("connect %q: exit %d, stderr %q", args, code, stderr.String())
		}
		return stdout.String()
	}
	answers(t, run("one\n\ntwo\r\nthree", false), "", "one", "two", "three")
	answers(t, run("i\nhello\n\nnot sent\n", true), ">>:", "i", "hello")
	if out := run("", true); out != ">>:\n" { // EOF (Ctrl-D) at the prompt
		t.Errorf("EOF at a terminal: %q", out)
	}
	answers(t, run("ignored\n", false, "-m", "one msg"), "", "one msg")
	// Longer than the server's 8-byte buffer: one stamp per chunk, all
	// printed.
	out := run("", false, "-m", "twenty-four bytes long!!")
	if n := strings.Count(out, time.Now().Format("2006")); n < 3 || !strings.HasSuffix(out, "!!\n") {
		t.Errorf("long message: %q, want 3 or more stamped chunks", out)
	}
}

// TestConnectErrors: unreachable is exit 1 with the syscall, errno and
// address; bad input is exit 2; a server that leaves mid-session is 1.
func TestConnectErrors(t *testing.T) {
	closed := freeAddr(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--addr", closed, "-m", "x"}, 1, "rawsock connect: connect: connection refused (" + closed + ")"},
		{[]string{"--proto", "unix", "--addr", dir + "/none.sock", "-m", "x"}, 1, "rawsock connect: connect: no such file or directory (" + dir + "/none.sock)"},
		{[]string{"--proto", "udp", "--addr", closed, "-m", "x"}, 1, "rawsock connect: recvfrom: connection refused"},
		{[]string{"--proto", "carrier-pigeon"}, 2, `rawsock connect: unknown network "carrier-pigeon" (want one of tcp, tcp6, udp, udp6, unix, unixpacket, unixgram)`},
		{[]string{"--addr", "localhost"}, 2, `rawsock connect: malformed address "localhost": want HOST:PORT for tcp (missing port in address)`},
		{[]string{"-m", ""}, 2, `rawsock connect: invalid value "" for flag -m: empty message: a zero-length send carries nothing to answer (rawsock connect -h for help)`},
		{[]string{"--timeout", "-1s"}, 2, "rawsock connect: --timeout must not be negative"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := connectMain(tc.args, strings.NewReader(""), false, &stdout, &stderr); code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			if stderr.String() != tc.want+"\n" {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.want)
			}
		})
	}

	t.Run("server leaves", func(t *testing.T) {
		s, _, stop := serving(t, "--addr", "127.0.0.1:0", "-q")
		var stdout, stderr socktest.SyncBuffer
		r, w := ioPipe()
		code := make(chan int)
		go func() { code <- connectMain([]string{"--addr", s.Addr()}, r, false, &stdout, &stderr) }()
		w.Write([]byte("first\n"))
		waitFor(t, func() bool { return strings.Contains(stdout.String(), "first") })
		stop(syscall.SIGTERM)
		w.Write([]byte("second\n"))
		w.Close()
		if c := <-code; c != 1 || !strings.HasPrefix(stderr.String(), "rawsock connect: ") || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("exit %d, stderr %q; want 1 and one line", c, stderr.String())
		}
	})

	t.Run("process", func(t *testing.T) {
		out, err := rawsockCmd("connect", "--addr", closed, "-m", "x").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || string(out) != "rawsock connect: connect: connection refused ("+closed+")\n" {
			t.Errorf("%v, %q", err, out)
		}
	})
}

// TestConnectEveryNetwork: connect talks to rawsock serve on each network,
// a unixgram client included (it autobinds, leaving no file).
func TestConnectEveryNetwork(t *testing.T) {
	for _, proto := range echo.Networks {
		t.Run(proto, func(t *testing.T) {
			addr := listenAddr(t, proto)
			s, _, _ := serving(t, "--proto", proto, "--addr", addr, "-q")
			var stdout, stderr bytes.Buffer
			if code := connectMain([]string{"--proto", proto, "--addr", s.Addr()}, strings.NewReader("a\nb\n"), false, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			answers(t, stdout.String(), "", "a", "b")
		})
	}
}
