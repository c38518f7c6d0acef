//go:build linux

package ping

import (
	"net/netip"
	"testing"
	"time"
)

// fuzzPinger is a pinger without a socket, its buffers ready: enough for
// handle, which only parses and counts.
func fuzzPinger(t testing.TB, dst string, kind SocketKind) *Pinger {
	p := &Pinger{cfg: Config{Dst: netip.MustParseAddr(dst), ID: 4242, Pattern: []byte{0xa5}}}
	if err := p.check(); err != nil {
		t.Fatal(err)
	}
	p.kind, p.id = kind, 4242
	if err := p.sys.resolveZone(p.cfg.Dst); err != nil {
		t.Fatal(err)
	}
	p.buffers()
	p.initState(time.Now())
	return p
}

// FuzzHandle feeds handle what a socket could deliver, for each family
// and socket: it must not panic, and every datagram must be counted once,
// as a reply, a duplicate, a corrupted reply, an error or ignored.
//
//	go test -run '^$' -fuzz FuzzHandle -fuzztime 200000x ./rawsock/ping
func FuzzHandle(f *testing.F) {
	good := func(id, seq uint16, data []byte, bad bool) []byte {
		b := echoReply4(f, id, seq, data)
		if bad {
			b[22] ^= 1
		}
		return b
	}
	payload := make([]byte, 56)
	f.Add(good(4242, 1, payload, false), byte(0), []byte(nil))
	f.Add(good(4242, 1, payload, true), byte(0), []byte(nil))
	f.Add(good(4242, 1, payload[:10], false), byte(0), []byte(nil))
	f.Add(good(1, 1, payload, false), byte(1), []byte(nil))
	f.Add([]byte{129, 0, 0, 0, 0x10, 0x92, 0, 1}, byte(2), timestampCmsg(time.Unix(1, 0)))
	f.Add([]byte{3, 1, 0, 0, 0, 0, 0, 0, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 8, 0, 0, 0, 0x10, 0x92, 0, 1}, byte(3), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte, mode byte, oob []byte) {
		dst, kind := "127.0.0.1", SocketRaw
		if mode&1 != 0 {
			kind = SocketDgram
		}
		if mode&2 != 0 {
			dst = "::1"
		}
		p := fuzzPinger(t, dst, kind)
		p.st.ntx, p.st.pending = 1, 1 // request 1 is in flight
		before := p.Statistics()
		m := &p.sys.msgs[0]
		if len(b) > len(m.Buf) || len(oob) > len(m.OOB) {
			return
		}
		m.N, m.NN = copy(m.Buf, b), copy(m.OOB, oob)
		m.Addr = netip.AddrPortFrom(p.cfg.Dst, 0)
		p.handle(m)
		p.flush(func(e *Event) {
			if e.Mismatch >= len(e.Data) && e.Mismatch != -1 {
				t.Errorf("Mismatch %d beyond the %d data bytes", e.Mismatch, len(e.Data))
			}
		})
		after := p.Statistics()
		n := func(s Statistics) int { return s.Received + s.Duplicates + s.Corrupted + s.Errors + s.Ignored }
		if n(after)-n(before) != 1 {
			t.Errorf("one datagram counted %d times: %+v then %+v", n(after)-n(before), before, after)
		}
	})
}
