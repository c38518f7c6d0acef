package rawsock

import (
	"encoding/binary"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func timerfdCreate(clock int) (*Timerfd, error) {
	fd, err := sysTimerfdCreate(clock)
	if err != nil {
		return nil, os.NewSyscallError(nameTimerfdCreate, err)
	}
	return &Timerfd{fd: fd}, nil
}

func (t *Timerfd) settime(initial, interval time.Duration) error {
	if initial < 0 || interval < 0 {
		return os.NewSyscallError(nameTimerfdSettime, unix.EINVAL)
	}
	its := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(initial)), Interval: unix.NsecToTimespec(int64(interval))}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed.Load() {
		return os.NewSyscallError(nameTimerfdSettime, closedError("Timerfd"))
	}
	return wrapErr(nameTimerfdSettime, sysTimerfdSettime(t.fd, &its))
}

func (t *Timerfd) read() (uint64, error) {
	var b [8]byte
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed.Load() {
		return 0, os.NewSyscallError(nameRead, closedError("Timerfd"))
	}
	for {
		_, err := sysRead(t.fd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError(nameRead, err)
		}
		return binary.NativeEndian.Uint64(b[:]), nil
	}
}

func (t *Timerfd) close() error {
	if !t.closed.CompareAndSwap(false, true) {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return wrapErr(nameClose, sysClose(t.fd))
}
