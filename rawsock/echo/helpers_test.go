package echo_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/echo"
)

// loops are the two engines every behaviour is checked on.
var loops = []string{echo.LoopGoroutine, echo.LoopEpoll}

// testAddr is a free address of the network: port 0 on loopback, or a path
// in the test's temporary directory.
func testAddr(t testing.TB, network string) string {
	t.Helper()
	switch network {
	case "tcp", "udp":
		return "127.0.0.1:0"
	case "tcp6", "udp6":
		socktest.SkipIfNoIPv6(t)
		return "[::1]:0"
	}
	return filepath.Join(t.TempDir(), "s.sock")
}

// start runs a server for the test; it is stopped, and Serve's result
// checked, at the end.
func start(t testing.TB, cfg echo.ServerConfig) *echo.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = testAddr(t, cfg.Network)
	}
	s, err := echo.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	// One exchange: Serve is running (in epoll mode its fds are open) and
	// the time zone is loaded before a test counts fds.
	c := dial(t, s)
	if _, err := c.Exchange([]byte("warm-up")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
	return s
}

func dial(t testing.TB, s *echo.Server) *echo.Client {
	t.Helper()
	c, err := echo.Dial(s.Network(), s.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// randomData is n random bytes, every value possible (timestamps' letters
// included, so the client's re-framing is exercised).
func randomData(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := i; j < min(i+8, n); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return b
}

// isClosed reports whether err is a connection ending: EOF, reset, or the
// client's ErrClosedByServer.
func isClosed(err error) bool {
	return err != nil && (errors.Is(err, echo.ErrClosedByServer) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe"))
}

func mustAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}
