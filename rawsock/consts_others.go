//go:build !linux

package rawsock

import "golang.org/x/sys/unix"

// The portable subset of the constants; Linux has the full set in
// zconsts_linux.go.
const (
	AF_UNSPEC      = unix.AF_UNSPEC
	AF_INET        = unix.AF_INET
	AF_INET6       = unix.AF_INET6
	AF_UNIX        = unix.AF_UNIX
	SOCK_STREAM    = unix.SOCK_STREAM
	SOCK_DGRAM     = unix.SOCK_DGRAM
	SOCK_RAW       = unix.SOCK_RAW
	SOCK_RDM       = unix.SOCK_RDM
	SOCK_SEQPACKET = unix.SOCK_SEQPACKET
	IPPROTO_IP     = unix.IPPROTO_IP
	IPPROTO_ICMP   = unix.IPPROTO_ICMP
	IPPROTO_TCP    = unix.IPPROTO_TCP
	IPPROTO_UDP    = unix.IPPROTO_UDP
	IPPROTO_IPV6   = unix.IPPROTO_IPV6
	IPPROTO_ICMPV6 = unix.IPPROTO_ICMPV6
	IPPROTO_RAW    = unix.IPPROTO_RAW
	SOL_SOCKET     = unix.SOL_SOCKET
	SO_REUSEADDR   = unix.SO_REUSEADDR
	SO_REUSEPORT   = unix.SO_REUSEPORT
	SO_KEEPALIVE   = unix.SO_KEEPALIVE
	SO_BROADCAST   = unix.SO_BROADCAST
	SO_RCVBUF      = unix.SO_RCVBUF
	SO_SNDBUF      = unix.SO_SNDBUF
	SO_ERROR       = unix.SO_ERROR
	SO_TYPE        = unix.SO_TYPE
	SO_LINGER      = unix.SO_LINGER
	IP_TTL         = unix.IP_TTL
	IP_TOS         = unix.IP_TOS
	IP_HDRINCL     = unix.IP_HDRINCL
	IPV6_V6ONLY    = unix.IPV6_V6ONLY
	MSG_OOB        = unix.MSG_OOB
	MSG_PEEK       = unix.MSG_PEEK
	MSG_WAITALL    = unix.MSG_WAITALL
	MSG_DONTWAIT   = unix.MSG_DONTWAIT
	MSG_TRUNC      = unix.MSG_TRUNC
	// MSG_WAITFORONE is Linux's value, so that portable code passing it
	// to Recvmmsg (not implemented here) builds.
	MSG_WAITFORONE = 0x10000
	SHUT_RD        = unix.SHUT_RD
	SHUT_WR        = unix.SHUT_WR
	SHUT_RDWR      = unix.SHUT_RDWR
	TCP_NODELAY    = unix.TCP_NODELAY
)

const (
	afInet       = unix.AF_INET
	afInet6      = unix.AF_INET6
	afUnix       = unix.AF_UNIX
	afPacket     = -1
	sockStream   = unix.SOCK_STREAM
	sockDgram    = unix.SOCK_DGRAM
	sockRaw      = unix.SOCK_RAW
	sockSeqpkt   = unix.SOCK_SEQPACKET
	sockCloexec  = 0
	sockNonblock = 0
	solSocket    = unix.SOL_SOCKET
	solIP        = unix.IPPROTO_IP
	solIPv6      = unix.IPPROTO_IPV6
	solTCP       = unix.IPPROTO_TCP
	solUDP       = unix.IPPROTO_UDP
	solPacket    = -1
)

var (
	afNames       = []constName{{unix.AF_INET, "AF_INET"}, {unix.AF_INET6, "AF_INET6"}, {unix.AF_UNIX, "AF_UNIX"}}
	sockTypeNames = []constName{{unix.SOCK_STREAM, "SOCK_STREAM"}, {unix.SOCK_DGRAM, "SOCK_DGRAM"}, {unix.SOCK_RAW, "SOCK_RAW"}, {unix.SOCK_SEQPACKET, "SOCK_SEQPACKET"}}
	ipprotoNames  = []constName{{unix.IPPROTO_IP, "IPPROTO_IP"}, {unix.IPPROTO_TCP, "IPPROTO_TCP"}, {unix.IPPROTO_UDP, "IPPROTO_UDP"}, {unix.IPPROTO_ICMP, "IPPROTO_ICMP"}}
	solNames      []constName
	soNames       []constName
	ipNames       []constName
	ipv6Names     []constName
	tcpNames      []constName
	udpNames      []constName
	packetNames   []constName
	ethPNames     []constName
	shutNames     = []constName{{unix.SHUT_RD, "SHUT_RD"}, {unix.SHUT_WR, "SHUT_WR"}, {unix.SHUT_RDWR, "SHUT_RDWR"}}
	msgNames      = []constName{{unix.MSG_OOB, "MSG_OOB"}, {unix.MSG_PEEK, "MSG_PEEK"}, {unix.MSG_WAITALL, "MSG_WAITALL"}, {unix.MSG_DONTWAIT, "MSG_DONTWAIT"}, {unix.MSG_TRUNC, "MSG_TRUNC"}}
)
