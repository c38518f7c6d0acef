package rawsock

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// opKind is the syscall an op makes.
type opKind uint8

const (
	opRecvfrom opKind = iota
	opRecvmsg
	opRecvmmsg
	opAccept
	opSendto
	opSendmsg
	opSendmmsg
	opConnect
	opSendfile
)

// op is the state of one blocking call, kept in the Conn (one for reads,
// one for writes) so that the function handed to syscall.RawConn is bound
// once, at socket creation, and a call allocates nothing.
type op struct {
	c    *Conn
	fn   func(uintptr) bool // o.run, bound once
	once func(uintptr)      // o.run for RawConn.Control: one try, no wait
	kind opKind

	nonblock bool // return EAGAIN rather than wait
	wantAddr bool // decode the source address
	phase2   bool // connect issued; now reading its outcome
	more     bool // wait for the rest: MSG_WAITALL on a stream, a whole recvmmsg batch

	b, oob []byte
	flags  int
	sa     unix.Sockaddr // destination x/sys/unix encodes (unknown families)

	n, oobn, rflags int
	errno           syscall.Errno
	got             int // bytes, or messages, earlier syscalls of a more call received

	rsa    unix.RawSockaddrAny // source on receive, destination on send
	rsalen uint32
	msg    unix.Msghdr
	iov    unix.Iovec

	mm    *mmsgBuf
	nmsgs int

	infd  int // sendfile
	off   int64
	count int

	// Context cancellation: gen changes when a call ends, so a late
	// AfterFunc finds it is no longer wanted.
	gen  uint64
	stop func() bool
	// armed: start set the side's call deadline, which finish clears.
	armed bool
	// waited: this call parked on the poller; waitedBefore: the side's
	// last call did (the gate's gateWaited when the call began).
	waited, waitedBefore bool
}

func (o *op) init(c *Conn) {
	o.c = c
	o.fn = o.run
	o.once = func(fd uintptr) { o.run(fd) }
}

func (k opKind) write() bool { return k >= opSendto }

// run makes the syscall once, as RawConn calls it: true ends the call,
// false parks the goroutine on the runtime poller until the fd is ready,
// then run is called again.
func (o *op) run(uintptr) bool {
	for {
		o.do()
		if o.errno != unix.EINTR {
			break
		}
	}
	// A connect's EAGAIN (an AF_UNIX listener's backlog is full) has no
	// event to wait for: connectWait sleeps and tries again.
	wait := o.errno == unix.EAGAIN && o.kind != opConnect
	if o.kind == opConnect && (o.errno == unix.EINPROGRESS || o.errno == unix.EALREADY) {
		wait = true
		o.phase2 = true
	}
	if o.more && !o.nonblock && o.errno == 0 && o.short() {
		wait = true
	}
	if wait && !o.nonblock {
		if t := traceOut.Load(); t != nil {
			t.traceWait(o.c.fd, o.kind.write())
		}
		o.waited = true
		return false
	}
	return true
}

// do makes the syscall o.kind names and records its result.
func (o *op) do() {
	fd := o.c.fd
	switch o.kind {
	case opRecvfrom:
		var rsa *unix.RawSockaddrAny
		if o.wantAddr {
			o.rsalen = unix.SizeofSockaddrAny
			rsa = &o.rsa
		}
		o.n, o.errno = sysRecvfrom(fd, o.b, o.flags, rsa, &o.rsalen)
	case opRecvmsg:
		o.setMsg(true)
		o.n, o.errno = sysRecvmsg(fd, &o.msg, o.flags)
		if o.errno == 0 {
			o.oobn = int(o.msg.Controllen)
			o.rflags = int(o.msg.Flags)
			o.rsalen = o.msg.Namelen
		}
	case opSendmsg:
		o.setMsg(false)
		o.n, o.errno = sysSendmsg(fd, &o.msg, o.flags)
	case opAccept:
		o.rsalen = unix.SizeofSockaddrAny
		o.n, o.errno = sysAccept4(fd, &o.rsa, &o.rsalen)
	case opSendto:
		if o.sa != nil {
			o.n, o.errno = sysSendmsgN(fd, o.b, o.flags, o.sa)
		} else {
			o.n, o.errno = sysSendto(fd, o.b, o.flags, &o.rsa, o.rsalen)
		}
	case opRecvmmsg:
		o.n, o.errno = sysRecvmmsg(fd, o.mm.hdrs[o.got:o.nmsgs], o.flags, o.nmsgs)
	case opSendmmsg:
		o.n, o.errno = sysSendmmsg(fd, o.mm.hdrs[:o.nmsgs], o.flags)
	case opConnect:
		o.doConnect()
	case opSendfile:
		o.n, o.errno = sysSendfile(fd, o.infd, &o.off, o.count)
	}
}

// short reports a receive that got less than o.more asks for, which a
// blocking fd would have waited for: MSG_WAITALL on a stream until b is
// full, as recv(2) does; recvmmsg without MSG_WAITFORONE until the batch
// is, as recvmmsg(2) does. It moves o past what came, so that the next
// syscall receives the rest.
func (o *op) short() bool {
	switch o.kind {
	case opRecvmmsg:
		if o.n <= 0 || o.got+o.n >= o.nmsgs {
			return false
		}
	case opRecvfrom, opRecvmsg:
		// End of stream, b full, or control data, after which the kernel
		// too stops a MSG_WAITALL read.
		if o.n <= 0 || o.n >= len(o.b) || o.kind == opRecvmsg && o.oobn > 0 {
			return false
		}
		if o.flags&unix.MSG_PEEK != 0 {
			return true // peek again, with all of b, once more came
		}
		o.b = o.b[o.n:]
	default:
		return false
	}
	o.got += o.n
	o.n = 0
	return true
}

// expect begins a receive whose count result gives: more as short wants
// it, and no count left from an earlier call, since a deadline already
// passed fails the wait before any syscall.
func (o *op) expect(more bool) {
	o.more = more
	o.n, o.errno, o.got = 0, 0, 0
}

// result is the count a call returns: what its syscalls received, and
// whether err, which ended a wait for more, is to be dropped. As the
// kernel does on a blocking fd, data that came before a timeout, a
// cancellation or a Close is returned without the error, which the next
// call meets again; an error the socket reported (consumed by the syscall)
// is returned with the data.
func (o *op) result(err error) (int, error) {
	n := o.got
	if o.errno == 0 && o.n > 0 {
		n += o.n // the last syscall's, or a repeated peek's
	}
	if err == nil || n > 0 && (o.errno == 0 || o.errno == unix.EAGAIN) {
		return n, nil
	}
	return n, err
}

// doConnect issues connect(2) once; when the poller wakes the call it reads
// the outcome with getsockopt(SO_ERROR), and confirms a success with
// getpeername(2), since the poller can report a fresh socket writable
// before the handshake ends.
func (o *op) doConnect() {
	fd := o.c.fd
	if !o.phase2 {
		o.errno = errnoOf(sysConnect(fd, o.sa, &o.rsa))
		return
	}
	v, err := sysGetsockoptSOError(fd)
	if err != nil {
		o.errno = errnoOf(err)
		return
	}
	o.errno = syscall.Errno(v)
	if v != 0 {
		return
	}
	o.rsalen, err = sysGetpeername(fd, &o.rsa)
	if err == unix.ENOTCONN {
		o.errno = unix.EINPROGRESS // woken early: wait again
	}
}

// setMsg points o.msg at o's buffers.
func (o *op) setMsg(recv bool) {
	o.msg = unix.Msghdr{}
	if recv || o.rsalen != 0 {
		if recv {
			o.rsalen = unix.SizeofSockaddrAny
		}
		o.msg.Name = (*byte)(unsafe.Pointer(&o.rsa))
		o.msg.Namelen = o.rsalen
	}
	if len(o.b) > 0 {
		o.iov.Base = &o.b[0]
		o.iov.SetLen(len(o.b))
		o.msg.Iov = &o.iov
		o.msg.SetIovlen(1)
	}
	if len(o.oob) > 0 {
		o.msg.Control = &o.oob[0]
		o.msg.SetControllen(len(o.oob))
	}
}

// release drops o's references to the caller's memory once a call ends.
func (o *op) release() {
	o.b, o.sa = nil, nil
	o.rsalen, o.flags = 0, 0
	o.phase2, o.more, o.got = false, false, 0
	// Only the calls that set them clear the message headers: the
	// per-call path of Send and Recv stays short.
	switch o.kind {
	case opRecvmsg, opSendmsg:
		o.oob = nil
		o.iov = unix.Iovec{}
		o.msg = unix.Msghdr{}
	case opRecvmmsg, opSendmmsg:
		o.mm.clear()
		o.nmsgs = 0
	}
}

// flagsNonblock reports MSG_DONTWAIT, which makes the one call
// non-blocking. MSG_ERRQUEUE is not treated so: recvmsg(2) never waits on
// the error queue, but a queued error wakes the runtime poller (EPOLLERR),
// so a blocking Recvmsg(..., MSG_ERRQUEUE) waits for one, the only way to
// wait for it here short of Poll. With SetBlocking(false) or MSG_DONTWAIT it
// returns EAGAIN at once, as in C.
func (o *op) flagsNonblock() bool {
	switch o.kind {
	case opAccept, opConnect, opSendfile:
		return false
	}
	return o.flags&unix.MSG_DONTWAIT != 0
}

func opName(k opKind) string {
	switch k {
	case opRecvfrom:
		return nameRecvfrom
	case opRecvmsg:
		return nameRecvmsg
	case opRecvmmsg:
		return nameRecvmmsg
	case opAccept:
		return nameAccept4
	case opSendto:
		return nameSendto
	case opSendmsg:
		return nameSendmsg
	case opSendmmsg:
		return nameSendmmsg
	case opConnect:
		return nameConnect
	}
	return nameSendfile
}
