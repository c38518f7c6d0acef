package echo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
	"golang.org/x/sys/unix"
)

// TestListenErrors: bad input gets a one-line error naming the cause, and
// leaves no fd open and no file behind.
func TestListenErrors(t *testing.T) {
	dir := t.TempDir()
	// Busy addresses: plain listeners, which accept nothing, so that the
	// fd counts below see only what Listen opens.
	_, tcpSa := socktest.Listener(t, rawsock.AF_INET)
	busyAddr := rawsock.AddrString(tcpSa)
	busyPath := filepath.Join(dir, "busy.sock")
	unixLn := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	if err := unixLn.Bind(rawsock.UnixAddr(busyPath)); err != nil {
		t.Fatal(err)
	}
	if err := unixLn.Listen(8); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  echo.ServerConfig
		want string
		is   error
	}{
		{"unknown network", echo.ServerConfig{Network: "sctp"}, `unknown network "sctp" (want one of tcp, tcp6, udp, udp6, unix, unixpacket, unixgram)`, nil},
		{"no port", echo.ServerConfig{Addr: "127.0.0.1"}, `malformed address "127.0.0.1": want HOST:PORT for tcp (missing port in address)`, nil},
		{"bad port", echo.ServerConfig{Addr: ":99999"}, `malformed address ":99999": port "99999" is not a number from 0 to 65535`, nil},
		{"named port", echo.ServerConfig{Addr: ":echo"}, `port "echo" is not a number`, nil},
		{"v6 on tcp", echo.ServerConfig{Addr: "[::1]:1"}, `::1 is an IPv6 address (use tcp6)`, nil},
		{"v4 on udp6", echo.ServerConfig{Network: "udp6", Addr: "127.0.0.1:1"}, `127.0.0.1 is an IPv4 address (use udp, or ::ffff:127.0.0.1)`, nil},
		{"port in use", echo.ServerConfig{Addr: busyAddr}, "bind: address already in use (" + busyAddr + ")", unix.EADDRINUSE},
		{"path in use", echo.ServerConfig{Network: "unix", Addr: busyPath}, "bind: address already in use (" + busyPath + ")", unix.EADDRINUSE},
		{"not a directory", echo.ServerConfig{Network: "unix", Addr: filepath.Join(file, "s.sock")}, "bind: not a directory (" + file + "/s.sock)", unix.ENOTDIR},
		{"no directory", echo.ServerConfig{Network: "unixpacket", Addr: filepath.Join(dir, "nope", "s.sock")}, "bind: no such file or directory", unix.ENOENT},
		{"a file is there", echo.ServerConfig{Network: "unix", Addr: file}, "bind: address already in use", unix.EADDRINUSE},
		{"path too long", echo.ServerConfig{Network: "unixgram", Addr: "/" + strings.Repeat("x", 120)}, "path is 121 bytes, AF_UNIX allows 107", nil},
		{"empty path", echo.ServerConfig{Network: "unix", Addr: "@"}, "unix needs a socket path", nil},
		{"bufsize", echo.ServerConfig{BufSize: -1}, "bufsize -1 out of range 1 to 1048576", nil},
		{"loop", echo.ServerConfig{Loop: "kqueue"}, `unknown loop "kqueue" (want goroutine or epoll)`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sockFDs(t)
			entries, _ := os.ReadDir(dir)
			s, err := echo.Listen(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("Listen(%+v) succeeded", tc.cfg)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line with %q", msg, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not match %v", err, tc.is)
			}
			// Bad input is ErrConfig; a refusal by the kernel is not.
			if errors.Is(err, echo.ErrConfig) != (tc.is == nil) {
				t.Errorf("errors.Is(%v, ErrConfig) = %v", err, errors.Is(err, echo.ErrConfig))
			}
			if after := sockFDs(t); after != before {
				t.Errorf("%d sockets open after, %d before", after, before)
			}
			if after, _ := os.ReadDir(dir); len(after) != len(entries) {
				t.Errorf("%d entries in %s after, %d before", len(after), dir, len(entries))
			}
		})
	}
}

// TestListenNotWritable: a directory the user may not write in (root
// passes permission checks, so it is skipped there).
func TestListenNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may bind in any directory: the permission case needs a normal user (the unprivileged run covers it)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	_, err := echo.Listen(echo.ServerConfig{Network: "unix", Addr: filepath.Join(dir, "s.sock")})
	if !errors.Is(err, unix.EACCES) || !strings.HasPrefix(err.Error(), "bind: permission denied (") {
		t.Errorf("error %v, want bind: permission denied", err)
	}
}

// TestUnixPathLifecycle: the socket file exists while serving and is gone
// after Close; a stale file (its server died without removing it) is
// replaced; an abstract name leaves nothing on disk.
func TestUnixPathLifecycle(t *testing.T) {
	for _, network := range []string{"unix", "unixpacket", "unixgram"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "s.sock")
				// A stale socket: bound, then closed without unlink.
				typ := map[string]int{"unix": rawsock.SOCK_STREAM, "unixpacket": rawsock.SOCK_SEQPACKET, "unixgram": rawsock.SOCK_DGRAM}[network]
				stale := socktest.MustSocket(t, rawsock.AF_UNIX, typ, 0)
				if err := stale.Bind(rawsock.UnixAddr(path)); err != nil {
					t.Fatal(err)
				}
				stale.Close()
				s, err := echo.Listen(echo.ServerConfig{Network: network, Addr: path, Loop: loop})
				if err != nil {
					t.Fatalf("over a stale socket file: %v", err)
				}
				go s.Serve()
				c, err := echo.Dial(network, path, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Exchange([]byte("x")); err != nil {
					t.Fatal(err)
				}
				c.Close()
				if _, err := os.Stat(path); err != nil {
					t.Fatalf("while serving: %v", err)
				}
				s.Close()
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("after Close: %v, want the file gone", err)
				}
			})
		}
	}
	t.Run("abstract", func(t *testing.T) {
		s := start(t, echo.ServerConfig{Network: "unix", Addr: "@rawsock-echo-test-" + t.Name()})
		if !strings.HasPrefix(s.Addr(), "@rawsock-echo-test-") {
			t.Errorf("Addr %q", s.Addr())
		}
	})
}
