package rawsock

import (
	"context"
	"io"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// The sequence every blocking wrapper makes, in one place: the fast try
// where the kind has one, the side's op under its mutex, the arguments
// copied into it, the call through the poller, the result read back and
// the error named after the kind's syscall. A wrapper describes its call
// in an args on its stack, and takes from it what the call returns beside
// the count and the error: io keeps no pointer to it, so a call allocates
// nothing (a closure handed to RawConn would escape through the interface
// and allocate).

// args is one call: its arguments, as its wrapper was given them, and its
// results beside the count. The address fields go both ways: a send's
// destination, the source a receive returns. A wrapper takes it by
// pointer (&args{...}), which the compiler builds in place; a value
// assigned first is built twice, a cost the fast path notices.
type args struct {
	kind         opKind
	wantAddr     bool // return the source address
	inet         bool // the address is ap, not sa
	all          bool // sendall: send until all of b is sent
	flags        int
	b, oob       []byte
	sa           unix.Sockaddr  // the address; nil for none
	ap           netip.AddrPort // the address, with inet
	oobn, rflags int            // recvmsg's results
	msgs         []Message      // recvmmsg, sendmmsg
	file         *os.File       // sendfile: count bytes of file from off
	off          int64
	count        int
}

// io makes the call a describes and returns its count: bytes, messages,
// or accept's new fd. The fast try and the loops are written out here,
// not called: with the fast try in a function of its own, a non-blocking
// Recv that found nothing took about 10% longer (BenchmarkCallPath).
func (c *Conn) io(ctx context.Context, a *args) (int, error) {
	// done: the call ended before it needed the op, on the fast path, or
	// at check.
	var n int
	var done bool
	var err error
	switch {
	case a.kind != opRecvfrom && a.kind != opSendto:
		done, err = a.check()
	case ctx != nil:
	case a.kind == opSendto:
		if a.inet {
			n, done, err = c.fastSendtoInet(a.b, a.flags, a.ap)
		} else if a.sa == nil && !a.all {
			n, done, err = c.fastSend(a.b, a.flags)
		}
	case c.waitall(a.flags):
	case a.inet:
		n, a.ap, done, err = c.fastRecvfromInet(a.b, a.flags)
	case !a.wantAddr:
		n, done, err = c.fastRecv(a.b, a.flags)
	}
	if done {
		return n, err
	}
	o, err := c.lockOp(a.kind)
	if err != nil {
		return 0, err
	}
	defer o.unlock()
	if err = c.load(o, a); err == nil {
		switch {
		case a.all:
			err = c.sendallLoop(o, ctx)
		case a.kind == opSendfile:
			err = c.sendfileLoop(o, a.file, a.off, a.count)
		case c.plain(o, ctx):
			o.nonblock = o.flagsNonblock()
			err = c.wait(o)
		default:
			err = c.call(o, ctx)
		}
	}
	return o.collect(a, err)
}

// check refuses arguments before the call takes its side's mutex: done
// with no error is a call with nothing to do, an empty batch.
func (a *args) check() (done bool, _ error) {
	var err error
	switch a.kind {
	case opRecvmmsg, opSendmmsg:
		return len(a.msgs) == 0, nil
	case opConnect:
		err = checkSockaddr(a.sa)
	case opSendfile:
		if a.file == nil {
			err = unix.EBADF
		} else if a.off < 0 || a.count < 0 {
			err = unix.EINVAL
		}
	}
	return err != nil, wrapErr(opName(a.kind), err)
}

// load copies a into o and readies o for the call; an error refuses the
// arguments.
func (c *Conn) load(o *op, a *args) (err error) {
	o.b, o.oob, o.flags = a.b, a.oob, a.flags
	switch a.kind {
	case opRecvfrom:
		o.wantAddr = a.wantAddr
		o.expect(c.waitall(a.flags))
	case opRecvmsg:
		o.flags |= unix.MSG_CMSG_CLOEXEC
		o.expect(c.waitall(a.flags))
	case opRecvmmsg:
		o.loadRecvmmsg(a.msgs)
		o.flags |= unix.MSG_CMSG_CLOEXEC
		// A blocking recvmmsg(2) waits for the whole batch, unless
		// MSG_WAITFORONE.
		o.expect(a.flags&unix.MSG_WAITFORONE == 0)
	case opSendto:
		if a.inet {
			o.rsalen, err = encodeAddrPort(c.family, a.ap, &o.rsa)
			return err
		}
		return o.setDest(a.sa)
	case opSendmsg:
		if err = o.setDest(a.sa); err == nil && o.sa != nil {
			err = unix.EAFNOSUPPORT
		}
		return err
	case opSendmmsg:
		return o.loadSendmmsg(a.msgs, c.family)
	case opConnect:
		o.sa = a.sa
	}
	return nil
}

// sendallLoop sends all of o.b and counts it in o.got. One start for the
// whole loop: the timeout bounds the call, not each sendto. The first
// sendto is made even for an empty b, as Python's sendall makes it: on a
// datagram socket that is an empty datagram.
func (c *Conn) sendallLoop(o *op, ctx context.Context) error {
	b := o.b
	err := c.start(o, ctx)
	for first := true; err == nil && (first || o.got < len(b)); first = false {
		o.b = b[o.got:]
		if err = c.wait(o); err == nil {
			o.got += o.n
		}
	}
	return c.finish(o, ctx, err)
}

// sendfileLoop sends count bytes of f from offset (0: to its end), and
// counts them in o.got.
func (c *Conn) sendfileLoop(o *op, f *os.File, offset int64, count int) error {
	// The file's fd through its RawConn, not f.Fd(): Fd would put a
	// non-blocking file in blocking mode for good. The whole loop runs
	// inside Control, which holds a reference on f's fd: a concurrent
	// f.Close defers close(2) until the call ends, so an os.Open cannot
	// reuse the number under it.
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		o.infd = int(fd)
		o.off = offset
		const chunk = 1 << 30
		err = c.start(o, nil)
		for err == nil && (count == 0 || o.got < count) {
			o.count = chunk
			if count > 0 && count-o.got < chunk {
				o.count = count - o.got
			}
			if err = c.wait(o); err == nil {
				if o.n == 0 {
					break // end of file
				}
				o.got += o.n
			}
		}
	})
	if cerr != nil {
		return cerr // before the loop: nothing was sent
	}
	if _, serr := f.Seek(offset+int64(o.got), io.SeekStart); serr != nil && err == nil {
		err = serr
	}
	return err
}

// collect reads the call's results from o into a, before unlock lets go
// of o, and returns its count.
func (o *op) collect(a *args, err error) (n int, _ error) {
	switch a.kind {
	case opRecvfrom, opRecvmsg:
		n, err = o.result(err)
	case opRecvmmsg:
		n, err = o.result(err)
		o.storeRecvmmsg(a.msgs[:n], a.flags)
	case opAccept:
		if err == nil {
			n = o.n // the new fd
		}
	case opSendfile:
		n = o.got // what went before f's end or the error
	case opSendto, opSendmsg, opSendmmsg:
		switch {
		case a.all:
			n = o.got // all of b, or what went before the error
		case err == nil:
			n = o.n
		}
		if a.kind == opSendmmsg {
			o.storeSendmmsg(a.msgs[:n])
		}
	}
	if err != nil {
		return n, wrapErr(opName(a.kind), err)
	}
	if a.kind == opRecvmsg {
		a.oobn, a.rflags = o.oobn, o.rflags&^cloexecAdded(a.flags)
	}
	if a.wantAddr && a.inet {
		a.ap = decodeAddrPort(&o.rsa, o.rsalen)
	} else if a.wantAddr {
		a.sa = decodeSockaddr(&o.rsa, o.rsalen)
	}
	return n, nil
}
