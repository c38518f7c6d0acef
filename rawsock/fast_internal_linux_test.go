package rawsock

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFastPathNonblock: after SetBlocking(false) Send and Recv take the
// fast path too (an event loop's calls, which never wait). Holding the
// side mutexes shows it: the poller's way would block on them.
func TestFastPathNonblock(t *testing.T) {
	a, b, err := Socketpair(AF_UNIX, SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	a.SetBlocking(false)
	b.SetBlocking(false)
	a.wmu.Lock()
	b.rmu.Lock()
	done := make(chan error, 1)
	go func() {
		if _, err := a.Send([]byte("x"), 0); err != nil {
			done <- err
			return
		}
		buf := make([]byte, 8)
		if n, err := b.Recv(buf, 0); err != nil || n != 1 {
			done <- errors.Join(err, errors.New("want the 1-byte datagram"))
			return
		}
		_, err := b.Recv(buf, 0) // nothing queued: EAGAIN at once
		if !errors.Is(err, unix.EAGAIN) {
			done <- errors.Join(err, errors.New("want EAGAIN"))
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		a.wmu.Unlock()
		b.rmu.Unlock()
		<-done
		t.Fatal("a non-blocking Send or Recv waited for the side's mutex: it went the poller's way")
	}
	a.wmu.Unlock()
	b.rmu.Unlock()
}
