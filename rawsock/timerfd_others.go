//go:build !linux

package rawsock

import "time"

func timerfdCreate(clock int) (*Timerfd, error)                  { return nil, errNotImplemented }
func (t *Timerfd) settime(initial, interval time.Duration) error { return errNotImplemented }
func (t *Timerfd) read() (uint64, error)                         { return 0, errNotImplemented }
func (t *Timerfd) close() error                                  { return errNotImplemented }
