package rawsock_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// closedErr reports what is wrong with an error from a call that raced
// Close: nothing when it is nil or a *os.SyscallError matching
// net.ErrClosed.
func closedErr(err error) string {
	var se *os.SyscallError
	if err == nil || (errors.Is(err, net.ErrClosed) && errors.As(err, &se)) {
		return ""
	}
	return "error " + err.Error() + " (" + typeName(err) + "): want nil or a *os.SyscallError matching net.ErrClosed"
}

func typeName(err error) string {
	switch err.(type) {
	case *os.SyscallError:
		return "*os.SyscallError"
	case *os.PathError:
		return "*os.PathError"
	}
	return "other"
}

// TestSetDeadlineRacingClose: SetDeadline racing Close returns nil or
// the closed error, never the runtime poller's own.
func TestSetDeadlineRacingClose(t *testing.T) {
	t.Parallel()
	for round := 0; round < 200; round++ {
		c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			for i := 0; i < 1000; i++ {
				err := c.SetDeadline(time.Now().Add(time.Hour))
				if i == 0 {
					close(started)
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		<-started
		c.Close()
		if msg := closedErr(<-errc); msg != "" {
			t.Fatalf("round %d: SetDeadline racing Close: %s", round, msg)
		}
	}
}

// TestEpollCloseWakesWait: Close wakes a Wait blocked without a timeout,
// which returns an error matching net.ErrClosed (and EBADF, what C's
// epoll_wait on a closed fd gives).
func TestEpollCloseWakesWait(t *testing.T) {
	t.Parallel()
	ep, err := rawsock.EpollCreate1(0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ep.Wait(make([]rawsock.EpollEvent, 4), -1)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it block (it fails the same way if not)
	if err := ep.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if msg := closedErr(err); msg != "" || err == nil {
			t.Errorf("Wait woken by Close: %v %s", err, msg)
		}
		if !errors.Is(err, unix.EBADF) {
			t.Errorf("Wait woken by Close: %v, want it to match EBADF too", err)
		}
	case <-time.After(slack):
		t.Fatal("Close did not wake the blocked Wait")
	}
	if fd := ep.Fd(); fd != -1 {
		t.Errorf("Fd after Close: %d, want -1", fd)
	}
}

// TestEpollCtlRacingClose: a Ctl racing Close never lands in the next
// epoll instance, which reuses the closed one's number: 1000 rounds, each
// checking that the new instance is empty.
func TestEpollCtlRacingClose(t *testing.T) {
	t.Parallel()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	ev := rawsock.EpollEvent{Events: rawsock.EPOLLIN}
	for round := 0; round < 1000; round++ {
		ep, err := rawsock.EpollCreate1(0)
		if err != nil {
			t.Fatal(err)
		}
		started, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 1000; i++ {
				err := ep.Ctl(unix.EPOLL_CTL_ADD, p[0], &ev)
				if i == 0 {
					close(started)
				}
				if err != nil || ep.Ctl(unix.EPOLL_CTL_DEL, p[0], nil) != nil {
					return
				}
			}
		}()
		<-started
		ep.Close()
		next, err := rawsock.EpollCreate1(0)
		if err != nil {
			t.Fatal(err)
		}
		<-done
		// A Ctl of the old instance that reached the new one left p[0] in it.
		err = next.Ctl(unix.EPOLL_CTL_DEL, p[0], nil)
		next.Close()
		if !errors.Is(err, unix.ENOENT) {
			t.Fatalf("round %d: the new epoll instance holds the fd a Ctl racing Close added (DEL: %v)", round, err)
		}
	}
}
