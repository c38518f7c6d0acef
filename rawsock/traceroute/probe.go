package traceroute

import (
	"net/netip"
	"strconv"
	"time"
)

// Kind is what answered a probe.
type Kind int

const (
	// NoAnswer: nothing came back within Config.Wait (traceroute's '*').
	NoAnswer Kind = iota
	// TimeExceeded: a router on the way, where the TTL ran out.
	TimeExceeded
	// Unreachable: destination unreachable, other than the port
	// unreachable that means "reached"; Probe.Annotation says which.
	Unreachable
	// PortUnreachable: the destination itself, to a UDP probe.
	PortUnreachable
	// EchoReply: the destination, to an ICMP probe.
	EchoReply
	// SynAck: the destination's open port, to a TCP probe.
	SynAck
	// Reset: the destination's closed port, to a TCP probe.
	Reset
	// UDPReply: the destination answered a UDP probe with data.
	UDPReply
	// OtherICMP: another ICMP error about the probe (parameter problem,
	// fragment reassembly time exceeded, ...), which ends the trace as
	// traceroute ends it; Probe.Annotation names it, !<type-code>.
	OtherICMP
)

var kindNames = [...]string{"no answer", "time exceeded", "unreachable", "port unreachable", "echo reply", "SYN-ACK", "RST", "UDP reply", "ICMP error"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Probe is one probe and what became of it.
type Probe struct {
	TTL  int       // the TTL (hop limit) it was sent with
	Seq  int       // its number in the trace, from 0: the UDP port is Config.Port+Seq
	Sent time.Time // when it was sent

	Kind Kind
	From netip.Addr    // who answered; the zero Addr when nothing did
	RTT  time.Duration // from sending to the answer's arrival (the kernel's receive time)

	// ICMPType and ICMPCode are the answer's ICMP type and code, in the
	// numbering of its family (ICMPv4 or ICMPv6); 0 for a TCP answer.
	ICMPType, ICMPCode uint8
	// ReplyTTL is the TTL (hop limit) of the answer as it arrived; 0
	// when unknown.
	ReplyTTL int
	// Annotation is traceroute's mark for an unreachable answer: "!H",
	// "!N", "!P", "!X", "!F", "!S", "!V", "!C", or "!<code>"; empty for
	// other answers.
	Annotation string
	// Final says the answer ends the trace: the destination answered, or
	// a destination unreachable came back.
	Final bool
	// MTU is, with Config.DiscoverMTU, the MTU a link on the way reported
	// too small for the probe before it, so this probe was sent again at
	// that length (traceroute's F=<mtu>); 0 otherwise.
	MTU int
}

// Answered reports whether anything answered the probe.
func (p *Probe) Answered() bool { return p.Kind != NoAnswer }

// Reached reports whether the destination itself answered, as the method
// expects it to.
func (p *Probe) Reached() bool {
	switch p.Kind {
	case PortUnreachable, EchoReply, SynAck, Reset, UDPReply:
		return true
	}
	return false
}

// Hop is the probes of one TTL, in the order they were sent.
type Hop struct {
	TTL    int
	Probes []Probe
}

// Final reports whether a probe of the hop ended the trace.
func (h *Hop) Final() bool {
	for i := range h.Probes {
		if h.Probes[i].Final {
			return true
		}
	}
	return false
}

// Addrs returns the addresses that answered the hop's probes, each once,
// in the order they first answered.
func (h *Hop) Addrs() []netip.Addr {
	var out []netip.Addr
next:
	for i := range h.Probes {
		a := h.Probes[i].From
		if !a.IsValid() {
			continue
		}
		for _, b := range out {
			if a == b {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// Result is a whole trace.
type Result struct {
	Dst  netip.Addr
	Hops []Hop
}

// Reached reports whether the last hop has an answer from the destination.
func (r *Result) Reached() bool {
	if len(r.Hops) == 0 {
		return false
	}
	h := &r.Hops[len(r.Hops)-1]
	for i := range h.Probes {
		if h.Probes[i].Reached() {
			return true
		}
	}
	return false
}

// ICMP types and codes traceroute tells apart (RFC 792, RFC 1812, RFC 4443).
const (
	icmp4DestUnreach  = 3
	icmp4TimeExceeded = 11
	icmp4PortUnreach  = 3 // code

	icmp6DestUnreach  = 1
	icmp6PacketTooBig = 2
	icmp6TimeExceeded = 3
	icmp6PortUnreach  = 4 // code
)

// classifyICMP says what an ICMP error about a probe means, as traceroute's
// parse_icmp_res does: a time exceeded in transit is a hop on the way;
// anything else ends the trace: a destination unreachable with no mark
// when it is the port unreachable of a reached destination and with a
// mark otherwise, another error (a parameter problem, a fragment
// reassembly time exceeded) with !<type-code>. mtu is what a
// "fragmentation needed" or "packet too big" reports (!F-<mtu>).
func classifyICMP(v6 bool, typ, code uint8, mtu int) (k Kind, annotation string, final bool) {
	if v6 && typ == icmp6PacketTooBig || !v6 && typ == icmp4DestUnreach && code == 4 {
		return Unreachable, "!F-" + strconv.Itoa(mtu), true
	}
	if !v6 {
		switch typ {
		case icmp4TimeExceeded:
			if code != 0 {
				return OtherICMP, otherMark(typ, code), true
			}
			return TimeExceeded, "", false
		case icmp4DestUnreach:
			if code == icmp4PortUnreach {
				return PortUnreachable, "", true
			}
			return Unreachable, unreach4Mark(code), true
		}
		return OtherICMP, otherMark(typ, code), true
	}
	switch typ {
	case icmp6TimeExceeded:
		if code != 0 {
			return OtherICMP, otherMark(typ, code), true
		}
		return TimeExceeded, "", false
	case icmp6DestUnreach:
		switch code {
		case icmp6PortUnreach:
			return PortUnreachable, "", true
		case 0: // no route to destination
			return Unreachable, "!N", true
		case 1: // communication administratively prohibited
			return Unreachable, "!X", true
		case 2, 3: // beyond the scope of the source address; address unreachable
			return Unreachable, "!H", true
		}
		return Unreachable, "!<" + strconv.Itoa(int(code)) + ">", true
	}
	return OtherICMP, otherMark(typ, code), true
}

// otherMark is traceroute's mark for another error: !<type-code>. Built
// only when needed: matching a time exceeded must not allocate.
func otherMark(typ, code uint8) string {
	return "!<" + strconv.Itoa(int(typ)) + "-" + strconv.Itoa(int(code)) + ">"
}

// unreach4Mark is traceroute's mark for an ICMPv4 destination unreachable
// code (RFC 792, RFC 1122, RFC 1812).
func unreach4Mark(code uint8) string {
	switch code {
	case 0, 6, 8, 11: // network unreachable, unknown, source host isolated, for TOS
		return "!N"
	case 1, 7, 12: // host unreachable, unknown, for TOS
		return "!H"
	case 2: // protocol unreachable
		return "!P"
	case 5: // source route failed
		return "!S"
	case 9, 10, 13: // network, host, communication administratively prohibited
		return "!X"
	case 14: // host precedence violation
		return "!V"
	case 15: // precedence cutoff in effect
		return "!C"
	}
	return "!<" + strconv.Itoa(int(code)) + ">"
}
