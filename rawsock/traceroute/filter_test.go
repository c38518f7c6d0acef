package traceroute

import (
	"testing"

	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/net/bpf"
)

// TestFilters runs the raw sockets' BPF programs in x/net's BPF VM on the
// packets of TestMatcher: what the matcher would take passes, the answers
// to other traces and truncated quotes are dropped.
func TestFilters(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		te, unreach := uint8(11), uint8(3)
		if v6 {
			te, unreach = 3, 1
		}
		for _, tc := range []struct {
			name string
			prog []bpf.Instruction
			pkt  []byte
			pass bool
		}{
			{"echo reply", echoFilter(mID, v6), echoReply(v6, mID, 7), true},
			{"another's echo reply", echoFilter(mID, v6), echoReply(v6, mID+1, 7), false},
			{"time exceeded quoting our request", echoFilter(mID, v6), icmpErr(v6, te, 0, probeEcho(v6, mID, 3), 1000), true},
			{"8 bytes quoted", echoFilter(mID, v6), icmpErr(v6, unreach, 1, probeEcho(v6, mID, 3), ipLen(v6)+8), true},
			{"quoting another's request", echoFilter(mID, v6), icmpErr(v6, te, 0, probeEcho(v6, mID+1, 3), 1000), false},
			{"quote cut before the identifier", echoFilter(mID, v6), icmpErr(v6, te, 0, probeEcho(v6, mID, 3), ipLen(v6)+4), false},
			{"quoting our SYN", quotedPortFilter(mSport, v6), icmpErr(v6, te, 0, probeSYN(v6, mSport, mDport, 9), 1000), true},
			{"quoting another's SYN", quotedPortFilter(mSport, v6), icmpErr(v6, te, 0, probeSYN(v6, mSport+1, mDport, 9), 1000), false},
			{"SYN-ACK to our port", dstPortFilter(mSport, v6), tcpAnswer(v6, mDport, mSport, 1, packet.TCPSyn|packet.TCPAck), true},
			{"RST to another port", dstPortFilter(mSport, v6), tcpAnswer(v6, mDport, mSport+1, 1, packet.TCPRst|packet.TCPAck), false},
		} {
			vm, err := bpf.NewVM(tc.prog)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			n, err := vm.Run(tc.pkt)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if pass := n > 0; pass != tc.pass {
				t.Errorf("v6 %v, %s: passed %v, want %v", v6, tc.name, pass, tc.pass)
			}
		}
	}
}

// TestFilterIPOptions: on IPv4 the programs find the headers after IP
// options, in the packet and in the datagram an error quotes.
func TestFilterIPOptions(t *testing.T) {
	opts := []byte{1, 1, 1, 1, 1, 1, 1, 0} // NOPs, end of options: 8 bytes
	probe := must((&packet.IPv4{TTL: 1, Protocol: packet.ProtoICMP, Src: mSrc4, Dst: mDst4, Options: opts}).Append(nil,
		must((&packet.ICMP{Proto: packet.ProtoICMP, Type: packet.ICMPv4EchoRequest, ID: mID, Seq: 1}).Append(nil, mSrc4, mDst4))))
	msg := must((&packet.ICMP{Proto: packet.ProtoICMP, Type: 11, Data: probe}).Append(nil, mHop4, mSrc4))
	pkt := must((&packet.IPv4{TTL: 60, Protocol: packet.ProtoICMP, Src: mHop4, Dst: mSrc4, Options: opts}).Append(nil, msg))
	for id, want := range map[uint16]bool{mID: true, mID + 1: false} {
		vm, _ := bpf.NewVM(echoFilter(id, false))
		if n, err := vm.Run(pkt); err != nil || n > 0 != want {
			t.Errorf("id %#x: passed %d bytes (%v), want pass %v", id, n, err, want)
		}
	}
}
