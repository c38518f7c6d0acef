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

// recvmmsg wraps recvmmsg(2), with MSG_CMSG_CLOEXEC.
func (c *Conn) recvmmsg(msgs []Message, flags int, ctx context.Context) (int, error) {
	return c.io(ctx, &args{kind: opRecvmmsg, msgs: msgs, flags: flags})
}

// sendmmsg wraps sendmmsg(2).
func (c *Conn) sendmmsg(msgs []Message, flags int, ctx context.Context) (int, error) {
	return c.io(ctx, &args{kind: opSendmmsg, msgs: msgs, flags: flags})
}

// loadRecvmmsg points o's batch at msgs' buffers.
func (o *op) loadRecvmmsg(msgs []Message) {
	m := o.batch(len(msgs))
	for i := range msgs {
		h := &m.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&m.addrs[i]))
		h.Namelen = unix.SizeofSockaddrAny
		setIov(h, &m.iovs[i], msgs[i].Buf)
		setControl(h, msgs[i].OOB)
	}
}

// storeRecvmmsg fills msgs, the messages received, from o's batch.
func (o *op) storeRecvmmsg(msgs []Message, flags int) {
	for i := range msgs {
		h := &o.mm.hdrs[i]
		msgs[i].N = int(h.Len)
		msgs[i].NN = int(h.Hdr.Controllen)
		msgs[i].Flags = int(h.Hdr.Flags) &^ cloexecAdded(flags)
		msgs[i].Addr = decodeAddrPort(&o.mm.addrs[i], h.Hdr.Namelen)
	}
}

// loadSendmmsg points o's batch at msgs' buffers and encodes their
// destinations.
func (o *op) loadSendmmsg(msgs []Message, family int) error {
	m := o.batch(len(msgs))
	for i := range msgs {
		h := &m.hdrs[i].Hdr
		*h = unix.Msghdr{}
		if msgs[i].Addr.IsValid() {
			l, err := encodeAddrPort(family, msgs[i].Addr, &m.addrs[i])
			if err != nil {
				return err
			}
			h.Name = (*byte)(unsafe.Pointer(&m.addrs[i]))
			h.Namelen = l
		}
		setIov(h, &m.iovs[i], msgs[i].Buf)
		setControl(h, msgs[i].OOB)
	}
	return nil
}

// storeSendmmsg records in msgs, the messages sent, the bytes of each.
func (o *op) storeSendmmsg(msgs []Message) {
	for i := range msgs {
		msgs[i].N = int(o.mm.hdrs[i].Len)
	}
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
