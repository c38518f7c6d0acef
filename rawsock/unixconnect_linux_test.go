package rawsock_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// fullUnixListener is an AF_UNIX stream listener with backlog 0 and one
// connection queued: the next connect to it fails with EAGAIN until the
// listener accepts.
func fullUnixListener(t *testing.T) (*rawsock.Conn, unix.Sockaddr) {
	t.Helper()
	l := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	sa := rawsock.UnixAddr(filepath.Join(t.TempDir(), "l"))
	if err := l.Bind(sa); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(0); err != nil {
		t.Fatal(err)
	}
	first := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	if err := first.Connect(sa); err != nil {
		t.Fatal(err)
	}
	return l, sa
}

// TestUnixConnectBacklogDrains: a blocking AF_UNIX connect to a full
// listener completes once the listener accepts, as C's blocking connect
// does (the kernel sleeps in unix_wait_for_peer), with no timeout, with a
// timeout longer than the wait, and with a context.
func TestUnixConnectBacklogDrains(t *testing.T) {
	for _, tc := range []struct {
		name    string
		connect func(c *rawsock.Conn, sa unix.Sockaddr) error
	}{
		{"blocking", func(c *rawsock.Conn, sa unix.Sockaddr) error { return c.Connect(sa) }},
		{"timeout", func(c *rawsock.Conn, sa unix.Sockaddr) error {
			c.SetTimeout(2 * slack)
			return c.Connect(sa)
		}},
		{"deadline", func(c *rawsock.Conn, sa unix.Sockaddr) error {
			c.SetWriteDeadline(time.Now().Add(2 * slack))
			return c.Connect(sa)
		}},
		{"context", func(c *rawsock.Conn, sa unix.Sockaddr) error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*slack)
			defer cancel()
			return c.ConnectContext(ctx, sa)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, sa := fullUnixListener(t)
			c := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			done := make(chan error, 1)
			go func() { done <- tc.connect(c, sa) }()
			time.Sleep(200 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("connect to a full listener returned before the accept: %v", err)
			default:
			}
			s, _, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("connect after the backlog drained: %v", err)
				}
			case <-time.After(slack):
				t.Fatalf("connect still blocked %v after the backlog drained", slack)
			}
			// The connection is the listener's next one.
			s, _, err = l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := c.Send([]byte("x"), 0); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1)
			if n, err := s.Recv(buf, 0); n != 1 || err != nil {
				t.Errorf("accepted end got %d, %v", n, err)
			}
		})
	}
}

// TestUnixConnectBackoffWakes: while a connect to a full listener waits
// between tries, Close, a context's cancellation and a deadline set from
// another goroutine each end it at once (within slack), with their own
// error.
func TestUnixConnectBackoffWakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
		end  func(c *rawsock.Conn, cancel func())
	}{
		{"close", net.ErrClosed, func(c *rawsock.Conn, _ func()) { c.Close() }},
		{"cancel", context.Canceled, func(_ *rawsock.Conn, cancel func()) { cancel() }},
		{"deadline", os.ErrDeadlineExceeded, func(c *rawsock.Conn, _ func()) { c.SetWriteDeadline(time.Now()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, sa := fullUnixListener(t)
			c := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.ConnectContext(ctx, sa) }()
			// Long enough for the backoff to reach its longest sleep.
			time.Sleep(300 * time.Millisecond)
			start := time.Now()
			tc.end(c, cancel)
			select {
			case err := <-done:
				within(t, "woken connect", start, 0)
				syscallIs(t, err, "connect", tc.want)
			case <-time.After(slack):
				t.Fatalf("connect not woken by %s", tc.name)
			}
		})
	}
}
