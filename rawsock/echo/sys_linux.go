package echo

import "golang.org/x/sys/unix"

// msgNoSignal makes a send to a reset peer fail with EPIPE instead of
// raising SIGPIPE.
const msgNoSignal = unix.MSG_NOSIGNAL
