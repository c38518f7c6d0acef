package rawsock_test

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestFastSendRacingClose: Send without a deadline makes its syscall
// outside the poller (the fast path), so Close must wait for it before it
// closes the fd. A Send racing Close either succeeds or fails with
// net.ErrClosed, and never lands on a socket that reused the fd's number:
// each round opens a new pair right after Close, which takes the freed
// number, and checks that nothing arrives on it.
func TestFastSendRacingClose(t *testing.T) {
	msg := []byte("x")
	for round := range 300 {
		a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded: b is drained below only by Close, so at most the
			// socket buffer's worth succeeds before a Send would wait;
			// MSG_DONTWAIT turns that into EAGAIN, which ends the loop.
			for range 10000 {
				if _, err := a.Send(msg, rawsock.MSG_DONTWAIT); err != nil {
					if !errors.Is(err, net.ErrClosed) && !errors.Is(err, unix.EAGAIN) {
						t.Errorf("round %d: send: %v", round, err)
					}
					return
				}
			}
		}()
		a.Close()
		x, y, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		buf := make([]byte, 8)
		if n, err := y.Recv(buf, rawsock.MSG_DONTWAIT); !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("round %d: a send after Close reached a new socket (fd %d): %d bytes, %v", round, x.Fileno(), n, err)
		}
		for _, c := range []*rawsock.Conn{b, x, y} {
			c.Close()
		}
	}
}

// TestFastRecvWaitsForWaitall: calls of one side are serialized, the fast
// path's included. A Recv issued while a MSG_WAITALL Recv has part of its
// bytes must not take the rest: it waits for the WAITALL call to end and
// reads what comes after.
func TestFastRecvWaitsForWaitall(t *testing.T) {
	a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	// Bounds the calls without a deadline, which would close the fast path:
	// Close wakes them.
	dog := time.AfterFunc(5*time.Second, func() { b.Close() })
	defer dog.Stop()
	all := make(chan string, 1)
	go func() {
		buf := make([]byte, 10)
		n, err := b.Recv(buf, rawsock.MSG_WAITALL)
		if err != nil {
			t.Errorf("waitall recv: %v", err)
		}
		all <- string(buf[:n])
	}()
	send := func(s string) {
		if _, err := a.Send([]byte(s), 0); err != nil {
			t.Fatal(err)
		}
	}
	send("01234")
	// Give the WAITALL call time to take the first half. Either order of
	// the two calls is right; what must not happen is the second taking
	// bytes from the middle of the first's.
	time.Sleep(20 * time.Millisecond)
	other := make(chan string, 1)
	go func() {
		// Polls with MSG_DONTWAIT, so that it would catch the bytes the
		// moment they come if it could run beside the WAITALL call.
		// Bounded in count and time.
		buf := make([]byte, 10)
		for i, end := 0, time.Now().Add(5*time.Second); i < 1e7 && time.Now().Before(end); i++ {
			n, err := b.Recv(buf, rawsock.MSG_DONTWAIT)
			if err == nil {
				other <- string(buf[:n])
				return
			}
			if !errors.Is(err, unix.EAGAIN) {
				t.Errorf("recv: %v", err)
				break
			}
		}
		other <- ""
	}()
	time.Sleep(5 * time.Millisecond)
	send("56789")
	send("after")
	got, got2 := <-all, <-other
	if !(got == "0123456789" && got2 == "after" || got2 == "01234" && got == "56789after") {
		t.Fatalf("MSG_WAITALL recv got %q and the recv beside it %q: not one after the other", got, got2)
	}
}

// TestFastPathBlockingFileDescription: the fd's open file description is
// shared with every dup of it, and whoever holds one can clear O_NONBLOCK.
// A call in SetBlocking(false) mode must still return EAGAIN at once, not
// sleep in recvfrom(2): the fast path adds MSG_DONTWAIT. (A blocking call's
// wait on the poller assumes O_NONBLOCK, as net's does.)
func TestFastPathBlockingFileDescription(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_DGRAM)
	if err := unix.SetNonblock(a.Fileno(), false); err != nil {
		t.Fatal(err)
	}
	if err := a.SetBlocking(false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.Recv(make([]byte, 8), 0)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, unix.EAGAIN) {
			t.Errorf("SetBlocking(false) Recv on a blocking file description: %v, want EAGAIN", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("SetBlocking(false) Recv still in recvfrom(2) after 10 s on a file description without O_NONBLOCK")
		b.Send([]byte("x"), 0) // release it
		<-done
	}
}
