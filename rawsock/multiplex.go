package rawsock

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// PollFd is poll(2)'s struct pollfd.
type PollFd = unix.PollFd

// Select wraps select(2) over fds (Fileno() values), as Python's
// select.select: it returns the subsets ready to read, to write, and with
// an exceptional condition. A negative timeout waits without limit. Like C's
// select it blocks the calling OS thread, not just the goroutine, and takes
// only fds below FD_SETSIZE (1024); Poll and Epoll have no such limit.
func Select(r, w, x []int, timeout time.Duration) (rr, wr, xr []int, err error) {
	return selectFds(r, w, x, timeout)
}

// Poll wraps poll(2): it fills each PollFd's Revents and returns how many
// are ready. A negative timeout waits without limit. It blocks the calling
// OS thread, as in C. EINTR is retried with the time that remains.
func Poll(fds []PollFd, timeout time.Duration) (int, error) { return poll(fds, timeout) }

// Epoll is an epoll(7) instance, for porters of event-loop C code. Its Wait
// blocks the calling OS thread in epoll_wait(2), as C's does; a socket it
// watches should be put in non-blocking mode (SetBlocking(false)) so that
// its methods return EAGAIN instead of parking on the runtime poller.
//
// A thread blocked in Wait (or Poll, or Select) keeps its goroutine's P
// until the runtime's sysmon takes it back, 20µs to 10ms later: under
// GOMAXPROCS 1 the program's other goroutines wait that long. Give an event
// loop a second P (runtime.GOMAXPROCS(2)), as rawsock serve --loop epoll
// does for its engine (README.md, "The epoll engine and GOMAXPROCS").
type Epoll struct {
	fd     int
	wake   int // an eventfd in the set, written by Close to end a Wait
	closed atomic.Bool

	// mu is held shared by Wait and Ctl while they use fd, and by Close
	// alone to close it: the number is never used after it may be reused.
	mu sync.RWMutex
}

// EpollCreate1 wraps epoll_create1(2). EPOLL_CLOEXEC is always added.
func EpollCreate1(flags int) (*Epoll, error) { return epollCreate1(flags) }

// Fd returns the epoll instance's fd, or -1 after Close.
func (e *Epoll) Fd() int {
	if e.closed.Load() {
		return -1
	}
	return e.fd
}

// Ctl wraps epoll_ctl(2): op is EPOLL_CTL_ADD, EPOLL_CTL_MOD or
// EPOLL_CTL_DEL; ev may be nil for EPOLL_CTL_DEL.
func (e *Epoll) Ctl(op, fd int, ev *EpollEvent) error { return e.ctl(op, fd, ev) }

// Wait wraps epoll_wait(2): it fills events and returns how many are
// ready, waiting up to msec milliseconds (-1: without limit). EINTR is
// retried with the time that remains. A Close from another goroutine ends
// it with an error matching net.ErrClosed (and EBADF).
func (e *Epoll) Wait(events []EpollEvent, msec int) (int, error) { return e.wait(events, msec) }

// Close wraps close(2) of the epoll fd. It wakes the Waits blocked on it
// and closes the fd once they and any Ctl in progress have left.
func (e *Epoll) Close() error { return e.close() }
