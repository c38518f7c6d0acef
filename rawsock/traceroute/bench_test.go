package traceroute

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/packet"
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

// BenchmarkMatch is the cost of matching one packet read from a raw
// socket: a time exceeded quoting a probe, and a SYN-ACK.
func BenchmarkMatch(b *testing.B) {
	m := newMatcher(TCP, false)
	te := icmpErr(false, 11, 0, probeSYN(false, mSport, mDport, mISN+4), 1000)
	syn := tcpAnswer(false, mDport, mSport, mISN+1, packet.TCPSyn|packet.TCPAck)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := m.icmpPacket(te, netip.Addr{}); !ok {
			b.Fatal("no match")
		}
		if _, ok := m.tcpPacket(syn, mDst4); !ok {
			b.Fatal("no match")
		}
	}
}
