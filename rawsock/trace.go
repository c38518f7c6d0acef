package rawsock

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"
)

// tracer serializes trace lines from concurrent goroutines.
type tracer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// traceOut is nil when tracing is off: the only cost a call pays then is
// this one atomic load.
var traceOut atomic.Pointer[tracer]

func init() {
	if v := os.Getenv("RAWSOCK_TRACE"); v != "" && v != "0" {
		SetTrace(os.Stderr)
	}
}

// SetTrace sends one strace-like line per syscall the package makes to w, or
// stops tracing when w is nil. RAWSOCK_TRACE=1 in the environment sets it to
// standard error at start.
func SetTrace(w io.Writer) {
	if w == nil {
		traceOut.Store(nil)
		return
	}
	traceOut.Store(&tracer{w: w})
}

// Tracing reports whether a trace writer is set.
func Tracing() bool { return traceOut.Load() != nil }

func (t *tracer) printf(format string, args ...any) {
	t.mu.Lock()
	t.buf = fmt.Appendf(t.buf[:0], format, args...)
	t.buf = append(t.buf, '\n')
	t.w.Write(t.buf)
	t.mu.Unlock()
}

// traceWait is printed when a call found its socket not ready and parks its
// goroutine on the runtime poller: the wait a blocking socket does in the
// kernel, made visible.
func (t *tracer) traceWait(fd int, write bool) {
	what := "readable"
	if write {
		what = "writable"
	}
	t.printf("  ... fd %d not ready: goroutine parked on the runtime poller (epoll) until %s", fd, what)
}

// traceWake is printed when a parked call gives up.
func (t *tracer) traceWake(fd int, err error) {
	t.printf("  ... fd %d: wait ended: %v", fd, err)
}

// constName is one row of the generated value-to-name tables.
type constName struct {
	v    int
	name string
}

// lookupName returns the first (preferred) name for v in tbl.
func lookupName(tbl []constName, v int) (string, bool) {
	for _, c := range tbl {
		if c.v == v {
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
	rest := flags
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

// traceFlags renders a flags argument that is printed only when set.
func traceFlags(flags int) string {
	if flags == 0 {
		return ""
	}
	return ", " + MsgFlagsString(flags)
}

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

// traceAddr wraps SockaddrString in braces, or returns "" for no address.
func traceAddr(sa unix.Sockaddr) string {
	if sa == nil {
		return ""
	}
	return " {" + SockaddrString(sa) + "}"
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

// traceRet renders " = n" or " = -1 ERRNO (text)".
func traceRet(n int, err error) string {
	if err != nil {
		return " = " + ErrnoString(err)
	}
	return " = " + strconv.Itoa(n)
}
