package rawsock

import (
	"context"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The sequence every blocking wrapper makes, in one place: the fast try
// where the kind has one, the side's op under its mutex, the arguments
// copied into it, the call through the poller, the result read back and
// the error named after the kind's syscall. A wrapper describes its call
// in an args and takes what it returns from a result, both on its stack:
// io keeps no pointer to either, so a call allocates nothing (a closure
// handed to RawConn would escape through the interface and allocate).

// args is one call's arguments, as its wrapper was given them.
type args struct {
	kind     opKind
	wantAddr bool // return the source address
	inet     bool // the address is a netip.AddrPort, not a unix.Sockaddr
	all      bool // sendall: send until all of b is sent
	flags    int
	b        []byte
	to       unix.Sockaddr  // the destination, nil for none
	ap       netip.AddrPort // the destination, with inet
}

// result is what a call returns beside its error; each wrapper takes the
// fields its syscall has.
type result struct {
	n  int
	sa unix.Sockaddr
	ap netip.AddrPort
}

// io makes the call a describes.
func (c *Conn) io(ctx context.Context, a *args) (result, error) {
	if ctx == nil {
		if r, ok, err := c.fast(a); ok {
			return r, err
		}
	}
	o, err := c.lockOp(a.kind)
	if err != nil {
		return result{}, err
	}
	defer o.unlock()
	if err = c.load(o, a); err == nil {
		err = c.exec(o, a, ctx)
	}
	return o.collect(a, err)
}

// fast makes the call on the fast path where its kind has one; ok false
// leaves it to the poller's way.
func (c *Conn) fast(a *args) (r result, ok bool, err error) {
	switch a.kind {
	case opRecvfrom:
		switch {
		case c.waitall(a.flags):
		case a.inet:
			r.n, r.ap, ok, err = c.fastRecvfromInet(a.b, a.flags)
		case !a.wantAddr:
			r.n, ok, err = c.fastRecv(a.b, a.flags)
		}
	case opSendto:
		switch {
		case a.inet:
			r.n, ok, err = c.fastSendtoInet(a.b, a.flags, a.ap)
		case a.to == nil && !a.all:
			r.n, ok, err = c.fastSend(a.b, a.flags)
		}
	}
	return r, ok, err
}

// load copies a into o and readies o for the call; an error refuses the
// arguments.
func (c *Conn) load(o *op, a *args) (err error) {
	o.b, o.flags = a.b, a.flags
	switch a.kind {
	case opRecvfrom:
		o.wantAddr = a.wantAddr
		o.expect(c.waitall(a.flags))
	case opSendto:
		if a.inet {
			o.rsalen, err = encodeAddrPort(c.family, a.ap, &o.rsa)
			return err
		}
		return o.setDest(a.to)
	}
	return nil
}

// exec makes the loaded call: through the poller once, or in the loop of
// sendall.
func (c *Conn) exec(o *op, a *args, ctx context.Context) error {
	if a.all {
		return c.sendallLoop(o, ctx)
	}
	return c.call(o, ctx)
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

// collect reads the call's result from o, before unlock lets go of it.
func (o *op) collect(a *args, err error) (r result, _ error) {
	switch a.kind {
	case opRecvfrom:
		r.n, err = o.result(err)
	case opSendto:
		switch {
		case a.all:
			r.n = o.got // all of b, or what went before the error
		case err == nil:
			r.n = o.n
		}
	}
	if err == nil && a.wantAddr {
		if a.inet {
			r.ap = decodeAddrPort(&o.rsa, o.rsalen)
		} else {
			r.sa = decodeSockaddr(&o.rsa, o.rsalen)
		}
	}
	return r, wrapErr(opName(a.kind), err)
}
