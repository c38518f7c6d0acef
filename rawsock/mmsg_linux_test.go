package rawsock_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

func addrPortOf(t *testing.T, c *rawsock.Conn) netip.AddrPort {
	t.Helper()
	sa, err := c.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	ap, ok := rawsock.AddrPortFromSockaddr(sa)
	if !ok {
		t.Fatalf("%v is not an IP address", sa)
	}
	return ap
}

// recvAll calls Recvmmsg until n messages are in, for a batch the kernel
// may hand over in parts.
func recvAll(t *testing.T, c *rawsock.Conn, msgs []rawsock.Message) {
	t.Helper()
	c.SetTimeout(slack)
	for got := 0; got < len(msgs); {
		n, err := c.Recvmmsg(msgs[got:], 0)
		if err != nil {
			t.Fatalf("Recvmmsg after %d messages: %v", got, err)
		}
		got += n
	}
}

// TestMmsg: Sendmmsg sends a batch to two destinations in one call;
// Recvmmsg receives it with each message's length, source, and MSG_TRUNC
// where the buffer was too small.
func TestMmsg(t *testing.T) {
	for _, fam := range []int{rawsock.AF_INET, rawsock.AF_INET6} {
		t.Run(rawsock.FamilyName(fam), func(t *testing.T) {
			src := socktest.BoundUDP(t, fam)
			r1 := socktest.BoundUDP(t, fam)
			r2 := socktest.BoundUDP(t, fam)
			to1, to2 := addrPortOf(t, r1), addrPortOf(t, r2)
			out := make([]rawsock.Message, 8)
			for i := range out {
				out[i].Buf = []byte(fmt.Sprintf("datagram %d", i))
				out[i].Addr = to1
				if i%4 == 3 {
					out[i].Addr = to2
				}
			}
			n, err := src.Sendmmsg(out, 0)
			if err != nil || n != len(out) {
				t.Fatalf("Sendmmsg: %d, %v", n, err)
			}
			for i, m := range out {
				if m.N != len(m.Buf) {
					t.Errorf("message %d: N %d, want %d", i, m.N, len(m.Buf))
				}
			}

			in := make([]rawsock.Message, 6)
			for i := range in {
				in[i].Buf = make([]byte, 64)
			}
			in[2].Buf = make([]byte, 4) // too small: truncated
			recvAll(t, r1, in)
			me := addrPortOf(t, src)
			want := []int{0, 1, 2, 4, 5, 6}
			for i, m := range in {
				w := fmt.Sprintf("datagram %d", want[i])
				if i == 2 {
					if m.N != 4 || string(m.Buf) != w[:4] || m.Flags&unix.MSG_TRUNC == 0 {
						t.Errorf("message 2: %q (N %d) flags %s; want %q MSG_TRUNC", m.Buf[:m.N], m.N, rawsock.MsgFlagsString(m.Flags), w[:4])
					}
				} else if string(m.Buf[:m.N]) != w || m.Flags != 0 {
					t.Errorf("message %d: %q flags %s; want %q, no flags", i, m.Buf[:m.N], rawsock.MsgFlagsString(m.Flags), w)
				}
				if m.Addr != me {
					t.Errorf("message %d from %v, want %v", i, m.Addr, me)
				}
			}
			in2 := make([]rawsock.Message, 2)
			for i := range in2 {
				in2[i].Buf = make([]byte, 64)
			}
			recvAll(t, r2, in2)
			if string(in2[0].Buf[:in2[0].N]) != "datagram 3" || string(in2[1].Buf[:in2[1].N]) != "datagram 7" {
				t.Errorf("second destination got %q, %q", in2[0].Buf[:in2[0].N], in2[1].Buf[:in2[1].N])
			}
		})
	}
}

// TestMmsgConnected: with no address, Sendmmsg goes to the connected
// peer; MSG_WAITFORONE returns what is queued without waiting for a full
// batch; an empty batch is no call at all.
func TestMmsgConnected(t *testing.T) {
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	out := []rawsock.Message{{Buf: []byte("one")}, {Buf: []byte("two")}, {Buf: []byte("three")}}
	if n, err := a.Sendmmsg(out, 0); err != nil || n != 3 {
		t.Fatalf("Sendmmsg: %d, %v", n, err)
	}
	in := make([]rawsock.Message, 8)
	for i := range in {
		in[i].Buf = make([]byte, 16)
	}
	b.SetTimeout(slack)
	start := time.Now()
	n, err := b.Recvmmsg(in, unix.MSG_WAITFORONE)
	within(t, "Recvmmsg(MSG_WAITFORONE)", start, 0)
	if err != nil || n < 1 || n > 3 {
		t.Fatalf("Recvmmsg(MSG_WAITFORONE) of 3 queued into 8: %d, %v", n, err)
	}
	got := n
	for got < 3 {
		k, err := b.Recvmmsg(in[got:], unix.MSG_WAITFORONE)
		if err != nil {
			t.Fatal(err)
		}
		got += k
	}
	for i, w := range []string{"one", "two", "three"} {
		if string(in[i].Buf[:in[i].N]) != w {
			t.Errorf("message %d: %q, want %q", i, in[i].Buf[:in[i].N], w)
		}
	}
	if n, err := a.Sendmmsg(nil, 0); n != 0 || err != nil {
		t.Errorf("Sendmmsg(nil): %d, %v", n, err)
	}
	if n, err := b.Recvmmsg(nil, 0); n != 0 || err != nil {
		t.Errorf("Recvmmsg(nil): %d, %v", n, err)
	}
	// A destination of the wrong family fails the batch before the call.
	bad := []rawsock.Message{{Buf: []byte("x"), Addr: netip.MustParseAddrPort("[::1]:9")}}
	if _, err := a.Sendmmsg(bad, 0); err == nil {
		t.Error("IPv6 destination on an AF_INET socket accepted")
	}
}
