package rawsock

import (
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// nameEventfd names the eventfd an Epoll is woken with.
const nameEventfd = "eventfd2"

// EpollEvent is epoll(7)'s struct epoll_event.
type EpollEvent = unix.EpollEvent

func selectFds(r, w, x []int, timeout time.Duration) (rr, wr, xr []int, err error) {
	var sets [3]unix.FdSet
	nfd := 0
	for i, list := range [3][]int{r, w, x} {
		for _, fd := range list {
			if fd < 0 || fd >= unix.FD_SETSIZE {
				return nil, nil, nil, os.NewSyscallError(nameSelect, &hintError{unix.EINVAL,
					"fd " + itoa(fd) + " is outside 0.." + itoa(unix.FD_SETSIZE-1) + " (FD_SETSIZE); use Poll or Epoll"})
			}
			sets[i].Set(fd)
			nfd = max(nfd, fd+1)
		}
	}
	in := sets
	deadline := time.Now().Add(timeout)
	for {
		var tv *unix.Timeval
		if timeout >= 0 {
			left := max(time.Until(deadline), 0)
			t := unix.NsecToTimeval(left.Nanoseconds())
			tv = &t
		}
		sets = in
		_, err = sysSelect(nfd, &sets, tv, [3]int{len(r), len(w), len(x)}, timeout)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, nil, os.NewSyscallError(nameSelect, err)
	}
	pick := func(list []int, s *unix.FdSet) (out []int) {
		for _, fd := range list {
			if s.IsSet(fd) {
				out = append(out, fd)
			}
		}
		return out
	}
	return pick(r, &sets[0]), pick(w, &sets[1]), pick(x, &sets[2]), nil
}

func timeoutString(d time.Duration) string {
	if d < 0 {
		return "NULL"
	}
	return d.String()
}

func poll(fds []PollFd, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		ms := -1
		if timeout >= 0 {
			// Round up, so that a wait never ends before its time.
			ms = int((max(time.Until(deadline), 0) + time.Millisecond - 1) / time.Millisecond)
		}
		n, err := sysPoll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError(namePoll, err)
		}
		return n, nil
	}
}

func epollCreate1(flags int) (*Epoll, error) {
	fd, err := sysEpollCreate1(flags)
	if err != nil {
		return nil, os.NewSyscallError(nameEpollCreate, err)
	}
	// A thread blocked in epoll_wait(2) does not return when another
	// closes the fd: Close makes this eventfd readable instead. It costs
	// one fd per Epoll; made at Close it could fail (EMFILE) when needed.
	wake, err := sysEventfd()
	if err != nil {
		sysClose(fd)
		return nil, os.NewSyscallError(nameEventfd, err)
	}
	e := &Epoll{fd: fd, wake: wake}
	if err := e.ctlLocked(unix.EPOLL_CTL_ADD, wake, &EpollEvent{Events: unix.EPOLLIN}); err != nil {
		sysClose(wake)
		sysClose(fd)
		return nil, err
	}
	return e, nil
}

func (e *Epoll) ctl(op, fd int, ev *EpollEvent) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return errEpollClosed(nameEpollCtl)
	}
	return e.ctlLocked(op, fd, ev)
}

// ctlLocked is epoll_ctl(2), with e.mu held or e not yet shared.
func (e *Epoll) ctlLocked(op, fd int, ev *EpollEvent) error {
	return wrapErr(nameEpollCtl, sysEpollCtl(e.fd, op, fd, ev))
}

func (e *Epoll) wait(events []EpollEvent, msec int) (int, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed.Load() {
		return 0, errEpollClosed(nameEpollWait)
	}
	// The clock only for a timeout to keep across EINTR: an event loop
	// that waits without one (its timers on a Timerfd) reads none.
	var deadline time.Time
	if msec > 0 {
		deadline = time.Now().Add(time.Duration(msec) * time.Millisecond)
	}
	for {
		n, err := sysEpollWait(e.fd, events, msec)
		if e.closed.Load() {
			// Woken by Close (the events, if any, are of a closed set).
			return 0, errEpollClosed(nameEpollWait)
		}
		if err == unix.EINTR {
			if msec > 0 {
				msec = int((max(time.Until(deadline), 0) + time.Millisecond - 1) / time.Millisecond)
			}
			continue
		}
		return n, wrapErr(nameEpollWait, err)
	}
}

func (e *Epoll) close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	// Any 8 bytes but all ones make the eventfd readable: the Waits in
	// progress return, and the ones to come see closed first.
	one := [8]byte{1}
	sysWrite(e.wake, one[:])
	e.mu.Lock()
	defer e.mu.Unlock()
	err := sysClose(e.fd)
	sysClose(e.wake)
	return wrapErr(nameClose, err)
}

// closedError is what a call on a closed Epoll or Timerfd returns (the
// type's name): it matches net.ErrClosed, as a closed Conn's calls do, and
// EBADF, as C's calls on a closed fd do.
type closedError string

func (e closedError) Error() string { return "use of closed " + string(e) }
func (closedError) Unwrap() []error { return []error{net.ErrClosed, unix.EBADF} }

func errEpollClosed(name string) error { return os.NewSyscallError(name, closedError("Epoll")) }
