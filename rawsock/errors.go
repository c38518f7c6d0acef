package rawsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
)

// Syscall names, as errors and the trace print them.
const (
	nameSocket      = "socket"
	nameSocketpair  = "socketpair"
	nameBind        = "bind"
	nameListen      = "listen"
	nameAccept4     = "accept4"
	nameConnect     = "connect"
	nameRecvfrom    = "recvfrom"
	nameRecvmsg     = "recvmsg"
	nameRecvmmsg    = "recvmmsg"
	nameSendto      = "sendto"
	nameSendmsg     = "sendmsg"
	nameSendmmsg    = "sendmmsg"
	nameSendfile    = "sendfile"
	nameShutdown    = "shutdown"
	nameClose       = "close"
	nameGetsockopt  = "getsockopt"
	nameSetsockopt  = "setsockopt"
	nameGetsockname = "getsockname"
	nameGetpeername = "getpeername"
	nameFcntl       = "fcntl"
	nameSelect      = "select"
	namePoll        = "poll"
	nameEpollCreate = "epoll_create1"
	nameEpollCtl    = "epoll_ctl"
	nameEpollWait   = "epoll_wait"

	nameTimerfdCreate  = "timerfd_create"
	nameTimerfdSettime = "timerfd_settime"
	nameRead           = "read"
)

// errNotImplemented is what every call returns where the package has no
// implementation for the running system.
var errNotImplemented = fmt.Errorf("rawsock: not implemented on %s", runtime.GOOS)

// wrapErr names the syscall that failed. Errors the runtime poller returns
// (deadline, closed socket) are wrapped the same way, so every error the
// package returns reads "syscall: cause" and matches its cause with errors.Is.
func wrapErr(name string, err error) error {
	if err == nil {
		return nil // inlined: the hot path's success costs no call
	}
	return wrapNonNil(name, err)
}

func wrapNonNil(name string, err error) error {
	// The type assertion first: errors.As makes its target escape, an
	// allocation on every error, and the package's own errors (the cached
	// EAGAIN of a non-blocking poll among them) are *os.SyscallError.
	if _, ok := err.(*os.SyscallError); ok {
		return err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return err
	}
	return os.NewSyscallError(name, err)
}

// errClosed is returned by every call on a socket after Close or Detach.
func errClosed(name string) error { return os.NewSyscallError(name, net.ErrClosed) }

// privilegeError explains a refusal for lack of CAP_NET_RAW.
type privilegeError struct {
	errno syscall.Errno
	what  string
}

func (e *privilegeError) Error() string {
	return e.errno.Error() + " (" + e.what + " need CAP_NET_RAW: run as root, or grant it with `sudo setcap cap_net_raw+ep " + exeName() + "`)"
}

func (e *privilegeError) Unwrap() error { return e.errno }

func exeName() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "BINARY"
}

// hintError is an errno with a sentence on what to do about it.
type hintError struct {
	errno syscall.Errno
	hint  string
}

func (e *hintError) Error() string { return e.errno.Error() + " (" + e.hint + ")" }
func (e *hintError) Unwrap() error { return e.errno }
