package rawsock_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestAllocs guards the hot path: Send, Recv, SendtoInet, RecvfromInet,
// Recvmmsg and Sendmmsg allocate nothing per call, with tracing off, nor
// does a non-blocking Recv that finds nothing.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are skipped in -short mode")
	}
	s, c := socktest.TCPPair(t, rawsock.AF_INET)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	check := func(name string, f func()) {
		t.Helper()
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocs per call, want 0", name, n)
		}
	}
	check("Send+Recv", func() {
		if _, err := c.Send(msg, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(buf, 0); err != nil {
			t.Fatal(err)
		}
	})

	// An event loop polling a non-blocking socket finds nothing often:
	// the EAGAIN it gets is cached, not built.
	s.SetBlocking(false)
	check("non-blocking Recv finding nothing", func() {
		if _, err := s.Recv(buf, 0); !errors.Is(err, unix.EAGAIN) {
			t.Fatal(err)
		}
	})
	s.SetBlocking(true)

	a := socktest.BoundUDP(t, rawsock.AF_INET)
	b := socktest.BoundUDP(t, rawsock.AF_INET)
	sb, _ := b.Getsockname()
	to, _ := rawsock.AddrPortFromSockaddr(sb)
	check("SendtoInet+RecvfromInet", func() {
		if _, err := a.SendtoInet(msg, 0, to); err != nil {
			t.Fatal(err)
		}
		if _, from, err := b.RecvfromInet(buf, 0); err != nil || !from.IsValid() {
			t.Fatal(err, from)
		}
	})

	out := make([]rawsock.Message, 8)
	in := make([]rawsock.Message, 8)
	for i := range out {
		out[i] = rawsock.Message{Buf: msg, Addr: to}
		in[i] = rawsock.Message{Buf: make([]byte, 64)}
	}
	check("Sendmmsg+Recvmmsg", func() {
		if n, err := a.Sendmmsg(out, 0); err != nil || n != len(out) {
			t.Fatal(n, err)
		}
		got := 0
		for got < len(out) {
			n, err := b.Recvmmsg(in[got:], 0)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
		if in[0].Addr != netip.AddrPortFrom(to.Addr(), in[0].Addr.Port()) {
			t.Fatalf("source %v", in[0].Addr)
		}
	})
}
