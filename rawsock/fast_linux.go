package rawsock

import (
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// The fast path of Send and Recv. A call with no deadline, no timeout, no
// context, no trace and nothing to wait for makes its one syscall on the
// fd directly, without the side's mutex, the op, or the runtime poller's
// fd lock and reset that RawConn.Read and Write cost (the profile in
// NOTES-speedcore.md). Anything else, and a fast try that finds EAGAIN,
// goes the poller's way.
//
// A gate per side keeps what the mutex and the poller's reference gave:
// a fast call holds gateHeld during its syscall; a call through the poller
// holds gateSlow from lockOp to unlock, so calls of one side stay
// serialized (a MSG_WAITALL receive is never split by another's); and
// Close sets gateClosed and waits for gateHeld to clear before it closes
// the fd, so the number cannot be closed or reused under a fast syscall.
// A fast call adds MSG_DONTWAIT: it returns at once even if someone
// clears O_NONBLOCK on the open file description (fcntl on Fileno, a dup
// in a child), so Close never waits on a fast call the kernel has put to
// sleep, and sys_linux.go may make it on RawSyscall6 (cannotWait).
// gateWaited records that the side's last call waited: a receive that
// usually finds nothing (a ping-pong) then skips the fast try, which would
// cost it a second syscall.

const (
	gateHeld int32 = 1 << iota
	gateSlow
	gateWaited
	gateClosed
)

// fastOK reports whether the side's calls may take the fast path at all:
// the file has no deadline, no timeout is set (blocking without limit, or
// SetBlocking(false), whose calls never wait), the trace is off.
func (c *Conn) fastOK(d *deadlines) bool {
	t := c.timeout.Load()
	return (t == 0 || t == modeNonblock) && !d.set.Load() && !d.armed.Load() && traceOut.Load() == nil
}

// fastSend is Send without the poller; ok false sends nothing and leaves
// the call to the poller's way.
func (c *Conn) fastSend(b []byte, flags int) (n int, ok bool, err error) {
	if !c.fastOK(&c.wd) || !c.wgate.CompareAndSwap(0, gateHeld) {
		return 0, false, nil
	}
	var e syscall.Errno
	for {
		n, e = sysSendto(c.fd, b, flags|unix.MSG_DONTWAIT, nil, 0)
		if e != unix.EINTR {
			break
		}
	}
	c.wgate.Add(-gateHeld)
	return c.fastResult(n, e, flags, nameSendto)
}

// fastRecv is Recv without the poller, as fastSend.
func (c *Conn) fastRecv(b []byte, flags int) (n int, ok bool, err error) {
	if !c.fastOK(&c.rd) || !c.rgate.CompareAndSwap(0, gateHeld) {
		return 0, false, nil
	}
	var e syscall.Errno
	for {
		n, e = sysRecvfrom(c.fd, b, flags|unix.MSG_DONTWAIT, nil, nil)
		if e != unix.EINTR {
			break
		}
	}
	c.rgate.Add(-gateHeld)
	return c.fastResult(n, e, flags, nameRecvfrom)
}

// fastSendtoInet is SendtoInet without the poller, as fastSend; the
// address is encoded on the stack.
func (c *Conn) fastSendtoInet(b []byte, flags int, to netip.AddrPort) (n int, ok bool, err error) {
	if !c.fastOK(&c.wd) {
		return 0, false, nil
	}
	var rsa unix.RawSockaddrAny
	l, err := encodeAddrPort(c.family, to, &rsa)
	if err != nil {
		return 0, false, nil // the poller's way reports it
	}
	if !c.wgate.CompareAndSwap(0, gateHeld) {
		return 0, false, nil
	}
	var e syscall.Errno
	for {
		n, e = sysSendto(c.fd, b, flags|unix.MSG_DONTWAIT, &rsa, l)
		if e != unix.EINTR {
			break
		}
	}
	c.wgate.Add(-gateHeld)
	return c.fastResult(n, e, flags, nameSendto)
}

// fastRecvfromInet is RecvfromInet without the poller, as fastRecv.
func (c *Conn) fastRecvfromInet(b []byte, flags int) (n int, from netip.AddrPort, ok bool, err error) {
	if !c.fastOK(&c.rd) || !c.rgate.CompareAndSwap(0, gateHeld) {
		return 0, netip.AddrPort{}, false, nil
	}
	var rsa unix.RawSockaddrAny
	var e syscall.Errno
	for {
		l := uint32(unix.SizeofSockaddrAny)
		n, e = sysRecvfrom(c.fd, b, flags|unix.MSG_DONTWAIT, &rsa, &l)
		if e != unix.EINTR {
			from = decodeAddrPort(&rsa, l)
			break
		}
	}
	c.rgate.Add(-gateHeld)
	n, ok, err = c.fastResult(n, e, flags, nameRecvfrom)
	if !ok || err != nil {
		return 0, netip.AddrPort{}, ok, err
	}
	return n, from, true, nil
}

// fastResult is a fast call's outcome: EAGAIN is the poller's to wait on,
// unless MSG_DONTWAIT or SetBlocking(false) asked for one try.
func (c *Conn) fastResult(n int, e syscall.Errno, flags int, name string) (int, bool, error) {
	switch {
	case e == 0:
		return n, true, nil
	case e == unix.EAGAIN && flags&unix.MSG_DONTWAIT == 0 && c.timeout.Load() != modeNonblock:
		return 0, false, nil
	}
	return 0, true, errnoErr(name, e)
}

// gateSlowIn closes the side's fast path for a call through the poller and
// waits out a fast call still in its syscall. It returns whether the
// side's last call waited.
func gateSlowIn(g *atomic.Int32) bool {
	old := g.Or(gateSlow)
	for old&gateHeld != 0 {
		runtime.Gosched() // one non-blocking syscall: short
		old = g.Load()
	}
	return old&gateWaited != 0
}

// gateSlowOut reopens the side: waited records whether this call waited.
func gateSlowOut(g *atomic.Int32, waitedBefore, waited bool) {
	delta := -gateSlow
	if waited != waitedBefore {
		if waited {
			delta += gateWaited
		} else {
			delta -= gateWaited
		}
	}
	g.Add(delta)
}

// closeGates closes both fast paths for good and waits for fast calls in
// their syscall: after it, only the poller's calls use the fd, and closing
// the file waits for those.
func (c *Conn) closeGates() {
	for _, g := range [2]*atomic.Int32{&c.rgate, &c.wgate} {
		for old := g.Or(gateClosed); old&gateHeld != 0; old = g.Load() {
			runtime.Gosched()
		}
	}
}
