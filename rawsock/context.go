package rawsock

import (
	"context"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The Context forms end the call when ctx is done, with ctx's error
// (wrapped in the syscall's name), besides any timeout or deadline. They
// cost a context.AfterFunc registration each; the plain forms stay free.

// AcceptContext is Accept bounded by ctx.
func (c *Conn) AcceptContext(ctx context.Context) (*Conn, unix.Sockaddr, error) {
	return c.accept(ctx)
}

// ConnectContext is Connect bounded by ctx.
func (c *Conn) ConnectContext(ctx context.Context, sa unix.Sockaddr) error {
	return c.connect(sa, ctx)
}

// RecvContext is Recv bounded by ctx.
func (c *Conn) RecvContext(ctx context.Context, b []byte, flags int) (int, error) {
	n, _, err := c.recvfrom(b, flags, ctx, false)
	return n, err
}

// RecvfromContext is Recvfrom bounded by ctx.
func (c *Conn) RecvfromContext(ctx context.Context, b []byte, flags int) (int, unix.Sockaddr, error) {
	return c.recvfrom(b, flags, ctx, true)
}

// RecvfromInetContext is RecvfromInet bounded by ctx.
func (c *Conn) RecvfromInetContext(ctx context.Context, b []byte, flags int) (int, netip.AddrPort, error) {
	return c.recvfromInet(b, flags, ctx)
}

// RecvmsgContext is Recvmsg bounded by ctx.
func (c *Conn) RecvmsgContext(ctx context.Context, p, oob []byte, flags int) (n, oobn, recvflags int, from unix.Sockaddr, err error) {
	return c.recvmsg(p, oob, flags, ctx)
}

// SendContext is Send bounded by ctx.
func (c *Conn) SendContext(ctx context.Context, b []byte, flags int) (int, error) {
	return c.sendto(b, flags, nil, ctx)
}

// SendallContext is Sendall bounded by ctx.
func (c *Conn) SendallContext(ctx context.Context, b []byte, flags int) error {
	_, err := c.sendall(b, flags, ctx)
	return err
}

// SendtoContext is Sendto bounded by ctx.
func (c *Conn) SendtoContext(ctx context.Context, b []byte, flags int, to unix.Sockaddr) (int, error) {
	if to == nil {
		return 0, wrapErr(nameSendto, unix.EDESTADDRREQ)
	}
	return c.sendto(b, flags, to, ctx)
}

// SendtoInetContext is SendtoInet bounded by ctx.
func (c *Conn) SendtoInetContext(ctx context.Context, b []byte, flags int, to netip.AddrPort) (int, error) {
	return c.sendtoInet(b, flags, to, ctx)
}

// SendmsgContext is Sendmsg bounded by ctx.
func (c *Conn) SendmsgContext(ctx context.Context, p, oob []byte, to unix.Sockaddr, flags int) (int, error) {
	return c.sendmsg(p, oob, to, flags, ctx)
}
