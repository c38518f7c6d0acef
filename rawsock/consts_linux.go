package rawsock

import "golang.org/x/sys/unix"

// Internal names for the values the portable code switches on.
const (
	afInet       = unix.AF_INET
	afInet6      = unix.AF_INET6
	afUnix       = unix.AF_UNIX
	afPacket     = unix.AF_PACKET
	sockStream   = unix.SOCK_STREAM
	sockDgram    = unix.SOCK_DGRAM
	sockRaw      = unix.SOCK_RAW
	sockSeqpkt   = unix.SOCK_SEQPACKET
	sockCloexec  = unix.SOCK_CLOEXEC
	sockNonblock = unix.SOCK_NONBLOCK
	solSocket    = unix.SOL_SOCKET
	solIP        = unix.SOL_IP
	solIPv6      = unix.SOL_IPV6
	solTCP       = unix.SOL_TCP
	solUDP       = unix.SOL_UDP
	solPacket    = unix.SOL_PACKET
)
