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
	o, err := c.lockOp(opRecvmmsg)
	if err != nil {
		return 0, err
	}
	defer o.unlock()
	m := o.batch(len(msgs))
	for i := range msgs {
		h := &m.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&m.addrs[i]))
		h.Namelen = unix.SizeofSockaddrAny
		setIov(h, &m.iovs[i], msgs[i].Buf)
		setControl(h, msgs[i].OOB)
	}
	o.flags = flags | unix.MSG_CMSG_CLOEXEC
	// A blocking recvmmsg(2) waits for the whole batch, unless
	// MSG_WAITFORONE.
	o.expect(flags&unix.MSG_WAITFORONE == 0)
	n, err := o.result(c.call(o, ctx))
	for i := 0; i < n; i++ {
		h := &m.hdrs[i]
		msgs[i].N = int(h.Len)
		msgs[i].NN = int(h.Hdr.Controllen)
		msgs[i].Flags = int(h.Hdr.Flags) &^ cloexecAdded(flags)
		msgs[i].Addr = decodeAddrPort(&m.addrs[i], h.Hdr.Namelen)
	}
	return n, wrapErr(nameRecvmmsg, err)
}

func (c *Conn) sendmmsg(msgs []Message, flags int, ctx context.Context) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	o, err := c.lockOp(opSendmmsg)
	if err != nil {
		return 0, err
	}
	defer o.unlock()
	m := o.batch(len(msgs))
	for i := range msgs {
		h := &m.hdrs[i].Hdr
		*h = unix.Msghdr{}
		if msgs[i].Addr.IsValid() {
			l, err := encodeAddrPort(c.family, msgs[i].Addr, &m.addrs[i])
			if err != nil {
				return 0, wrapErr(nameSendmmsg, err)
			}
			h.Name = (*byte)(unsafe.Pointer(&m.addrs[i]))
			h.Namelen = l
		}
		setIov(h, &m.iovs[i], msgs[i].Buf)
		setControl(h, msgs[i].OOB)
	}
	o.flags = flags
	n, err := o.sent(c.call(o, ctx))
	for i := 0; i < n; i++ {
		msgs[i].N = int(m.hdrs[i].Len)
	}
	return n, err
}

// batch readies o's arrays for n messages; release clears them.
func (o *op) batch(n int) *mmsgBuf {
	if o.mm == nil {
		o.mm = new(mmsgBuf)
	}
	o.mm.grow(n)
	o.nmsgs = n
	return o.mm
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
