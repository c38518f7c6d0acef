package rawsock

import "syscall"

// SyscallConn returns a syscall.RawConn for the socket, as net's conns
// have, for the calls this package has no method for: an ioctl(2), an
// mmap(2), or waiting on a PACKET_RX_RING, whose readiness is a word in
// shared memory rather than a syscall's EAGAIN.
//
// Control runs f with the fd held open. Read runs f until it returns true,
// parking the goroutine on the runtime poller between tries (never a
// blocking poll(2)), and Write does the same for writability. Read and Write
// obey the socket's deadlines and per-call timeout; Close wakes a goroutine
// parked in them, which returns an error matching net.ErrClosed. None of
// them is traced: f's own syscalls are the caller's.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if err := c.closedCheck(rawControl); err != nil {
		return nil, err
	}
	return &rawConn{c}, nil
}

// Names of the RawConn calls in errors, as net names them.
const (
	rawControl = "raw-control"
	rawRead    = "raw-read"
	rawWrite   = "raw-write"
)

type rawConn struct{ c *Conn }

func (r *rawConn) Control(f func(fd uintptr)) error {
	c := r.c
	if err := c.closedCheck(rawControl); err != nil {
		return err
	}
	if err := c.rc.Control(f); err != nil {
		return c.mapPollErr(rawControl, err)
	}
	return nil
}

func (r *rawConn) Read(f func(fd uintptr) bool) error { return r.c.rawWait(rawRead, false, f) }

func (r *rawConn) Write(f func(fd uintptr) bool) error { return r.c.rawWait(rawWrite, true, f) }
