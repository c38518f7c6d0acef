package rawsock_test

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestTimerfdInEpoll: a periodic timer wakes epoll_wait(-1) once per
// expiration, Read returns the count and then EAGAIN, a disarmed timer
// stays silent, and a closed one refuses every call with net.ErrClosed.
func TestTimerfdInEpoll(t *testing.T) {
	tm, err := rawsock.TimerfdCreate(rawsock.CLOCK_MONOTONIC)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	ep, err := rawsock.EpollCreate1(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	if err := ep.Ctl(unix.EPOLL_CTL_ADD, tm.Fd(), &rawsock.EpollEvent{Events: rawsock.EPOLLIN, Fd: int32(tm.Fd())}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Read(); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("Read of a new timer: %v, want EAGAIN", err)
	}
	if err := tm.Settime(time.Millisecond, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	events := make([]rawsock.EpollEvent, 4)
	for i := range 3 {
		n, err := ep.Wait(events, -1)
		if err != nil || n != 1 || int(events[0].Fd) != tm.Fd() {
			t.Fatalf("wait %d: %d events %v, %v; want the timer's", i, n, events[:max(n, 0)], err)
		}
		k, err := tm.Read()
		if err != nil || k == 0 {
			t.Fatalf("Read after a wake-up: %d, %v; want at least one expiration", k, err)
		}
	}
	if err := tm.Settime(0, 0); err != nil {
		t.Fatal(err)
	}
	tm.Read() // an expiration that came before the disarm
	if n, err := ep.Wait(events, 30); n != 0 || err != nil {
		t.Errorf("a disarmed timer woke epoll_wait: %d, %v", n, err)
	}
	if err := tm.Settime(-time.Second, 0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Settime(-1s): %v, want EINVAL", err)
	}
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
	if tm.Fd() != -1 {
		t.Errorf("Fd after Close: %d, want -1", tm.Fd())
	}
	if _, err := tm.Read(); !errors.Is(err, net.ErrClosed) || err.Error() != "read: use of closed Timerfd" {
		t.Errorf("Read after Close: %v", err)
	}
	if err := tm.Settime(time.Second, 0); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Settime after Close: %v", err)
	}
	if _, err := rawsock.TimerfdCreate(12345); !errors.Is(err, unix.EINVAL) || err.Error() != "timerfd_create: invalid argument" {
		t.Errorf("TimerfdCreate(12345): %v, want timerfd_create: invalid argument", err)
	}
}

// TestTraceTimerfd: the timer's three calls show in the trace with their
// clock and times decoded.
func TestTraceTimerfd(t *testing.T) {
	w := startTrace(t)
	mark := 0
	tm, err := rawsock.TimerfdCreate(rawsock.CLOCK_MONOTONIC)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	tm.Settime(time.Hour, 5*time.Millisecond)
	tm.Read()
	fd := tm.Fd()
	expectLines(t, "timerfd", traceStep(w, &mark),
		fmt.Sprintf("timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC) = %d", fd),
		fmt.Sprintf("timerfd_settime(%d, 0, {it_value=1h0m0s, it_interval=5ms}) = 0", fd),
		fmt.Sprintf("read(%d, 8) = -1 EAGAIN (Resource temporarily unavailable)", fd))
}
