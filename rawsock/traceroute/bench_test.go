package traceroute

import (
	"net/netip"
	"testing"

	"github.com/rawsock/rawsock/rawsock/packet"
)

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
