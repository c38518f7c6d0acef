package rawsock_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
)

// ctxCall is one Context form, set up to block: a receive with nothing to
// receive, a send into a full buffer, an accept with no client, a connect
// to a full listener.
type ctxCall struct {
	name  string // the syscall its errors name
	setup func(t *testing.T) (*rawsock.Conn, func(ctx context.Context) error)
}

func ctxCalls() []ctxCall {
	recvSide, fullUnix := udpReceiver, fullUnixSender
	// Sendto with an address needs a socket that takes one while
	// connected: TCP ignores it.
	fullTCP := func(t *testing.T) (*rawsock.Conn, rawsock.Message) {
		_, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
		fillSendBuffer(t, c)
		peer, _ := c.Getpeername()
		ap, _ := rawsock.AddrPortFromSockaddr(peer)
		return c, rawsock.Message{Addr: ap}
	}
	b := func() []byte { return make([]byte, 64) }
	type fn = func(ctx context.Context) error
	return []ctxCall{
		{"accept4", func(t *testing.T) (*rawsock.Conn, fn) {
			l, _ := socktest.Listener(t, rawsock.AF_INET)
			return l, func(ctx context.Context) error { _, _, err := l.AcceptContext(ctx); return err }
		}},
		{"connect", func(t *testing.T) (*rawsock.Conn, fn) {
			sa := stalledListener(t, rawsock.AF_INET)
			c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			return c, func(ctx context.Context) error { return c.ConnectContext(ctx, sa) }
		}},
		{"connect", func(t *testing.T) (*rawsock.Conn, fn) {
			sa := stalledListener(t, rawsock.AF_UNIX)
			c := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			return c, func(ctx context.Context) error { return c.ConnectContext(ctx, sa) }
		}},
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, fn) {
			c := recvSide(t)
			return c, func(ctx context.Context) error { _, err := c.RecvContext(ctx, b(), 0); return err }
		}},
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, fn) {
			c := recvSide(t)
			return c, func(ctx context.Context) error { _, _, err := c.RecvfromContext(ctx, b(), 0); return err }
		}},
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, fn) {
			c := recvSide(t)
			return c, func(ctx context.Context) error { _, _, err := c.RecvfromInetContext(ctx, b(), 0); return err }
		}},
		{"recvmsg", func(t *testing.T) (*rawsock.Conn, fn) {
			c := recvSide(t)
			return c, func(ctx context.Context) error { _, _, _, _, err := c.RecvmsgContext(ctx, b(), b(), 0); return err }
		}},
		{"recvmmsg", func(t *testing.T) (*rawsock.Conn, fn) {
			c := recvSide(t)
			return c, func(ctx context.Context) error {
				_, err := c.RecvmmsgContext(ctx, []rawsock.Message{{Buf: b()}}, 0)
				return err
			}
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, fn) {
			c := fullUnix(t)
			return c, func(ctx context.Context) error { _, err := c.SendContext(ctx, b(), 0); return err }
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, fn) {
			c := fullUnix(t)
			return c, func(ctx context.Context) error { return c.SendallContext(ctx, make([]byte, 1<<20), 0) }
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, fn) {
			c, m := fullTCP(t)
			to := rawsock.SockaddrFromAddrPort(m.Addr)
			return c, func(ctx context.Context) error { _, err := c.SendtoContext(ctx, b(), 0, to); return err }
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, fn) {
			c, m := fullTCP(t)
			return c, func(ctx context.Context) error { _, err := c.SendtoInetContext(ctx, b(), 0, m.Addr); return err }
		}},
		{"sendmsg", func(t *testing.T) (*rawsock.Conn, fn) {
			c := fullUnix(t)
			return c, func(ctx context.Context) error { _, err := c.SendmsgContext(ctx, b(), nil, nil, 0); return err }
		}},
		{"sendmmsg", func(t *testing.T) (*rawsock.Conn, fn) {
			c := fullUnix(t)
			return c, func(ctx context.Context) error {
				_, err := c.SendmmsgContext(ctx, []rawsock.Message{{Buf: b()}}, 0)
				return err
			}
		}},
	}
}

// TestContextCancel: cancelling the context wakes the blocked call with
// the context's error, named after the syscall; a context already done
// fails the call at once; a context deadline gives DeadlineExceeded; and
// afterwards the Conn's plain calls behave as before.
func TestContextCancel(t *testing.T) {
	for i, cc := range ctxCalls() {
		t.Run(strconv.Itoa(i)+"-"+cc.name, func(t *testing.T) {
			t.Parallel()
			c, call := cc.setup(t)

			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			start := time.Now()
			go func() { errc <- call(ctx) }()
			time.Sleep(50 * time.Millisecond)
			cancel()
			select {
			case err := <-errc:
				within(t, "cancelled call", start, 50*time.Millisecond)
				syscallIs(t, err, cc.name, context.Canceled)
			case <-time.After(slack):
				t.Fatal("cancel did not wake the call")
			}

			start = time.Now()
			syscallIs(t, call(ctx), cc.name, context.Canceled)
			within(t, "call with a cancelled context", start, 0)

			// Short deadlines, a few times: the context's timer and the
			// poller's deadline race, and the context's error must win.
			for n := 0; n < 5; n++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n+1)*time.Millisecond)
				err := call(ctx)
				cancel()
				syscallIs(t, err, cc.name, context.DeadlineExceeded)
			}

			// The cancellation left nothing behind: a plain call with a
			// timeout waits that timeout, no less.
			c.SetTimeout(30 * time.Millisecond)
			start = time.Now()
			err := call(context.Background())
			within(t, "plain call after a cancelled one", start, 30*time.Millisecond)
			syscallIs(t, err, cc.name, os.ErrDeadlineExceeded)
		})
	}
}

// TestContextCompletes: a Context form that does not block returns its
// result as the plain form does.
func TestContextCompletes(t *testing.T) {
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.SendContext(ctx, []byte("ctx"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := b.RecvContext(ctx, buf, 0); err != nil || string(buf[:n]) != "ctx" {
		t.Errorf("RecvContext: %q, %v", buf[:n], err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Error("context cancelled by the calls")
	}
}
