package ping

import (
	"net/netip"
	"strconv"
	"time"
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventSent: request Seq left (sendto(2) succeeded).
	EventSent EventKind = iota + 1
	// EventReply: an echo reply to request Seq came from From.
	EventReply
	// EventTimeout: request Seq got no answer within Config.Timeout, or
	// none before Run ended (every request unanswered at the end gets one).
	EventTimeout
	// EventError: From sent an ICMP error (Type, Code) about request Seq:
	// destination unreachable, time exceeded, parameter problem, packet
	// too big.
	EventError
	// EventSendError: sending request Seq failed (Err), or the kernel
	// reported a local error about it; it counts as transmitted, as in
	// iputils.
	EventSendError
)

func (k EventKind) String() string {
	switch k {
	case EventSent:
		return "sent"
	case EventReply:
		return "reply"
	case EventTimeout:
		return "timeout"
	case EventError:
		return "error"
	case EventSendError:
		return "send-error"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is one thing that happened during Run. Fields that do not apply
// to its Kind are zero.
type Event struct {
	Kind EventKind
	Seq  uint16    // the request's icmp_seq, as it is on the wire (it wraps after 65535)
	Time time.Time // when: the kernel's receive time for a reply or an error, else the clock
	IPv6 bool      // the family, for Reason

	From netip.Addr    // who sent the reply or the error
	Size int           // bytes of the ICMP message received (iputils' "64 bytes")
	TTL  int           // TTL (hop limit) of the reply or error; -1 when unknown
	RTT  time.Duration // round-trip time of a reply, when Timed
	// Timed is set when the reply carried our timestamp (Size >= 16).
	Timed bool
	// Dup marks a reply to a request that was already answered.
	Dup bool
	// Late marks a reply to a request already reported as a Timeout.
	Late bool
	// BadChecksum marks a reply whose ICMP checksum is wrong: it counts as
	// Corrupted, not Received, and is not timed.
	BadChecksum bool
	// Mismatch is the offset in Data of the first byte of a reply that
	// differs from the request's (from TimestampLen on), or -1: iputils'
	// "wrong data byte".
	Mismatch int
	// Data is the reply's data after the ICMP header; it is only valid
	// during the callback.
	Data []byte

	Type, Code uint8  // ICMP type and code of an EventError
	Info       uint32 // the MTU of "fragmentation needed" or "packet too big"; the pointer of a parameter problem
	Err        error  // the failure of an EventSendError
}

// Reason describes an EventError in iputils' words: "Destination Host
// Unreachable", "Time to live exceeded", or for ICMPv6 "Destination
// unreachable: No route", "Time exceeded: Hop limit".
func (e *Event) Reason() string {
	if e.IPv6 {
		return reason6(e.Type, e.Code, e.Info)
	}
	return reason4(e.Type, e.Code, e.Info)
}

// reason4 is iputils' pr_icmph for the messages a pinger reports.
func reason4(typ, code uint8, info uint32) string {
	switch typ {
	case 0:
		return "Echo Reply"
	case 3:
		switch code {
		case 0:
			return "Destination Net Unreachable"
		case 1:
			return "Destination Host Unreachable"
		case 2:
			return "Destination Protocol Unreachable"
		case 3:
			return "Destination Port Unreachable"
		case 4:
			return "Frag needed and DF set (mtu = " + strconv.FormatUint(uint64(info), 10) + ")"
		case 5:
			return "Source Route Failed"
		case 6:
			return "Destination Net Unknown"
		case 7:
			return "Destination Host Unknown"
		case 8:
			return "Source Host Isolated"
		case 9:
			return "Destination Net Prohibited"
		case 10:
			return "Destination Host Prohibited"
		case 11:
			return "Destination Net Unreachable for Type of Service"
		case 12:
			return "Destination Host Unreachable for Type of Service"
		case 13:
			return "Packet filtered"
		case 14:
			return "Precedence Violation"
		case 15:
			return "Precedence Cutoff"
		}
		return "Dest Unreachable, Bad Code: " + strconv.Itoa(int(code))
	case 4:
		return "Source Quench"
	case 5:
		return "Redirect, code " + strconv.Itoa(int(code))
	case 8:
		return "Echo Request"
	case 11:
		switch code {
		case 0:
			return "Time to live exceeded"
		case 1:
			return "Frag reassembly time exceeded"
		}
		return "Time exceeded, Bad Code: " + strconv.Itoa(int(code))
	case 12:
		return "Parameter problem: pointer = " + strconv.FormatUint(uint64(info), 10)
	}
	return "Bad ICMP type: " + strconv.Itoa(int(typ))
}

// reason6 is iputils' print_icmp (ping6_common.c).
func reason6(typ, code uint8, info uint32) string {
	switch typ {
	case 1:
		s := "Destination unreachable: "
		switch code {
		case 0:
			return s + "No route"
		case 1:
			return s + "Administratively prohibited"
		case 2:
			return s + "Beyond scope of source address"
		case 3:
			return s + "Address unreachable"
		case 4:
			return s + "Port unreachable"
		case 5:
			return s + "Source address failed ingress/egress policy"
		case 6:
			return s + "Reject route to destination"
		}
		return s + "Unknown code " + strconv.Itoa(int(code))
	case 2:
		s := "Packet too big: mtu=" + strconv.FormatUint(uint64(info), 10)
		if code != 0 {
			s += ", code=" + strconv.Itoa(int(code))
		}
		return s
	case 3:
		switch code {
		case 0:
			return "Time exceeded: Hop limit"
		case 1:
			return "Time exceeded: Defragmentation failure"
		}
		return "Time exceeded: code " + strconv.Itoa(int(code))
	case 4:
		s := "Parameter problem: "
		switch code {
		case 0:
			s += "Wrong header field "
		case 1:
			s += "Unknown header "
		case 2:
			s += "Unknown option "
		default:
			s += "code " + strconv.Itoa(int(code)) + " "
		}
		return s + "at " + strconv.FormatUint(uint64(info), 10)
	case 128:
		return "Echo request"
	case 129:
		return "Echo reply"
	}
	return "unknown icmp type: " + strconv.Itoa(int(typ))
}
