package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
)

// serving runs serveMain in the background; the returned function sends
// it a signal (or two) and returns its exit status.
func serving(t *testing.T, args ...string) (s *echo.Server, stderr *socktest.SyncBuffer, stop func(...os.Signal) int) {
	t.Helper()
	stderr = &socktest.SyncBuffer{}
	sigs := make(chan os.Signal, 2)
	ready := make(chan *echo.Server, 1)
	code := make(chan int, 1)
	go func() { code <- serveMain(args, stderr, sigs, func(s *echo.Server) { ready <- s }) }()
	select {
	case s = <-ready:
	case c := <-code:
		t.Fatalf("serve %q: exit %d: %s", args, c, stderr.String())
	}
	stopped := false
	stop = func(ss ...os.Signal) int {
		stopped = true
		for _, sig := range ss {
			sigs <- sig
		}
		select {
		case c := <-code:
			return c
		case <-time.After(15 * time.Second):
			t.Fatalf("serve %q did not stop: %s", args, stderr.String())
			return -1
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop(syscall.SIGTERM, syscall.SIGTERM)
		}
	})
	return s, stderr, stop
}

// listening opens a plain TCP listener on a loopback port and returns its
// address; it accepts nothing.
func listening(t *testing.T) (*rawsock.Conn, string) {
	t.Helper()
	l := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	sa, _ := rawsock.InetAddr("127.0.0.1", 0)
	if err := l.Bind(sa); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	local, err := l.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	return l, rawsock.AddrString(local)
}

// freeAddr is a loopback address nobody listens on (any more).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, addr := listening(t)
	l.Close()
	return addr
}

// TestServeBadInput: each bad flag or unusable address gives exit status
// 2 and one line naming the cause, and leaves no socket file.
func TestServeBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	_, busyAddr := listening(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--proto", "sctp"}, `rawsock serve: unknown network "sctp" (want one of tcp, tcp6, udp, udp6, unix, unixpacket, unixgram)`},
		{[]string{"--addr", "127.0.0.1"}, `rawsock serve: malformed address "127.0.0.1": want HOST:PORT for tcp (missing port in address)`},
		{[]string{"--addr", "127.0.0.1:http"}, `rawsock serve: malformed address "127.0.0.1:http": port "http" is not a number from 0 to 65535`},
		{[]string{"--addr", busyAddr}, "rawsock serve: bind: address already in use (" + busyAddr + ")"},
		{[]string{"--proto", "unix", "--addr", file + "/s.sock"}, "rawsock serve: bind: not a directory (" + file + "/s.sock)"},
		{[]string{"--proto", "unixgram", "--addr", dir + "/no/s.sock"}, "rawsock serve: bind: no such file or directory (" + dir + "/no/s.sock)"},
		{[]string{"--bufsize", "0"}, "rawsock serve: --bufsize 0: want at least 1"},
		{[]string{"--loop", "kqueue"}, `rawsock serve: unknown loop "kqueue" (want goroutine or epoll)`},
		{[]string{"--grace", "-1s"}, "rawsock serve: durations must not be negative"},
		{[]string{"--nope"}, "rawsock serve: flag provided but not defined: -nope (rawsock serve -h for help)"},
		{[]string{":9999"}, `rawsock serve: unexpected argument ":9999" (the address goes in --addr)`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			if code := serveMain(tc.args, &stderr, nil, nil); code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if got := stderr.String(); got != tc.want+"\n" {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("%d entries in %s, want only the file", len(ents), dir)
			}
		})
	}
}

// TestServeNotWritable: a directory the user may not write in.
func TestServeNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may bind in any directory: this case needs a normal user (the unprivileged run covers it)")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	var stderr bytes.Buffer
	code := serveMain([]string{"--proto", "unix", "--addr", dir + "/s.sock"}, &stderr, nil, nil)
	if want := "rawsock serve: bind: permission denied (" + dir + "/s.sock)\n"; code != 2 || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, stderr.String(), want)
	}
}

// listenAddr is an address for serve --proto proto: port 0 on loopback,
// or a path in the test's directory. It skips tcp6 and udp6 without IPv6.
func listenAddr(t *testing.T, proto string) string {
	switch proto {
	case "tcp6", "udp6":
		socktest.SkipIfNoIPv6(t)
		return "[::1]:0"
	case "unix", "unixpacket", "unixgram":
		return filepath.Join(t.TempDir(), "s.sock")
	}
	return "127.0.0.1:0"
}

// TestServeStop: the tutorial's log, a client served, then SIGTERM: exit
// 0, and the socket file is gone. On both engines and every network.
func TestServeStop(t *testing.T) {
	for _, proto := range echo.Networks {
		for _, loop := range []string{"goroutine", "epoll"} {
			t.Run(proto+"/"+loop, func(t *testing.T) {
				addr := listenAddr(t, proto)
				s, stderr, stop := serving(t, "--proto", proto, "--addr", addr, "--loop", loop)
				var stdout bytes.Buffer
				if code := connectMain([]string{"--proto", proto, "--addr", s.Addr(), "-m", "i"}, nil, false, &stdout, stderr); code != 0 {
					t.Fatalf("connect: exit %d: %s", code, stderr.String())
				}
				if out := stdout.String(); len(out) != echo.CtimeLen+2 || !echo.IsCtime([]byte(out[:echo.CtimeLen])) || out[echo.CtimeLen:] != "i\n" {
					t.Errorf("connect printed %q, want ctime+\"i\"", out)
				}
				if code := stop(syscall.SIGTERM); code != 0 {
					t.Errorf("exit status %d after SIGTERM, want 0", code)
				}
				log := stderr.String()
				want := []string{"waiting for connection...\n...connected from: ", "rawsock serve: SIGTERM: stopping", "rawsock serve: stopped after 1 connections, 0 datagrams; all exchanges finished"}
				if proto == "udp" || proto == "udp6" || proto == "unixgram" {
					want = []string{"waiting for message...\n...received from: ", "stopped after 0 connections, 1 datagrams"}
				}
				for _, w := range want {
					if !strings.Contains(log, w) {
						t.Errorf("log lacks %q:\n%s", w, log)
					}
				}
				if strings.HasPrefix(addr, "/") {
					if _, err := os.Stat(addr); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("socket file after exit: %v", err)
					}
				}
			})
		}
	}
}

// TestServeEpollProcs: under GOMAXPROCS 1 (as under taskset -c 0),
// --loop epoll gives the process the second P its engine wants while it
// serves, and puts GOMAXPROCS back when it returns; the goroutine loop
// leaves it alone.
func TestServeEpollProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, tc := range []struct {
		loop string
		want int
	}{{"epoll", 2}, {"goroutine", 1}} {
		_, stderr, stop := serving(t, "--addr", "127.0.0.1:0", "--loop", tc.loop, "-q")
		if n := runtime.GOMAXPROCS(0); n != tc.want {
			t.Errorf("--loop %s: GOMAXPROCS %d while serving, want %d", tc.loop, n, tc.want)
		}
		if code := stop(syscall.SIGTERM); code != 0 {
			t.Errorf("--loop %s: exit status %d after SIGTERM, want 0: %s", tc.loop, code, stderr)
		}
		if n := runtime.GOMAXPROCS(0); n != 1 {
			t.Errorf("--loop %s: GOMAXPROCS %d after, want 1 again", tc.loop, n)
		}
	}
}

// TestServeQuietAndTrace: -q says nothing; --trace shows each syscall of
// the exchange.
func TestServeQuietAndTrace(t *testing.T) {
	s, stderr, stop := serving(t, "--addr", "127.0.0.1:0", "-q")
	if code := connectMain([]string{"--addr", s.Addr(), "-m", "x"}, nil, false, io.Discard, io.Discard); code != 0 {
		t.Fatal(code)
	}
	stop(syscall.SIGINT)
	if stderr.String() != "" {
		t.Errorf("-q, stderr: %q", stderr.String())
	}

	s, stderr, stop = serving(t, "--addr", "127.0.0.1:0", "-q", "--trace", "--loop", "epoll")
	var cerr bytes.Buffer
	if code := connectMain([]string{"--addr", s.Addr(), "-m", "x", "--trace"}, nil, false, io.Discard, &cerr); code != 0 {
		t.Fatal(code)
	}
	stop(syscall.SIGINT)
	// One process: both traces go to whichever writer was set last, so
	// look for the calls of both sides in both.
	trace := stderr.String() + cerr.String()
	for _, call := range []string{"socket(AF_INET, SOCK_STREAM", "bind(", "listen(", "epoll_create1(", "epoll_wait(", "accept4(", "connect(", "recvfrom(", "sendto(", "MSG_NOSIGNAL", "close("} {
		if !strings.Contains(trace, call) {
			t.Errorf("trace lacks %q:\n%s", call, trace)
		}
	}
}

// rawsockCmd runs the test binary as the rawsock command (TestMain's
// RAWSOCK_TEST_MAIN switch): real signals and exit statuses.
func rawsockCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	return cmd
}

// TestServeProcess: the command as a process. SIGTERM in the middle of
// load: exit status 0, every exchange complete or cleanly ended; a second
// SIGINT stops at once a server whose client would keep it lingering; bad
// input exits 2.
func TestServeProcess(t *testing.T) {
	for _, loop := range []string{"goroutine", "epoll"} {
		t.Run("SIGTERM under load/"+loop, func(t *testing.T) {
			addr := freeAddr(t)
			cmd := rawsockCmd("serve", "--addr", addr, "--loop", loop)
			var stderr socktest.SyncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waitLog(t, &stderr, "waiting for connection...")
			var wg sync.WaitGroup
			var mu sync.Mutex
			answered := 0
			for i := range 30 {
				c, err := echo.Dial("tcp", addr, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					for j := 0; ; j++ {
						msg := fmt.Sprintf("client %d message %d %s", i, j, strings.Repeat("x", j%3000))
						got, err := c.Exchange([]byte(msg))
						if err != nil {
							if !errors.Is(err, echo.ErrClosedByServer) && !strings.Contains(err.Error(), "reset") {
								t.Errorf("client %d: %v", i, err)
							}
							return
						}
						if !bytes.HasSuffix(got, []byte(msg[len(msg)-min(len(msg), 20):])) {
							t.Errorf("client %d: answer %.60q", i, got)
						}
						mu.Lock()
						answered++
						mu.Unlock()
					}
				}()
			}
			for {
				mu.Lock()
				n := answered
				mu.Unlock()
				if n > 300 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			err := cmd.Wait()
			wg.Wait()
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, lastLines(stderr.String(), 5))
			}
			if !strings.Contains(stderr.String(), "all exchanges finished") {
				t.Errorf("log: %s", lastLines(stderr.String(), 3))
			}
		})
	}
	t.Run("second signal", func(t *testing.T) {
		addr := freeAddr(t)
		// No write timeout, a minute of grace: a client that sends and
		// never reads holds the graceful stop for that minute.
		cmd := rawsockCmd("serve", "--addr", addr, "--grace", "1m", "--write-timeout", "0")
		var stderr socktest.SyncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		waitLog(t, &stderr, "waiting for connection...")
		c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
		if err := c.Connect(rawsock.SockaddrFromAddrPort(netip.MustParseAddrPort(addr))); err != nil {
			t.Fatal(err)
		}
		c.SetBlocking(false)
		chunk := make([]byte, 64<<10)
		for stuck := 0; stuck < 20; {
			if _, err := c.Send(chunk, 0); err != nil {
				stuck++ // both directions full: the server blocks in send
				time.Sleep(5 * time.Millisecond)
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		waitLog(t, &stderr, "SIGINT: stopping")
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after two SIGINTs: %v\n%s", err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("the second SIGINT did not stop the server (grace is 1m):\n%s", stderr.String())
		}
		if !strings.Contains(stderr.String(), "connections still open were closed") {
			t.Errorf("log: %s", lastLines(stderr.String(), 3))
		}
	})
	t.Run("exit status 2", func(t *testing.T) {
		out, err := rawsockCmd("serve", "--proto", "sctp").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Count(string(out), "\n") != 1 {
			t.Errorf("serve --proto sctp: %v, %q; want exit status 2 and one line", err, out)
		}
	})
}

func waitLog(t *testing.T, stderr *socktest.SyncBuffer, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", what, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ioPipe is an in-memory stdin the test writes lines to.
func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeSignalBeforeServe: a signal that arrives before Serve has begun
// (on a loaded machine the goroutine that calls it may not have run yet)
// is a clean stop, not "echo: server closed" and exit 1.
func TestServeSignalBeforeServe(t *testing.T) {
	for _, loop := range []string{"epoll", "goroutine"} {
		for i := range 20 {
			sigs := make(chan os.Signal, 1)
			sigs <- syscall.SIGTERM // there before serveMain starts Serve
			var stderr socktest.SyncBuffer
			if code := serveMain([]string{"--addr", "127.0.0.1:0", "--loop", loop, "-q"}, &stderr, sigs, nil); code != 0 {
				t.Fatalf("--loop %s, run %d: exit %d: %s", loop, i, code, stderr.String())
			}
		}
	}
}
