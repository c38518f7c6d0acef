package rawsock

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"
)

// constName is one row of the generated value-to-name tables.
type constName struct {
	v    int64 // wide enough for every value (EPOLLET, masks) on 32-bit too
	name string
}

// lookupName returns the first (preferred) name for v in tbl.
func lookupName(tbl []constName, v int) (string, bool) {
	for _, c := range tbl {
		if c.v == int64(v) {
			return c.name, true
		}
	}
	return "", false
}

func nameOr(tbl []constName, v int) string {
	if n, ok := lookupName(tbl, v); ok {
		return n
	}
	return strconv.Itoa(v)
}

// FamilyName returns "AF_INET" for AF_INET, or the number for an unknown family.
func FamilyName(family int) string { return nameOr(afNames, family) }

// TypeName returns "SOCK_STREAM|SOCK_CLOEXEC" style names for a socket type
// with its flags.
func TypeName(typ int) string {
	base := typ &^ (sockCloexec | sockNonblock)
	s := nameOr(sockTypeNames, base)
	if sockCloexec != 0 && typ&sockCloexec != 0 {
		s += "|SOCK_CLOEXEC"
	}
	if sockNonblock != 0 && typ&sockNonblock != 0 {
		s += "|SOCK_NONBLOCK"
	}
	return s
}

// ProtoName names the protocol argument of socket(2) as strace does:
// "IPPROTO_TCP" for the IP families, "htons(ETH_P_ALL)" for AF_PACKET, the
// number otherwise.
func ProtoName(family, proto int) string {
	switch family {
	case afInet, afInet6:
		return nameOr(ipprotoNames, proto)
	case afPacket:
		return "htons(" + nameOr(ethPNames, int(Ntohs(uint16(proto)))) + ")"
	}
	return strconv.Itoa(proto)
}

// tripleString is the socket(2) triple in words, for errors:
// "socket(AF_INET, SOCK_SEQPACKET, 0)".
func tripleString(family, typ, proto int) string {
	p := "0"
	if proto != 0 {
		p = ProtoName(family, proto)
	}
	return "socket(" + FamilyName(family) + ", " + TypeName(typ) + ", " + p + ")"
}

// LevelName names a setsockopt level.
func LevelName(level int) string {
	if level == solSocket {
		return "SOL_SOCKET"
	}
	return nameOr(solNames, level)
}

// OptName names a socket option within its level.
func OptName(level, opt int) string {
	var tbl []constName
	switch level {
	case solSocket:
		tbl = soNames
	case solIP:
		tbl = ipNames
	case solIPv6:
		tbl = ipv6Names
	case solTCP:
		tbl = tcpNames
	case solUDP:
		tbl = udpNames
	case solPacket:
		tbl = packetNames
	}
	return nameOr(tbl, opt)
}

// MsgFlagsString decodes MSG_* flags: "MSG_PEEK|MSG_DONTWAIT", or "0".
func MsgFlagsString(flags int) string {
	if flags == 0 {
		return "0"
	}
	var b strings.Builder
	rest := int64(flags)
	for _, c := range msgNames {
		if c.v != 0 && c.v&(c.v-1) == 0 && rest&c.v != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(c.name)
			rest &^= c.v
		}
	}
	if rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%#x", rest)
	}
	return b.String()
}

// ShutName names the how argument of shutdown(2).
func ShutName(how int) string { return nameOr(shutNames, how) }

// SockaddrString formats an address as strace does inside braces:
// "AF_INET, 127.0.0.1:9999".
func SockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case nil:
		return "NULL"
	case *unix.SockaddrInet4:
		if a == nil {
			return "NULL"
		}
		return "AF_INET, " + netipAddrPort4(a).String()
	case *unix.SockaddrInet6:
		if a == nil {
			return "NULL"
		}
		return "AF_INET6, " + netipAddrPort6(a).String()
	case *unix.SockaddrUnix:
		if a == nil {
			return "NULL"
		}
		if a.Name == "" {
			return "AF_UNIX, unnamed"
		}
		if a.Name[0] == '@' || a.Name[0] == 0 {
			return "AF_UNIX, @" + strconv.Quote(a.Name[1:])
		}
		return "AF_UNIX, " + strconv.Quote(a.Name)
	}
	return sockaddrStringOS(sa)
}

// ErrnoString formats an error as strace's result column does:
// "-1 EAGAIN (Resource temporarily unavailable)".
func ErrnoString(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		name := unix.ErrnoName(errno)
		if name == "" {
			name = "E" + strconv.Itoa(int(errno))
		}
		return "-1 " + name + " (" + capitalize(errno.Error()) + ")"
	}
	if errors.Is(err, net.ErrClosed) {
		return "-1 (socket closed)"
	}
	return "-1 (" + err.Error() + ")"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// cmsgTypeName names a control message's type within its level.
func cmsgTypeName(level, typ int) string {
	if level == solSocket {
		if n, ok := lookupName(scmNames, typ); ok {
			return n
		}
	}
	return OptName(level, typ)
}

// epollOpName names the op argument of epoll_ctl(2).
func epollOpName(op int) string { return nameOr(epollCtlNames, op) }

// epollEventsString decodes epoll event bits: "EPOLLIN|EPOLLET", with the
// bits it has no name for in hex.
func epollEventsString(ev uint32) string {
	var b strings.Builder
	for _, c := range epollEventNames {
		if v := uint32(c.v); ev&v != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(c.name)
			ev &^= v
		}
	}
	if ev != 0 || b.Len() == 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "0x%08x", ev)
	}
	return b.String()
}
