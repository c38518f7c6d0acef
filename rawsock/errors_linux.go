package rawsock

import (
	"os"

	"golang.org/x/sys/unix"
)

// socketErr names the triple and, where the refusal is about privilege or a
// missing kernel feature, says what to do.
func socketErr(call string, family, typ, proto int, err error) error {
	errno := errnoOf(err)
	base := typ &^ (unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK)
	switch {
	case (errno == unix.EPERM || errno == unix.EACCES) && (base == unix.SOCK_RAW || family == unix.AF_PACKET):
		what := "raw sockets"
		if family == unix.AF_PACKET {
			what = "AF_PACKET sockets"
		}
		return os.NewSyscallError(call, &privilegeError{errno: errno, what: what})
	case (errno == unix.EPERM || errno == unix.EACCES) && base == unix.SOCK_DGRAM && (proto == unix.IPPROTO_ICMP || proto == unix.IPPROTO_ICMPV6):
		return os.NewSyscallError(call, &hintError{errno, "unprivileged ICMP sockets need the process's group inside net.ipv4.ping_group_range: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\""})
	case (errno == unix.EPROTONOSUPPORT || errno == unix.ESOCKTNOSUPPORT) && proto == unix.IPPROTO_SCTP:
		return os.NewSyscallError(call, &hintError{errno, "this kernel has no SCTP; where it is a module, modprobe sctp"})
	case errno == unix.ESOCKTNOSUPPORT && base == unix.SOCK_RDM:
		return os.NewSyscallError(call, &hintError{errno, "Linux offers SOCK_RDM only in AF_TIPC and AF_RDS"})
	}
	return os.NewSyscallError(call, errno)
}
