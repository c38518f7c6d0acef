package rawsock_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestSendtoCountOnStream: a Sendto larger than a stream's buffers sends
// part of it, and the count it returns is what the peer receives, for an
// address the package encodes and for one x/sys/unix encodes (TCP ignores
// the address on a connected socket).
func TestSendtoCountOnStream(t *testing.T) {
	peer := func(s *rawsock.Conn) unix.Sockaddr { sa, _ := s.Getsockname(); return sa }
	for _, tc := range []struct {
		name string
		send func(c, s *rawsock.Conn, b []byte) (int, error)
	}{
		{"Sendto inet4", func(c, s *rawsock.Conn, b []byte) (int, error) { return c.Sendto(b, 0, peer(s)) }},
		{"Sendto vsock, encoded by x/sys/unix", func(c, _ *rawsock.Conn, b []byte) (int, error) {
			return c.Sendto(b, 0, &unix.SockaddrVM{CID: 1, Port: 1})
		}},
		{"SendtoInet", func(c, s *rawsock.Conn, b []byte) (int, error) {
			ap, _ := rawsock.AddrPortFromSockaddr(peer(s))
			return c.SendtoInet(b, 0, ap)
		}},
		{"SendtoContext", func(c, s *rawsock.Conn, b []byte) (int, error) {
			return c.SendtoContext(context.Background(), b, 0, peer(s))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
			b := make([]byte, 8<<20)
			n, err := tc.send(c, s, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Shutdown(rawsock.SHUT_WR); err != nil {
				t.Fatal(err)
			}
			if got := len(drainBytes(t, s)); got != n {
				t.Errorf("Sendto of %d bytes reported %d sent, the peer got %d", len(b), n, got)
			}
		})
	}
}

// TestWriteCountOnError: a Write (Sendall underneath) that fails partway
// returns the bytes sent before the failure, which the peer receives; so
// does the net.Conn adapter.
func TestWriteCountOnError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(c *rawsock.Conn, b []byte) (int, error)
	}{
		{"Conn", (*rawsock.Conn).Write},
		{"NetConn", func(c *rawsock.Conn, b []byte) (int, error) { return c.NetConn().Write(b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
			// The peer does not read: the write fills the buffers, then
			// times out.
			if err := c.SetTimeout(200 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			n, err := tc.write(c, make([]byte, 8<<20))
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Write: %d, %v; want a timeout", n, err)
			}
			if err := c.Shutdown(rawsock.SHUT_WR); err != nil {
				t.Fatal(err)
			}
			if got := len(drainBytes(t, s)); got != n {
				t.Errorf("Write failed reporting %d bytes sent, the peer got %d", n, got)
			}
		})
	}
}
