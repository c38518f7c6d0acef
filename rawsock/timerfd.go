package rawsock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Timerfd is a timerfd(2) timer: each expiration makes its fd readable, so
// an Epoll set waits for sockets and timers in one epoll_wait(2), as a C
// event loop does. A loop that passed its next deadline as epoll_wait's
// timeout instead has the kernel arm an hrtimer at every call that sleeps
// (README, "The epoll engine against C"). Python 3.13 has the same calls,
// os.timerfd_create and os.timerfd_settime.
type Timerfd struct {
	fd     int
	closed atomic.Bool
	// mu is held shared by Settime and Read while they use fd, and by
	// Close alone to close it, as Epoll's.
	mu sync.RWMutex
}

// TimerfdCreate wraps timerfd_create(2) on clock (CLOCK_MONOTONIC,
// CLOCK_REALTIME, CLOCK_BOOTTIME, ...). TFD_NONBLOCK and TFD_CLOEXEC are
// always added: Read returns EAGAIN rather than wait, and the Epoll set
// does the waiting.
func TimerfdCreate(clock int) (*Timerfd, error) { return timerfdCreate(clock) }

// Fd returns the timer's fd, for Epoll.Ctl, or -1 after Close.
func (t *Timerfd) Fd() int {
	if t.closed.Load() {
		return -1
	}
	return t.fd
}

// Settime wraps timerfd_settime(2) with a relative time: the first
// expiration initial from now, then one every interval (0: none). An
// initial of 0 disarms the timer, as in C.
func (t *Timerfd) Settime(initial, interval time.Duration) error {
	return t.settime(initial, interval)
}

// Read wraps read(2) of the timer's 8-byte count: the expirations since
// the last Read, or an error matching EAGAIN when there has been none.
func (t *Timerfd) Read() (uint64, error) { return t.read() }

// Close wraps close(2) of the timer's fd.
func (t *Timerfd) Close() error { return t.close() }
