package rawsock_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestSyscallConn checks the RawConn: Control runs on the fd, Read parks
// until f is satisfied, deadlines and Close end the wait with the package's
// errors, and a closed socket gives none.
func TestSyscallConn(t *testing.T) {
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	rc, err := b.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := rc.Control(func(fd uintptr) { got = int(fd) }); err != nil || got != b.Fileno() {
		t.Fatalf("Control: fd %d, err %v; want fd %d", got, err, b.Fileno())
	}

	// Read: the first try finds nothing (EAGAIN), the poller wakes the
	// goroutine when the datagram arrives, the second try takes it.
	buf := make([]byte, 16)
	tries, n := 0, 0
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.Send([]byte("hello"), 0)
	}()
	err = rc.Read(func(fd uintptr) bool {
		tries++
		var rerr error
		n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil || string(buf[:n]) != "hello" || tries < 2 {
		t.Fatalf("Read: %q after %d tries, err %v; want \"hello\" after 2 or more", buf[:n], tries, err)
	}

	never := func(uintptr) bool { return false }
	b.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if err := rc.Read(never); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	b.SetReadDeadline(time.Time{})
	b.SetTimeout(10 * time.Millisecond)
	if err := rc.Read(never); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read with a timeout: %v, want os.ErrDeadlineExceeded", err)
	}
	b.SetTimeout(0)

	done := make(chan error, 1)
	go func() { done <- rc.Read(never) }()
	time.Sleep(20 * time.Millisecond)
	b.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read woken by Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(slack):
		t.Fatalf("Read still parked %v after Close", slack)
	}
	if err := rc.Control(func(uintptr) {}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Control after Close: %v, want net.ErrClosed", err)
	}
	if err := rc.Write(func(uintptr) bool { return true }); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
	if _, err := b.SyscallConn(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SyscallConn after Close: %v, want net.ErrClosed", err)
	}
}

// TestSyscallConnAllocs: a Read that finds f satisfied allocates nothing,
// so a ring reader built on it can be allocation-free.
func TestSyscallConnAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are skipped in -short mode")
	}
	_, b := socktest.UDPPair(t, rawsock.AF_INET)
	rc, err := b.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	ready := func(uintptr) bool { return true }
	if n := testing.AllocsPerRun(200, func() {
		if err := rc.Read(ready); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Read: %v allocs per call, want 0", n)
	}
}
