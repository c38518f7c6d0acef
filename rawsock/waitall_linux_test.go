package rawsock_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// sendLater sends b on c after a pause, from another goroutine, and
// reports its error at the test's end.
func sendLater(t *testing.T, c *rawsock.Conn, send func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		done <- send()
	}()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("send: %v", err)
		}
	})
}

// TestRecvWaitall: in blocking mode MSG_WAITALL on a stream waits until
// the buffer is full, as recv(2) on a blocking fd does, through every
// receive call; it returns less at the end of the stream, and with no error
// when the timeout ends the wait after data came.
func TestRecvWaitall(t *testing.T) {
	const half = 10
	recvs := []struct {
		name string
		recv func(c *rawsock.Conn, b []byte, flags int) (int, error)
	}{
		{"Recv", (*rawsock.Conn).Recv},
		{"Recvfrom", func(c *rawsock.Conn, b []byte, flags int) (int, error) {
			n, _, err := c.Recvfrom(b, flags)
			return n, err
		}},
		{"RecvfromInet", func(c *rawsock.Conn, b []byte, flags int) (int, error) {
			n, _, err := c.RecvfromInet(b, flags)
			return n, err
		}},
		{"Recvmsg", func(c *rawsock.Conn, b []byte, flags int) (int, error) {
			n, _, _, _, err := c.Recvmsg(b, nil, flags)
			return n, err
		}},
		{"RecvContext", func(c *rawsock.Conn, b []byte, flags int) (int, error) {
			return c.RecvContext(context.Background(), b, flags)
		}},
	}
	first := make([]byte, half)
	second := make([]byte, half)
	for i := range half {
		first[i], second[i] = 'a'+byte(i), 'A'+byte(i)
	}
	want := string(first) + string(second)
	// split sends first now and second a little later on a fresh TCP
	// connection, and returns the receiving end.
	split := func(t *testing.T) *rawsock.Conn {
		s, c := socktest.TCPPair(t, rawsock.AF_INET)
		s.SetTimeout(slack)
		if _, err := c.Send(first, 0); err != nil {
			t.Fatal(err)
		}
		sendLater(t, c, func() error { _, err := c.Send(second, 0); return err })
		return s
	}
	for _, r := range recvs {
		t.Run(r.name, func(t *testing.T) {
			t.Run("full", func(t *testing.T) {
				s := split(t)
				b := make([]byte, 2*half)
				n, err := r.recv(s, b, unix.MSG_WAITALL)
				if err != nil || string(b[:n]) != want {
					t.Fatalf("got %d, %q, %v; want %q", n, b[:n], err, want)
				}
			})
			t.Run("peek", func(t *testing.T) {
				s := split(t)
				b := make([]byte, 2*half)
				n, err := r.recv(s, b, unix.MSG_WAITALL|unix.MSG_PEEK)
				if err != nil || string(b[:n]) != want {
					t.Fatalf("peek: got %d, %q, %v; want %q", n, b[:n], err, want)
				}
				// The peek left it all queued.
				n, err = r.recv(s, b, unix.MSG_WAITALL)
				if err != nil || string(b[:n]) != want {
					t.Fatalf("after peek: got %d, %q, %v; want %q", n, b[:n], err, want)
				}
			})
			t.Run("end of stream", func(t *testing.T) {
				s, c := socktest.TCPPair(t, rawsock.AF_INET)
				s.SetTimeout(slack)
				if _, err := c.Send(first, 0); err != nil {
					t.Fatal(err)
				}
				sendLater(t, c, func() error { return c.Shutdown(rawsock.SHUT_WR) })
				b := make([]byte, 2*half)
				if n, err := r.recv(s, b, unix.MSG_WAITALL); err != nil || string(b[:n]) != string(first) {
					t.Fatalf("got %d, %q, %v; want %q", n, b[:n], err, first)
				}
				if n, err := r.recv(s, b, unix.MSG_WAITALL); n != 0 || err != nil {
					t.Fatalf("after the end: %d, %v; want 0, nil", n, err)
				}
			})
			t.Run("timeout after data", func(t *testing.T) {
				s, c := socktest.TCPPair(t, rawsock.AF_INET)
				s.SetTimeout(100 * time.Millisecond)
				if _, err := c.Send(first, 0); err != nil {
					t.Fatal(err)
				}
				b := make([]byte, 2*half)
				if n, err := r.recv(s, b, unix.MSG_WAITALL); err != nil || string(b[:n]) != string(first) {
					t.Fatalf("got %d, %q, %v; want %q and no error", n, b[:n], err, first)
				}
				if n, err := r.recv(s, b, unix.MSG_WAITALL); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("nothing queued: %d, %v; want a timeout", n, err)
				}
			})
			t.Run("non-blocking", func(t *testing.T) {
				s, c := socktest.TCPPair(t, rawsock.AF_INET)
				if _, err := c.Send(first, 0); err != nil {
					t.Fatal(err)
				}
				s.SetTimeout(slack)
				b := make([]byte, 2*half) // wait for the first part to arrive
				if n, err := r.recv(s, b[:1], unix.MSG_WAITALL|unix.MSG_PEEK); n != 1 || err != nil {
					t.Fatal(n, err)
				}
				s.SetBlocking(false)
				if n, err := r.recv(s, b, unix.MSG_WAITALL); err != nil || n != half {
					t.Fatalf("got %d, %v; want %d at once, as on a non-blocking fd", n, err, half)
				}
			})
		})
	}
}

// TestRecvmmsgBatch: in blocking mode Recvmmsg without MSG_WAITFORONE
// waits for the whole batch, as recvmmsg(2) on a blocking fd does; with a
// timeout it returns the part that came, without error.
func TestRecvmmsgBatch(t *testing.T) {
	batch := func() []rawsock.Message {
		in := make([]rawsock.Message, 4)
		for i := range in {
			in[i].Buf = make([]byte, 16)
		}
		return in
	}
	msg := func(s string) []rawsock.Message { return []rawsock.Message{{Buf: []byte(s)}} }
	t.Run("whole batch", func(t *testing.T) {
		a, b := socktest.UDPPair(t, rawsock.AF_INET)
		b.SetTimeout(slack)
		if _, err := a.Sendmmsg(msg("0"), 0); err != nil {
			t.Fatal(err)
		}
		sendLater(t, a, func() error {
			_, err := a.Sendmmsg([]rawsock.Message{{Buf: []byte("1")}, {Buf: []byte("2")}, {Buf: []byte("3")}}, 0)
			return err
		})
		in := batch()
		n, err := b.Recvmmsg(in, 0)
		if err != nil || n != len(in) {
			t.Fatalf("Recvmmsg: %d, %v; want %d", n, err, len(in))
		}
		for i := range in {
			if got := string(in[i].Buf[:in[i].N]); got != string(rune('0'+i)) || !in[i].Addr.IsValid() {
				t.Errorf("message %d: %q from %v", i, got, in[i].Addr)
			}
		}
	})
	t.Run("timeout after data", func(t *testing.T) {
		a, b := socktest.UDPPair(t, rawsock.AF_INET)
		b.SetTimeout(100 * time.Millisecond)
		if _, err := a.Sendmmsg(append(msg("0"), msg("1")...), 0); err != nil {
			t.Fatal(err)
		}
		in := batch()
		if n, err := b.Recvmmsg(in, 0); n != 2 || err != nil || string(in[1].Buf[:in[1].N]) != "1" {
			t.Fatalf("Recvmmsg: %d, %v; want 2 and no error", n, err)
		}
		if n, err := b.Recvmmsg(in, 0); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("nothing queued: %d, %v; want a timeout", n, err)
		}
	})
}

// TestRecvmsgWaitallRights: MSG_WAITALL stops at a message carrying fds,
// as the kernel's unix stream read does, rather than wait for more with the
// fds in hand.
func TestRecvmsgWaitallRights(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	b.SetTimeout(slack)
	if _, err := a.Sendmsg([]byte("f"), rawsock.UnixRights(a.Fileno()), nil, 0); err != nil {
		t.Fatal(err)
	}
	p, oob := make([]byte, 10), make([]byte, rawsock.CmsgSpace(4))
	n, oobn, _, _, err := b.Recvmsg(p, oob, unix.MSG_WAITALL)
	if err != nil || n != 1 || oobn == 0 {
		t.Fatalf("Recvmsg: %d bytes, %d of control, %v; want 1 byte and the fd", n, oobn, err)
	}
	m := oneMessage(t, oob[:oobn])
	fds, err := m.Rights()
	if err != nil || len(fds) != 1 {
		t.Fatalf("Rights: %v, %v", fds, err)
	}
	unix.Close(fds[0])
}
