package traceroute

import (
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/net/bpf"
)

// The classic BPF programs (SO_ATTACH_FILTER, socket(7)) of the raw
// sockets. A raw socket gets a copy of every ICMP (or TCP) packet the host
// receives; on a busy host (a ping flood, a TCP benchmark) those fill its
// buffer, and the kernel then drops the answers the trace waits for. The
// programs let through only what can be this trace's: the matcher still
// checks everything, so a filter that lets too much through costs time,
// never a wrong answer.
//
// Each program sees the packet as the socket would: on IPv4 from the IP
// header, on IPv6 from the ICMPv6 or TCP header. A load past the end of
// the packet ends the program with 0 (drop), which suits a truncated quote.

const (
	bpfPass = 0xffffffff
	bpfDrop = 0
)

// outerHeader sets X to the length of the IPv4 header before the message,
// or to 0 on IPv6, where there is none.
func outerHeader(v6 bool) bpf.Instruction {
	if v6 {
		return bpf.LoadConstant{Dst: bpf.RegX, Val: 0}
	}
	return bpf.LoadMemShift{Off: 0} // X = 4*([0]&0xf)
}

// quotedTransport sets X so that [X+8] is the start of the transport header
// an ICMP error quotes: after the 8-byte ICMP header, the quoted IPv4
// header of the length its IHL says, or the 40-byte IPv6 header (probes
// carry no extension headers). X must hold outerHeader's value.
func quotedTransport(v6 bool) []bpf.Instruction {
	if v6 {
		return []bpf.Instruction{bpf.LoadConstant{Dst: bpf.RegX, Val: 40}}
	}
	return []bpf.Instruction{
		bpf.LoadIndirect{Off: 8, Size: 1}, // A = the quoted version and IHL
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf},
		bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2}, // A = quoted IHL in bytes
		bpf.ALUOpX{Op: bpf.ALUOpAdd},                      // plus the outer header
		bpf.TAX{},
	}
}

// passIf16 passes the packet when the 16-bit field at [X+off] is val.
func passIf16(off, val uint32) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadIndirect{Off: off, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: val, SkipFalse: 1},
		bpf.RetConstant{Val: bpfPass},
		bpf.RetConstant{Val: bpfDrop},
	}
}

// echoFilter is the ICMP socket's program for ICMP probes with echo
// identifier id: an echo reply passes with that identifier, an error when
// the echo request it quotes has it.
func echoFilter(id uint16, v6 bool) []bpf.Instruction {
	reply := uint32(echoReplyType(v6))
	p := []bpf.Instruction{
		outerHeader(v6),
		bpf.LoadIndirect{Off: 0, Size: 1}, // A = ICMP type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: reply, SkipTrue: 0}, // patched below
	}
	errPath := append(quotedTransport(v6), passIf16(8+4, uint32(id))...) // the quoted echo identifier
	p[2] = bpf.JumpIf{Cond: bpf.JumpEqual, Val: reply, SkipTrue: uint8(len(errPath))}
	p = append(p, errPath...)
	return append(p, passIf16(4, uint32(id))...) // the reply's identifier
}

// quotedPortFilter is the ICMP socket's program for TCP probes from source
// port sport: an error passes when the segment it quotes is from sport.
func quotedPortFilter(sport uint16, v6 bool) []bpf.Instruction {
	p := append([]bpf.Instruction{outerHeader(v6)}, quotedTransport(v6)...)
	return append(p, passIf16(8, uint32(sport))...)
}

// dstPortFilter is the TCP socket's program: a segment passes when it is
// to port sport, the probes' source port.
func dstPortFilter(sport uint16, v6 bool) []bpf.Instruction {
	return append([]bpf.Instruction{outerHeader(v6)}, passIf16(2, uint32(sport))...)
}

func echoReplyType(v6 bool) uint8 {
	if v6 {
		return packet.ICMPv6EchoReply
	}
	return packet.ICMPv4EchoReply
}
