package rawsock

import (
	"context"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

func socket(family, typ, proto int) (*Conn, error) {
	flags := unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK
	fd, err := sysSocket(family, typ|flags, proto)
	if err != nil {
		return nil, socketErr(tripleString(family, typ, proto), family, typ, proto, err)
	}
	return newConn(fd, family, typ&^flags, proto), nil
}

func socketpair(family, typ, proto int) (*Conn, *Conn, error) {
	flags := unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK
	fds, err := sysSocketpair(family, typ|flags, proto)
	if err != nil {
		return nil, nil, socketErr("socketpair"+tripleString(family, typ, proto)[len("socket"):], family, typ, proto, err)
	}
	base := typ &^ flags
	return newConn(fds[0], family, base, proto), newConn(fds[1], family, base, proto), nil
}

func fromFD(fd int) (*Conn, error) {
	nfd, err := sysDupCloexec(fd)
	if err != nil {
		return nil, os.NewSyscallError(nameFcntl, err)
	}
	var v [3]int
	for i, opt := range [3]int{unix.SO_DOMAIN, unix.SO_TYPE, unix.SO_PROTOCOL} {
		v[i], err = sysGetsockoptInt(nfd, unix.SOL_SOCKET, opt)
		if err != nil {
			sysClose(nfd)
			return nil, os.NewSyscallError(nameGetsockopt, err)
		}
	}
	if err := sysSetNonblock(nfd); err != nil {
		sysClose(nfd)
		return nil, os.NewSyscallError(nameFcntl, err)
	}
	return newConn(nfd, v[0], v[1], v[2]), nil
}

func (c *Conn) dup() (*Conn, error) {
	nfd, err := c.dupFD()
	if err != nil {
		return nil, err
	}
	d := newConn(nfd, c.family, c.sotype, c.proto)
	d.timeout.Store(c.timeout.Load())
	return d, nil
}

// dupFD copies the fd with fcntl(F_DUPFD_CLOEXEC).
func (c *Conn) dupFD() (int, error) {
	var nfd int
	err := c.control(nameFcntl, func(fd int) (err error) { nfd, err = sysDupCloexec(fd); return err })
	return nfd, err
}

// detach hands out a copy of the fd and closes the Conn's own. Closing
// the file is what waits for every call using the fd: the poller wakes
// the blocked ones, and Close returns when the last reference, a blocked
// call or a control() in flight, is dropped. It costs one fcntl(2) more
// than Close.
func (c *Conn) detach() (int, error) {
	nfd, err := c.dupFD()
	if err != nil {
		if c.state.Load() != stateOpen {
			return -1, errClosed("detach")
		}
		return -1, err
	}
	if !c.state.CompareAndSwap(stateOpen, stateDetached) {
		sysClose(nfd)
		return -1, errClosed("detach")
	}
	c.close()
	return nfd, nil
}

func (c *Conn) bind(sa unix.Sockaddr) error {
	return c.control(nameBind, func(fd int) error { return sysBind(fd, sa) })
}

func (c *Conn) listen(backlog int) error {
	return c.control(nameListen, func(fd int) error { return sysListen(fd, backlog) })
}

func (c *Conn) shutdown(how int) error {
	return c.control(nameShutdown, func(fd int) error { return sysShutdown(fd, how) })
}

func (c *Conn) getsockname() (unix.Sockaddr, error) {
	return c.sockname(nameGetsockname, sysGetsockname)
}
func (c *Conn) getpeername() (unix.Sockaddr, error) {
	return c.sockname(nameGetpeername, sysGetpeername)
}

// sockname decodes the address itself, without the getsockopt(SO_PROTOCOL)
// x/sys/unix would add for AF_INET.
func (c *Conn) sockname(name string, call func(int, *unix.RawSockaddrAny) (uint32, error)) (unix.Sockaddr, error) {
	var rsa unix.RawSockaddrAny
	var l uint32
	err := c.control(name, func(fd int) (err error) { l, err = call(fd, &rsa); return err })
	if err != nil {
		return nil, err
	}
	return decodeSockaddr(&rsa, l), nil
}

func (c *Conn) close() error {
	c.closeGates()
	return wrapErr(nameClose, sysCloseFile(c.file, c.fd))
}

// accept wraps accept4(2) with SOCK_CLOEXEC|SOCK_NONBLOCK.
func (c *Conn) accept(ctx context.Context) (*Conn, unix.Sockaddr, error) {
	a := &args{kind: opAccept, wantAddr: true}
	fd, err := c.io(ctx, a)
	return c.accepted(fd, a.sa, err)
}

// accepted is the Conn on the fd accept4(2) returned.
func (c *Conn) accepted(fd int, from unix.Sockaddr, err error) (*Conn, unix.Sockaddr, error) {
	if err != nil {
		return nil, nil, err
	}
	return newConn(fd, c.family, c.sotype, c.proto), from, nil
}

// connect wraps connect(2), and waits for a blocking socket's connection.
func (c *Conn) connect(sa unix.Sockaddr, ctx context.Context) error {
	_, err := c.io(ctx, &args{kind: opConnect, sa: sa})
	return err
}

// recvfrom wraps recvfrom(2); wantAddr asks for the source address.
func (c *Conn) recvfrom(b []byte, flags int, ctx context.Context, wantAddr bool) (int, unix.Sockaddr, error) {
	a := &args{kind: opRecvfrom, b: b, flags: flags, wantAddr: wantAddr}
	n, err := c.io(ctx, a)
	return n, a.sa, err
}

// recvfromInet wraps recvfrom(2), the source as a netip.AddrPort.
func (c *Conn) recvfromInet(b []byte, flags int, ctx context.Context) (int, netip.AddrPort, error) {
	a := &args{kind: opRecvfrom, b: b, flags: flags, wantAddr: true, inet: true}
	n, err := c.io(ctx, a)
	return n, a.ap, err
}

// recvmsg wraps recvmsg(2), with MSG_CMSG_CLOEXEC.
func (c *Conn) recvmsg(p, oob []byte, flags int, ctx context.Context) (n, oobn, recvflags int, from unix.Sockaddr, err error) {
	a := &args{kind: opRecvmsg, b: p, oob: oob, flags: flags, wantAddr: true}
	n, err = c.io(ctx, a)
	return n, a.oobn, a.rflags, a.sa, err
}

// waitall reports MSG_WAITALL on a stream, which a blocking call honours
// across syscalls: the fd under it is non-blocking, where the kernel
// returns what is queued.
func (c *Conn) waitall(flags int) bool {
	return flags&unix.MSG_WAITALL != 0 && c.sotype == sockStream
}

// cloexecAdded is the MSG_CMSG_CLOEXEC the package added to a caller's
// recvmsg flags: the kernel echoes it in msg_flags, where the caller, who
// did not ask for it, must not see it.
func cloexecAdded(flags int) int {
	if flags&unix.MSG_CMSG_CLOEXEC != 0 {
		return 0
	}
	return unix.MSG_CMSG_CLOEXEC
}

// setDest puts the destination in o: encoded in place where the family is
// known, else left to x/sys/unix.
func (o *op) setDest(to unix.Sockaddr) error {
	o.rsalen = 0
	if to == nil {
		return nil
	}
	if err := checkSockaddr(to); err != nil {
		return err
	}
	n, ok, err := encodeSockaddr(to, &o.rsa)
	if err != nil {
		return err
	}
	if ok {
		o.rsalen = n
	} else {
		o.sa = to
	}
	return nil
}

// sendto wraps sendto(2); to nil sends to the connected peer.
func (c *Conn) sendto(b []byte, flags int, to unix.Sockaddr, ctx context.Context) (int, error) {
	return c.io(ctx, &args{kind: opSendto, b: b, flags: flags, sa: to})
}

// sendtoInet wraps sendto(2), the destination a netip.AddrPort.
func (c *Conn) sendtoInet(b []byte, flags int, to netip.AddrPort, ctx context.Context) (int, error) {
	return c.io(ctx, &args{kind: opSendto, b: b, flags: flags, inet: true, ap: to})
}

// sendall calls sendto(2) until all of b is sent; it returns the bytes
// sent, all of b or those before the error.
func (c *Conn) sendall(b []byte, flags int, ctx context.Context) (int, error) {
	return c.io(ctx, &args{kind: opSendto, b: b, flags: flags, all: true})
}

// sendmsg wraps sendmsg(2); to nil sends to the connected peer.
func (c *Conn) sendmsg(p, oob []byte, to unix.Sockaddr, flags int, ctx context.Context) (int, error) {
	return c.io(ctx, &args{kind: opSendmsg, b: p, oob: oob, flags: flags, sa: to})
}

// sendfile calls sendfile(2) until count bytes of f are sent (0: all).
func (c *Conn) sendfile(f *os.File, offset int64, count int) (int, error) {
	return c.io(nil, &args{kind: opSendfile, file: f, off: offset, count: count})
}
