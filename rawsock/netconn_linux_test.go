package rawsock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/nettest"
)

// TestNetConnConformance runs x/net's net.Conn conformance suite (basic
// I/O, racy reads and writes, every deadline case, close while blocked)
// over the NetConn adapter of TCP and AF_UNIX pairs.
func TestNetConnConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		pair func() (a, b *rawsock.Conn, err error)
	}{
		{"tcp", func() (a, b *rawsock.Conn, err error) { return tcpPairNoT() }},
		{"unix", func() (a, b *rawsock.Conn, err error) {
			return rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				a, b, err := tc.pair()
				if err != nil {
					return nil, nil, nil, err
				}
				return a.NetConn(), b.NetConn(), func() { a.Close(); b.Close() }, nil
			})
		})
	}
}

// tcpPairNoT is socktest.TCPPair for callers without a *testing.T: the
// conformance suite makes its pipes itself.
func tcpPairNoT() (server, client *rawsock.Conn, err error) {
	l, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	sa, _ := rawsock.InetAddr("127.0.0.1", 0)
	if err = l.Bind(sa); err == nil {
		err = l.Listen(1)
	}
	if err != nil {
		return nil, nil, err
	}
	la, _ := l.Getsockname()
	if client, err = rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0); err != nil {
		return nil, nil, err
	}
	if err = client.Connect(la); err == nil {
		server, _, err = l.Accept()
	}
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return server, client, nil
}

// TestNetHTTP serves HTTP from NetListener to the standard client, and
// sends a request from a NetConn, read back with bufio and
// http.ReadResponse.
func TestNetHTTP(t *testing.T) {
	l, la := socktest.Listener(t, rawsock.AF_INET)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s from %s", r.URL.Path, r.RemoteAddr)
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l.NetListener()) }()
	defer func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	url := "http://" + rawsock.AddrString(la)

	// The standard client, dialling through rawsock too.
	client := &http.Client{Timeout: slack, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return nil, err
			}
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return nil, err
			}
			if err := c.ConnectContext(ctx, rawsock.SockaddrFromAddrPort(ap)); err != nil {
				c.Close()
				return nil, err
			}
			return c.NetConn(), nil
		},
	}}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/a", "/b"} { // the second reuses the connection
		resp, err := client.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !strings.HasPrefix(string(body), "hello "+path+" from 127.0.0.1:") {
			t.Errorf("GET %s: %q, %v", path, body, err)
		}
	}

	// A NetConn driven by bufio and http.ReadResponse.
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err := c.Connect(la); err != nil {
		t.Fatal(err)
	}
	nc := c.NetConn()
	nc.SetDeadline(time.Now().Add(slack))
	bw := bufio.NewWriter(nc)
	fmt.Fprintf(bw, "GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "hello /raw") {
		t.Errorf("response %d %q", resp.StatusCode, body)
	}
	if nc.RemoteAddr().String() != rawsock.AddrString(la) || nc.LocalAddr().Network() != "tcp" {
		t.Errorf("addresses %v (%s) -> %v", nc.LocalAddr(), nc.LocalAddr().Network(), nc.RemoteAddr())
	}
}

// TestNetConnErrors: the adapter's errors are *net.OpError, as net's are,
// so that net.Error's Timeout and errors.Is(net.ErrClosed) work.
func TestNetConnErrors(t *testing.T) {
	a, _ := socktest.TCPPair(t, rawsock.AF_INET)
	nc := a.NetConn()
	nc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := nc.Read(make([]byte, 1))
	var ne net.Error
	var oe *net.OpError
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.As(err, &oe) || oe.Op != "read" || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read timeout: %#v", err)
	}
	nc.Close()
	if _, err := nc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) {
		t.Errorf("write after close: %v", err)
	}
	l, _ := socktest.Listener(t, rawsock.AF_INET)
	nl := l.NetListener()
	nl.Close()
	if _, err := nl.Accept(); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) || oe.Op != "accept" {
		t.Errorf("accept after close: %v", err)
	}
}

// TestNetPacketConn: ReadFrom and WriteTo with the address types net
// itself hands out, whose IPv4 addresses are 16-byte slices.
func TestNetPacketConn(t *testing.T) {
	for _, fam := range []int{rawsock.AF_INET, rawsock.AF_INET6} {
		t.Run(rawsock.FamilyName(fam), func(t *testing.T) {
			a := socktest.BoundUDP(t, fam)
			b := socktest.BoundUDP(t, fam)
			pa, pb := a.NetPacketConn(), b.NetPacketConn()
			host := "127.0.0.1"
			if fam == rawsock.AF_INET6 {
				host = "::1"
			}
			port := addrPortOf(t, b).Port()
			to, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, fmt.Sprint(port)))
			if err != nil {
				t.Fatal(err)
			}
			if n, err := pa.WriteTo([]byte("packet"), to); err != nil || n != 6 {
				t.Fatalf("WriteTo(%v): %d, %v", to, n, err)
			}
			pb.SetReadDeadline(time.Now().Add(slack))
			buf := make([]byte, 16)
			n, from, err := pb.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "packet" {
				t.Fatalf("ReadFrom: %q, %v", buf[:n], err)
			}
			if from.(*net.UDPAddr).Port != int(addrPortOf(t, a).Port()) || from.Network() != "udp" {
				t.Errorf("from %v", from)
			}
			// Reply to the address ReadFrom gave.
			if _, err := pb.WriteTo([]byte("reply"), from); err != nil {
				t.Fatal(err)
			}
			pa.SetReadDeadline(time.Now().Add(slack))
			if n, _, err := pa.ReadFrom(buf); err != nil || string(buf[:n]) != "reply" {
				t.Errorf("reply: %q, %v", buf[:n], err)
			}
			if pb.LocalAddr().(*net.UDPAddr).Port != int(port) {
				t.Errorf("LocalAddr %v", pb.LocalAddr())
			}
		})
	}
}
