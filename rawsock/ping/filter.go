package ping

import (
	"golang.org/x/net/bpf"
)

// Message types the kernel filters let through to a raw pinger.
const (
	icmp4EchoReply    = 0
	icmp4DestUnreach  = 3
	icmp4TimeExceeded = 11
	icmp4ParamProblem = 12

	icmp6DestUnreach   = 1
	icmp6PacketTooBig  = 2
	icmp6TimeExceeded  = 3
	icmp6ParamProblem  = 4
	icmp6EchoRequest   = 128
	icmp6EchoReply     = 129
	icmp4EchoRequest   = 8
	icmpEchoHeaderSize = 8
)

// icmpFilter is the ICMP_FILTER value (raw(7)) of a raw IPv4 pinger: a set
// bit blocks the type, so everything is blocked but echo replies and the
// errors a request can cause.
func icmpFilter() uint32 {
	return ^uint32(1<<icmp4EchoReply | 1<<icmp4DestUnreach | 1<<icmp4TimeExceeded | 1<<icmp4ParamProblem)
}

// icmp6Filter is the ICMPV6_FILTER value (struct icmp6_filter, RFC 3542
// section 3.2) of a raw IPv6 pinger: Linux blocks a type whose bit is set.
func icmp6Filter() [8]uint32 {
	var f [8]uint32
	for i := range f {
		f[i] = ^uint32(0)
	}
	for _, t := range []uint8{icmp6EchoReply, icmp6DestUnreach, icmp6PacketTooBig, icmp6TimeExceeded, icmp6ParamProblem} {
		f[t>>5] &^= 1 << (t & 31)
	}
	return f
}

// echoFilter is the classic BPF program (SO_ATTACH_FILTER, socket(7)) of a
// raw pinger with identifier id, iputils' install_filter in x/net/bpf: an
// echo reply passes only with our identifier, anything else the ICMP filter
// let in (the errors) passes. On IPv4 the program sees the IP header first
// and skips it (ldx 4*([0]&0xf)); on IPv6 it sees the ICMPv6 message alone.
func echoFilter(id uint16, v6 bool) []bpf.Instruction {
	reply := uint32(icmp4EchoReply)
	var skip bpf.Instruction = bpf.LoadMemShift{Off: 0} // X = IPv4 header length
	if v6 {
		reply = icmp6EchoReply
		skip = bpf.LoadConstant{Dst: bpf.RegX, Val: 0}
	}
	return []bpf.Instruction{
		skip,
		bpf.LoadIndirect{Off: 4, Size: 2}, // A = echo identifier
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(id), SkipFalse: 1}, // ours?
		bpf.RetConstant{Val: 0xffffffff},                               // yes: pass
		bpf.LoadIndirect{Off: 0, Size: 1},                              // A = ICMP type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: reply, SkipTrue: 1},       // an echo reply?
		bpf.RetConstant{Val: 0xffffffff},                               // no, an error: pass
		bpf.RetConstant{Val: 0},                                        // another pinger's reply: drop
	}
}
