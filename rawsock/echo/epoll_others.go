//go:build !linux

package echo

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// eloop exists only on Linux.
type eloop struct{ force atomic.Bool }

func newEloop(*Server) (*eloop, error) {
	return nil, fmt.Errorf("echo: the epoll loop is not implemented on %s", runtime.GOOS)
}
func (l *eloop) run() error { return nil }
func (l *eloop) wake()      {}
