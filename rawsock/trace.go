package rawsock

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// tracer serializes trace lines from concurrent goroutines.
type tracer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// traceOut is nil when tracing is off: the only cost a call pays then is
// this one atomic load.
var traceOut atomic.Pointer[tracer]

func init() {
	if v := os.Getenv("RAWSOCK_TRACE"); v != "" && v != "0" {
		SetTrace(os.Stderr)
	}
}

// SetTrace sends one strace-like line per syscall the package makes to w, or
// stops tracing when w is nil. RAWSOCK_TRACE=1 in the environment sets it to
// standard error at start.
func SetTrace(w io.Writer) {
	if w == nil {
		traceOut.Store(nil)
		return
	}
	traceOut.Store(&tracer{w: w})
}

// Tracing reports whether a trace writer is set.
func Tracing() bool { return traceOut.Load() != nil }

func (t *tracer) printf(format string, args ...any) {
	t.mu.Lock()
	t.buf = fmt.Appendf(t.buf[:0], format, args...)
	t.buf = append(t.buf, '\n')
	t.w.Write(t.buf)
	t.mu.Unlock()
}

// traceWait is printed when a call found its socket not ready and parks its
// goroutine on the runtime poller: the wait a blocking socket does in the
// kernel, made visible.
func (t *tracer) traceWait(fd int, write bool) {
	what := "readable"
	if write {
		what = "writable"
	}
	t.printf("  ... fd %d not ready: goroutine parked on the runtime poller (epoll) until %s", fd, what)
}

// traceBacklog is printed when a connect sleeps because an AF_UNIX
// listener's backlog is full, which no event ends.
func (t *tracer) traceBacklog(fd int, d time.Duration) {
	t.printf("  ... fd %d: listener's backlog full: goroutine parked on the runtime poller for %v, then connect again", fd, d)
}

// traceWake is printed when a parked call gives up.
func (t *tracer) traceWake(fd int, err error) {
	t.printf("  ... fd %d: wait ended: %v", fd, err)
}

// traceFlags renders a flags argument that is printed only when set.
func traceFlags(flags int) string {
	if flags == 0 {
		return ""
	}
	return ", " + MsgFlagsString(flags)
}

// traceAddr wraps SockaddrString in braces, or returns "" for no address.
func traceAddr(sa unix.Sockaddr) string {
	if sa == nil {
		return ""
	}
	return " {" + SockaddrString(sa) + "}"
}

// traceRet renders " = n" or " = -1 ERRNO (text)".
func traceRet(n int, err error) string {
	if err != nil {
		return " = " + ErrnoString(err)
	}
	return " = " + strconv.Itoa(n)
}
