package rawsock

import (
	"context"
	"net/netip"
)

// Message is one datagram of a Recvmmsg or Sendmmsg batch: C's struct
// mmsghdr with a single iovec. The caller owns the buffers and the slice of
// Messages, and reuses them from call to call.
type Message struct {
	Buf   []byte         // payload: filled on receive, sent on send
	OOB   []byte         // ancillary data buffer, may be nil
	Addr  netip.AddrPort // source on receive; destination on send (zero: the connected peer)
	N     int            // bytes received or sent
	NN    int            // ancillary bytes received
	Flags int            // flags the kernel set on receive (MSG_TRUNC, ...)
}

// Recvmmsg wraps recvmmsg(2): it fills up to len(msgs) messages and
// returns how many it filled. A blocking call waits for the whole batch, as
// recvmmsg(2) on a blocking fd does, making as many syscalls as it takes;
// when the timeout, deadline, context or Close ends the wait, it returns
// the datagrams that came without the error, which the next call meets.
// Add MSG_WAITFORONE to return once the first datagram is in, with what is
// queued then; non-blocking, it returns what is queued. Addresses are
// decoded for AF_INET and AF_INET6 without allocating. As with Recvmsg,
// MSG_CMSG_CLOEXEC is always added.
func (c *Conn) Recvmmsg(msgs []Message, flags int) (int, error) { return c.recvmmsg(msgs, flags, nil) }

// Sendmmsg wraps sendmmsg(2): it sends up to len(msgs) datagrams in one
// syscall and returns how many were sent.
func (c *Conn) Sendmmsg(msgs []Message, flags int) (int, error) { return c.sendmmsg(msgs, flags, nil) }

// RecvmmsgContext is Recvmmsg bounded by ctx.
func (c *Conn) RecvmmsgContext(ctx context.Context, msgs []Message, flags int) (int, error) {
	return c.recvmmsg(msgs, flags, ctx)
}

// SendmmsgContext is Sendmmsg bounded by ctx.
func (c *Conn) SendmmsgContext(ctx context.Context, msgs []Message, flags int) (int, error) {
	return c.sendmmsg(msgs, flags, ctx)
}
