// Package ping is ICMP echo ("ping") as a library, the engine under the
// rawsock ping command: a Pinger opens its socket, sends echo requests on a
// schedule, and reports each reply, each per-packet timeout and each ICMP
// error to a callback as it happens, while keeping the statistics iputils
// ping prints (transmitted, received, duplicates, errors, loss, and
// min/avg/max/mdev of the round-trip time).
//
// # Sockets
//
// New opens, as iputils' create_socket does, the unprivileged ICMP datagram
// socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), icmp(7)) when the
// process's group is inside net.ipv4.ping_group_range, and falls back to a
// raw socket (raw(7), CAP_NET_RAW) when that socket is refused. With
// neither, the error (matching ErrNoSocket) says what to change. IPv6 uses
// the same two sockets with IPPROTO_ICMPV6; the same sysctl governs both.
//
// On a datagram socket Linux writes the socket's local port into the echo
// identifier of every request, delivers only the replies that carry it,
// and reports ICMP errors about our requests on the socket's error queue
// (IP_RECVERR), never as data. New binds the socket, reads the port with
// getsockname(2), and matches on it.
//
// A raw socket sees a copy of every ICMP message the host receives. Two
// kernel filters keep other traffic out, as in iputils: ICMP_FILTER (or
// ICMPV6_FILTER) passes only echo replies and the error types
// (destination unreachable, time exceeded, parameter problem, and for
// ICMPv6 packet too big), and a classic BPF program (SO_ATTACH_FILTER)
// passes echo replies only when they carry this pinger's identifier. So
// several pingers to one host, in one process or many, each count only
// their own replies. A flood attaches the BPF program only when the first
// packet not its own arrives, as iputils does for every ping: alone on a
// host it would run it on every reply for nothing. Errors arrive as data and are matched on the echo
// header they quote (packet.Quoted). The identifier of a raw pinger is
// random unless Config.ID sets it.
//
// # Timing
//
// Each request carries its send time in the first 16 bytes of its data
// (a struct timespec in host byte order, where iputils puts a struct
// timeval), so a reply is timed without any table lookup; the receive time
// is the kernel's (SO_TIMESTAMPNS). Smaller payloads (Config.Size below
// 16) are not timed, as in iputils. The TTL (hop limit) of a reply comes
// from the IPv4 header on a raw IPv4 socket, else from IP_RECVTTL or
// IPV6_RECVHOPLIMIT. With Config.UserLatency the receive time is the
// clock when Run reads the reply (iputils -U).
//
// # The end of a run
//
// After the last request Run waits as iputils does (__schedule_exit):
// twice the longest round trip, at least the interval, once something
// answered, else Config.Timeout (iputils -W); Config.WaitAll waits for
// every request instead. Every request still unanswered when Run ends is
// reported as an EventTimeout then, so each request ends in exactly one
// EventReply, EventError, EventSendError or EventTimeout.
//
// # Output
//
// Printer writes a run's events as iputils ping prints them (the header,
// a line per reply or error, the flood's dots, the statistics and the
// SIGQUIT status line), and JSONPrinter as rawsock ping --json does: one
// JSON object a line. Both take the events Run reports; the rawsock ping
// command is only their flags and wiring.
//
// # Privileges
//
// DropPrivileges is the step iputils takes once the socket is open and
// before the first request: as root it becomes SUDO_UID/SUDO_GID (or
// nobody), and in every case it clears all capabilities. It changes the
// whole process, so a Pinger never does it on its own: the caller asks.
// The socket stays usable: the kernel checks privilege when a socket is
// created, not when it is used. The rawsock commands share the same step
// (internal/privdrop) for ping, traceroute and send.
//
// Read icmp(7), raw(7), ip(7) (IP_RECVERR, IP_RECVTTL), ipv6(7), socket(7)
// (SO_TIMESTAMPNS, SO_ATTACH_FILTER), capabilities(7), and ping(8).
package ping
