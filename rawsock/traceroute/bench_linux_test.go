package traceroute

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"github.com/rawsock/rawsock/rawsock/internal/socktest"
)

// BenchmarkTraceLoopback is one whole trace of 127.0.0.1 (one hop, three
// probes) per op, sockets opened and closed included.
func BenchmarkTraceLoopback(b *testing.B) {
	for _, m := range []method{methods[0], methods[1], methods[3]} {
		b.Run(m.name, func(b *testing.B) {
			if m.m != UDP {
				socktest.NeedRaw(b)
			}
			cfg := Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: m.m, Socket: m.socket, Wait: time.Second}
			for b.Loop() {
				tr, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				res, err := tr.Run(context.Background(), nil)
				tr.Close()
				if err != nil || !res.Reached() {
					b.Fatalf("%v, reached %v", err, res.Reached())
				}
			}
		})
	}
}

// BenchmarkTraceLine is one whole trace from A to B through three routers
// per op (4 hops, 12 probes), sockets opened in A and closed included.
func BenchmarkTraceLine(b *testing.B) {
	l := netns.NewLine(b, 3)
	l.A.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	for _, m := range methods[:4] {
		b.Run(m.name, func(b *testing.B) {
			cfg := m.config(l.B.Addr4())
			for b.Loop() {
				var tr *Tracer
				if err := l.A.Do(func() (err error) { tr, err = New(cfg); return err }); err != nil {
					b.Fatal(err)
				}
				res, err := tr.Run(context.Background(), nil)
				tr.Close()
				if err != nil || !res.Reached() || len(res.Hops) != 4 {
					b.Fatalf("%v, %d hops, reached %v", err, len(res.Hops), res.Reached())
				}
			}
		})
	}
}
