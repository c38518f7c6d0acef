package rawsock

import (
	"context"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgBuf holds the kernel-facing arrays for Recvmmsg and Sendmmsg. It
// grows to the largest batch seen and is reused, so a call allocates
// nothing once the Conn has seen its batch size.
type mmsgBuf struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	addrs []unix.RawSockaddrAny
}

func (m *mmsgBuf) grow(n int) {
	if cap(m.hdrs) >= n {
		m.hdrs, m.iovs, m.addrs = m.hdrs[:n], m.iovs[:n], m.addrs[:n]
		return
	}
	m.hdrs = make([]unix.Mmsghdr, n)
	m.iovs = make([]unix.Iovec, n)
	m.addrs = make([]unix.RawSockaddrAny, n)
}

// clear drops the pointers into the caller's buffers.
func (m *mmsgBuf) clear() {
	clear(m.hdrs)
	clear(m.iovs)
}

func (c *Conn) recvmmsg(msgs []Message, flags int, ctx context.Context) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.closedCheck(nameRecvmmsg); err != nil {
		return 0, err
	}
	o := &c.rop
	if o.mm == nil {
		o.mm = new(mmsgBuf)
	}
	m := o.mm
	m.grow(len(msgs))
	for i := range msgs {
		h := &m.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&m.addrs[i]))
		h.Namelen = unix.SizeofSockaddrAny
		setIov(h, &m.iovs[i], msgs[i].Buf)
		setControl(h, msgs[i].OOB)
	}
	o.kind, o.flags, o.nmsgs = opRecvmmsg, flags|unix.MSG_CMSG_CLOEXEC, len(msgs)
	// A blocking recvmmsg(2) waits for the whole batch, unless
	// MSG_WAITFORONE.
	o.expect(flags&unix.MSG_WAITFORONE == 0)
	err := c.start(o, ctx)
	if err == nil {
		err = c.finish(o, ctx, c.wait(o))
	}
	n, err := o.result(err)
	for i := 0; i < n; i++ {
		h := &m.hdrs[i]
		msgs[i].N = int(h.Len)
		msgs[i].NN = int(h.Hdr.Controllen)
		msgs[i].Flags = int(h.Hdr.Flags) &^ cloexecAdded(flags)
		msgs[i].Addr = decodeAddrPort(&m.addrs[i], h.Hdr.Namelen)
	}
	m.clear()
	o.nmsgs = 0
	o.more, o.got = false, 0
	return n, wrapErr(nameRecvmmsg, err)
}

func (c *Conn) sendmmsg(msgs []Message, flags int, ctx context.Context) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.closedCheck(nameSendmmsg); err != nil {
		return 0, err
	}
	o := &c.wop
	if o.mm == nil {
		o.mm = new(mmsgBuf)
	}
	m := o.mm
	m.grow(len(msgs))
	var err error
	for i := range msgs {
		h := &m.hdrs[i].Hdr
		*h = unix.Msghdr{}
		if msgs[i].Addr.IsValid() {
			var l uint32
			if l, err = encodeAddrPort(c.family, msgs[i].Addr, &m.addrs[i]); err != nil {
				break
			}
			h.Name = (*byte)(unsafe.Pointer(&m.addrs[i]))
			h.Namelen = l
		}
		setIov(h, &m.iovs[i], msgs[i].Buf)
		setControl(h, msgs[i].OOB)
	}
	o.kind, o.flags, o.nmsgs = opSendmmsg, flags, len(msgs)
	if err == nil {
		err = c.start(o, ctx)
	}
	if err == nil {
		err = c.finish(o, ctx, c.wait(o))
	}
	n := 0
	if err == nil {
		n = o.n
		for i := 0; i < n; i++ {
			msgs[i].N = int(m.hdrs[i].Len)
		}
	}
	m.clear()
	o.nmsgs = 0
	return n, wrapErr(nameSendmmsg, err)
}

func setIov(h *unix.Msghdr, iov *unix.Iovec, b []byte) {
	*iov = unix.Iovec{}
	if len(b) > 0 {
		iov.Base = &b[0]
		iov.SetLen(len(b))
	}
	h.Iov = iov
	h.SetIovlen(1)
}

func setControl(h *unix.Msghdr, oob []byte) {
	h.Control = nil
	h.SetControllen(0)
	if len(oob) > 0 {
		h.Control = &oob[0]
		h.SetControllen(len(oob))
	}
}
