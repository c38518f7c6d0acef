// Package tour is "rawsock tour": the socket matrix of this kernel, what
// this process may do and why, then traced loopback exchanges (TCP, UDP,
// AF_UNIX SOCK_SEQPACKET, SCM_RIGHTS) and, with CAP_NET_RAW, raw ones (ICMP
// echo, an IP_HDRINCL datagram, the TCP exchange on the wire). Run prints
// it; cmd/rawsock's tour.go only parses the command line and calls Run.
//
// It sits at the module root, not under rawsock/internal, so that
// cmd/rawsock may import it: Go's internal rule keeps rawsock/internal/ to
// the packages under rawsock/.
//
// Linux only. Read socket(2), raw(7), packet(7), unix(7) and icmp(7).
package tour
