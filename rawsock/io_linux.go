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
	flags    int
	b        []byte
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
	c.load(o, a)
	return o.collect(a, c.call(o, ctx))
}

// fast makes the call on the fast path where its kind has one; ok false
// leaves it to the poller's way.
func (c *Conn) fast(a *args) (r result, ok bool, err error) {
	switch {
	case a.kind != opRecvfrom || c.waitall(a.flags):
	case a.inet:
		r.n, r.ap, ok, err = c.fastRecvfromInet(a.b, a.flags)
	case !a.wantAddr:
		r.n, ok, err = c.fastRecv(a.b, a.flags)
	}
	return r, ok, err
}

// load copies a into o and readies o for the call.
func (c *Conn) load(o *op, a *args) {
	o.b, o.flags = a.b, a.flags
	switch a.kind {
	case opRecvfrom:
		o.wantAddr = a.wantAddr
		o.expect(c.waitall(a.flags))
	}
}

// collect reads the call's result from o, before unlock lets go of it.
func (o *op) collect(a *args, err error) (r result, _ error) {
	switch a.kind {
	case opRecvfrom:
		r.n, err = o.result(err)
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
