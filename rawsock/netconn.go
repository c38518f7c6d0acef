package rawsock

import (
	"io"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// NetConn returns c as a net.Conn, for code that takes one (bufio,
// net/http, TLS). Errors come wrapped in *net.OpError, as net's do.
func (c *Conn) NetConn() net.Conn { return &netConn{c: c} }

// NetListener returns c, a listening socket, as a net.Listener whose
// Accept returns NetConn values.
func (c *Conn) NetListener() net.Listener { return &netListener{c: c} }

// NetPacketConn returns c, a datagram or raw socket, as a net.PacketConn.
func (c *Conn) NetPacketConn() net.PacketConn { return &netPacketConn{netConn{c: c}} }

type netConn struct{ c *Conn }

func (n *netConn) Read(b []byte) (int, error) {
	k, err := n.c.Read(b)
	return k, n.opErr("read", err)
}

func (n *netConn) Write(b []byte) (int, error) {
	k, err := n.c.Write(b)
	return k, n.opErr("write", err)
}

func (n *netConn) Close() error                       { return n.opErr("close", n.c.Close()) }
func (n *netConn) LocalAddr() net.Addr                { return n.c.netAddr(n.c.Getsockname()) }
func (n *netConn) RemoteAddr() net.Addr               { return n.c.netAddr(n.c.Getpeername()) }
func (n *netConn) SetDeadline(t time.Time) error      { return n.c.SetDeadline(t) }
func (n *netConn) SetReadDeadline(t time.Time) error  { return n.c.SetReadDeadline(t) }
func (n *netConn) SetWriteDeadline(t time.Time) error { return n.c.SetWriteDeadline(t) }

// Rawsock returns the Conn under the adapter.
func (n *netConn) Rawsock() *Conn { return n.c }

func (n *netConn) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: n.c.netName(), Source: n.LocalAddr(), Err: err}
}

type netListener struct{ c *Conn }

func (l *netListener) Accept() (net.Conn, error) {
	nc, _, err := l.c.Accept()
	if err != nil {
		return nil, &net.OpError{Op: "accept", Net: l.c.netName(), Addr: l.Addr(), Err: err}
	}
	return nc.NetConn(), nil
}

func (l *netListener) Close() error   { return l.c.Close() }
func (l *netListener) Addr() net.Addr { return l.c.netAddr(l.c.Getsockname()) }

type netPacketConn struct{ netConn }

func (p *netPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, sa, err := p.c.Recvfrom(b, 0)
	if err != nil {
		return n, nil, p.opErr("read", err)
	}
	return n, p.c.netAddr(sa, nil), nil
}

func (p *netPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var n int
	var err error
	if ap, ok := addrPortFromNetAddr(addr); ok {
		// SendtoInet fits the address to the socket's family: net hands
		// out IPv4 addresses as 16-byte, v4-mapped, slices.
		n, err = p.c.SendtoInet(b, 0, ap)
	} else if u, ok := addr.(*net.UnixAddr); ok && u != nil {
		n, err = p.c.Sendto(b, 0, UnixAddr(u.Name))
	} else {
		err = wrapErr(nameSendto, unix.EAFNOSUPPORT)
	}
	if err != nil {
		return n, p.opErr("write", err)
	}
	return n, nil
}

// netName is the net package's network name for the socket.
func (c *Conn) netName() string {
	switch c.family {
	case afUnix:
		switch c.sotype {
		case sockDgram:
			return "unixgram"
		case sockSeqpkt:
			return "unixpacket"
		}
		return "unix"
	case afInet, afInet6:
		suffix := "4"
		if c.family == afInet6 {
			suffix = "6"
		}
		switch c.sotype {
		case sockStream:
			return "tcp" + suffix
		case sockDgram:
			return "udp" + suffix
		}
		return "ip" + suffix
	}
	return FamilyName(c.family)
}

// netAddr converts a sockaddr to the net.Addr type net would use for this
// socket; nil when there is none.
func (c *Conn) netAddr(sa unix.Sockaddr, err error) net.Addr {
	if err != nil || sa == nil {
		return nil
	}
	if ap, ok := AddrPortFromSockaddr(sa); ok {
		switch c.sotype {
		case sockStream:
			return net.TCPAddrFromAddrPort(ap)
		case sockDgram:
			return net.UDPAddrFromAddrPort(ap)
		}
		return &net.IPAddr{IP: ap.Addr().AsSlice(), Zone: ap.Addr().Zone()}
	}
	if u, ok := sa.(*unix.SockaddrUnix); ok {
		return &net.UnixAddr{Name: u.Name, Net: c.netName()}
	}
	return nil
}

// addrPortFromNetAddr converts the IP address types a PacketConn's caller
// passes.
func addrPortFromNetAddr(a net.Addr) (netip.AddrPort, bool) {
	switch v := a.(type) {
	case *net.UDPAddr:
		if v != nil {
			return v.AddrPort(), true
		}
	case *net.TCPAddr:
		if v != nil {
			return v.AddrPort(), true
		}
	case *net.IPAddr:
		if v != nil {
			if ip, ok := netip.AddrFromSlice(v.IP); ok {
				return netip.AddrPortFrom(ip.WithZone(v.Zone), 0), true
			}
		}
	}
	return netip.AddrPort{}, false
}
