package traceroute

import (
	"context"
	"net/netip"
	"testing"
	"time"

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
