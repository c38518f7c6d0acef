package rawsock_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

// TestDeadlineKeepsTimeout: a deadline set, moved or cleared while a call
// is blocked combines with the call's per-call timeout: the earlier wins,
// and clearing the deadline does not lift the timeout.
func TestDeadlineKeepsTimeout(t *testing.T) {
	const d = 100 * time.Millisecond
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (c *rawsock.Conn, call func() error, set func(time.Time) error)
	}{
		{"recvfrom", func(t *testing.T) (*rawsock.Conn, func() error, func(time.Time) error) {
			c := udpReceiver(t)
			return c, func() error { _, err := c.Recv(make([]byte, 8), 0); return err }, c.SetReadDeadline
		}},
		{"sendto", func(t *testing.T) (*rawsock.Conn, func() error, func(time.Time) error) {
			c := fullUnixSender(t)
			return c, func() error { _, err := c.Send(make([]byte, 8), 0); return err }, c.SetWriteDeadline
		}},
	} {
		for _, dl := range []struct {
			name string
			at   func() time.Time
		}{
			{"clear", func() time.Time { return time.Time{} }},
			{"later", func() time.Time { return time.Now().Add(time.Hour) }},
		} {
			t.Run(tc.name+"/"+dl.name, func(t *testing.T) {
				t.Parallel()
				c, call, set := tc.setup(t)
				c.SetTimeout(d)
				done := make(chan error, 1)
				start := time.Now()
				go func() { done <- call() }()
				time.Sleep(20 * time.Millisecond)
				if err := set(dl.at()); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-done:
					within(t, "call with a timeout", start, d)
					syscallIs(t, err, tc.name, os.ErrDeadlineExceeded)
				case <-time.After(slack):
					t.Fatalf("the deadline set during the call lifted its %v timeout", d)
				}
			})
		}
	}
}

// TestDeadlineKeepsCancel: a deadline set while the context is being
// cancelled never undoes the cancellation. 200 rounds, each racing a burst
// of SetReadDeadline calls (bounded in count) against cancel().
func TestDeadlineKeepsCancel(t *testing.T) {
	t.Parallel()
	c := udpReceiver(t)
	buf := make([]byte, 8)
	for round := 0; round < 200; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := c.RecvContext(ctx, buf, 0); done <- err }()
		time.Sleep(time.Millisecond)
		stop, setter := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(setter)
			for i := 0; i < 20000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c.SetReadDeadline(time.Time{})
			}
		}()
		cancel()
		var err error
		lost := false
		select {
		case err = <-done:
		case <-time.After(slack):
			lost = true
		}
		close(stop)
		<-setter
		if lost {
			c.SetReadDeadline(time.Now()) // free the call
			<-done
			t.Fatalf("round %d: the cancellation was lost to SetReadDeadline", round)
		}
		syscallIs(t, err, "recvfrom", context.Canceled)
	}
}

// TestDeadlineWithContextDeadline: a later deadline set during a call does
// not extend the context's deadline, and an earlier one ends the call
// first.
func TestDeadlineWithContextDeadline(t *testing.T) {
	t.Parallel()
	c := udpReceiver(t)
	buf := make([]byte, 8)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { _, err := c.RecvContext(ctx, buf, 0); done <- err }()
	time.Sleep(20 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(time.Hour))
	select {
	case err := <-done:
		within(t, "call with a context deadline", start, 100*time.Millisecond)
		syscallIs(t, err, "recvfrom", context.DeadlineExceeded)
	case <-time.After(slack):
		t.Fatal("a later read deadline extended the context's deadline")
	}

	// An earlier user deadline ends the call first, with its own error.
	c.SetReadDeadline(time.Time{})
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	start = time.Now()
	go func() { _, err := c.RecvContext(ctx2, buf, 0); done <- err }()
	time.Sleep(20 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	select {
	case err := <-done:
		within(t, "call given an earlier deadline", start, 50*time.Millisecond)
		syscallIs(t, err, "recvfrom", os.ErrDeadlineExceeded)
	case <-time.After(slack):
		t.Fatal("a read deadline set during a context call did not end it")
	}
}

// BenchmarkTimeoutCall is BenchmarkUDP's rawsock round (SendtoInet and
// RecvfromInet) with a per-call timeout set on both sockets, the path
// that sets the file's deadline at each call's start: compare with
// BenchmarkUDP/deadline=set/size=64/impl=rawsock.
func BenchmarkTimeoutCall(b *testing.B) {
	rawsock.SetTrace(nil)
	a, z, to := udpPair(b)
	a.SetTimeout(benchDeadline)
	z.SetTimeout(benchDeadline)
	msg, buf := benchBufs(b, 64)
	for b.Loop() {
		if _, err := a.SendtoInet(msg, 0, to); err != nil {
			b.Fatal(err)
		}
		if _, _, err := z.RecvfromInet(buf, 0); err != nil {
			b.Fatal(err)
		}
	}
}
