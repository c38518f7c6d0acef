package ping

import (
	"net/netip"
	"testing"

	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/net/bpf"
)

// icmpBytes builds an ICMP message of type typ with identifier id.
func icmpBytes(t *testing.T, proto int, typ uint8, id uint16) []byte {
	t.Helper()
	m := packet.ICMP{Proto: proto, Type: typ, ID: id, Seq: 7, Data: make([]byte, 56)}
	b, err := m.Append(nil, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ipv4Bytes wraps payload in an IPv4 header with options bytes of options.
func ipv4Bytes(t *testing.T, payload []byte, options int) []byte {
	t.Helper()
	h := packet.IPv4{TTL: 64, Protocol: packet.ProtoICMP, Src: netip.MustParseAddr("10.0.0.2"), Dst: netip.MustParseAddr("10.0.0.1"), Options: make([]byte, options)}
	for i := range h.Options {
		h.Options[i] = 1 // NOP
	}
	b, err := h.Append(nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEchoFilter runs the BPF program in x/net's VM on the packets a raw
// socket sees: our replies pass, other pingers' replies do not, errors
// pass whatever they quote. On IPv4 the program must skip IP options.
func TestEchoFilter(t *testing.T) {
	const ours, theirs = 0x1234, 0x4321
	for _, tc := range []struct {
		name string
		v6   bool
		pkt  []byte
		pass bool
	}{
		{"v4 our reply", false, ipv4Bytes(t, icmpBytes(t, packet.ProtoICMP, icmp4EchoReply, ours), 0), true},
		{"v4 our reply after IP options", false, ipv4Bytes(t, icmpBytes(t, packet.ProtoICMP, icmp4EchoReply, ours), 8), true},
		{"v4 another pinger's reply", false, ipv4Bytes(t, icmpBytes(t, packet.ProtoICMP, icmp4EchoReply, theirs), 0), false},
		{"v4 another pinger's reply after IP options", false, ipv4Bytes(t, icmpBytes(t, packet.ProtoICMP, icmp4EchoReply, theirs), 8), false},
		{"v4 unreachable", false, ipv4Bytes(t, icmpBytes(t, packet.ProtoICMP, icmp4DestUnreach, theirs), 0), true},
		{"v4 time exceeded", false, ipv4Bytes(t, icmpBytes(t, packet.ProtoICMP, icmp4TimeExceeded, 0), 0), true},
		{"v6 our reply", true, icmpBytes(t, packet.ProtoICMPv6, icmp6EchoReply, ours), true},
		{"v6 another pinger's reply", true, icmpBytes(t, packet.ProtoICMPv6, icmp6EchoReply, theirs), false},
		{"v6 unreachable", true, icmpBytes(t, packet.ProtoICMPv6, icmp6DestUnreach, theirs), true},
		{"v6 packet too big", true, icmpBytes(t, packet.ProtoICMPv6, icmp6PacketTooBig, 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := bpf.NewVM(echoFilter(ours, tc.v6))
			if err != nil {
				t.Fatal(err)
			}
			n, err := vm.Run(tc.pkt)
			if err != nil {
				t.Fatal(err)
			}
			if pass := n > 0; pass != tc.pass {
				t.Errorf("filter kept %d bytes of %d: pass %v, want %v", n, len(tc.pkt), pass, tc.pass)
			}
			if tc.pass && n < len(tc.pkt) {
				t.Errorf("filter kept %d bytes of %d, want all", n, len(tc.pkt))
			}
		})
	}
	if _, err := bpf.Assemble(echoFilter(ours, false)); err != nil {
		t.Errorf("the IPv4 program does not assemble: %v", err)
	}
}

// TestICMPFilters checks the type masks: a set bit blocks the type.
func TestICMPFilters(t *testing.T) {
	f4 := icmpFilter()
	for typ := range 32 {
		pass := typ == 0 || typ == 3 || typ == 11 || typ == 12
		if got := f4&(1<<typ) == 0; got != pass {
			t.Errorf("ICMP_FILTER passes type %d: %v, want %v", typ, got, pass)
		}
	}
	f6 := icmp6Filter()
	for typ := range 256 {
		pass := typ >= 1 && typ <= 4 || typ == 129
		if got := f6[typ>>5]&(1<<(typ&31)) == 0; got != pass {
			t.Errorf("ICMPV6_FILTER passes type %d: %v, want %v", typ, got, pass)
		}
	}
}
