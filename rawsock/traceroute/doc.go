// Package traceroute is the classic traceroute as a library, the engine
// under the rawsock traceroute command: it sends probes with TTL 1, 2, 3,
// ... toward a destination, collects who answers each (a router's ICMP
// time exceeded, the destination's own answer, or an unreachable), and
// returns the hops as data. A Printer writes them exactly as the Linux
// traceroute does.
//
//	tr, err := traceroute.New(traceroute.Config{Dst: netip.MustParseAddr("192.0.2.7")})
//	defer tr.Close()
//	res, err := tr.Run(ctx, func(h *traceroute.Hop) { printer.Hop(h) })
//
// # Methods
//
// UDP (the default) sends UDP datagrams to port 33434 and up, one port
// per probe; the destination answers ICMP port unreachable. ICMP
// (traceroute -I) sends echo requests; the destination answers echo reply.
// TCP (traceroute -T) sends SYNs to port 80 (or Config.Port); the
// destination answers SYN-ACK if the port is open, RST if it is closed.
// UDPPort (traceroute -U) sends UDP datagrams all to port 53 (or
// Config.Port), each from a socket of its own, which names the probe.
// Routers on the way answer ICMP time exceeded to all three. A destination
// unreachable other than "port" ends the trace with traceroute's mark:
// !H host, !N network, !P protocol, !X administratively prohibited, !F
// fragmentation needed, !S source route failed, !V precedence violation,
// !C precedence cutoff, !<code> any other.
//
// # Sockets and privileges
//
// UDP probes leave one unprivileged UDP socket with IP_RECVERR set, and
// the ICMP errors come back on its error queue (ip(7)), as with the Linux
// traceroute's default method: no privilege is needed, and the kernel
// matches each error to the socket by the datagram it quotes. The quoted
// destination port names the probe, and SO_EE_OFFENDER the router.
//
// ICMP probes use the unprivileged ICMP datagram socket where
// net.ipv4.ping_group_range admits the process's group (echo replies come
// as data, errors on the error queue; the kernel sets the echo identifier
// to the socket's port), else a raw ICMP socket, which needs CAP_NET_RAW.
// TCP probes need CAP_NET_RAW: SYNs are built here and sent on a raw TCP
// socket, and a raw ICMP socket receives the errors. A raw socket sees
// every ICMP (or TCP) packet the host receives; each is matched to a probe
// by the datagram it quotes (packet.Quoted: the echo identifier and
// sequence number, or the TCP ports and sequence number) or, for a SYN-ACK
// or RST, by the ports and the acknowledgment number, and dropped
// otherwise, so traces running at once each see only their own answers.
//
// # Timing
//
// Probes go out in order, up to Config.SimProbes (16) at once, across
// hops, as the Linux traceroute sends them, no two closer than
// Config.SendInterval (-z); none is sent past the hop where a final answer
// came from. The wait is traceroute 2.1's -w MAX,HERE,NEAR: when every
// probe before it is done, a probe waits HERE (3) times the round trip of
// the first answer from its own hop, else NEAR (10) times that of the
// first answer to a probe sent after it, each plus a millisecond, else MAX
// (5 s), and never more than MAX, counted from its own sending. So past a
// silent hop the trace goes on as soon as the later hops have answered,
// instead of waiting MAX. traceroute reads its sockets before it gives a
// probe up; here readers hand answers over from goroutines, so the engine
// waits a grace past the deadline (twice the longest hand-over seen, at
// least 10 ms) and counts an answer by its arrival: in time if the kernel
// stamped it before the deadline. The round-trip time runs from just before
// sendmsg(2) to the kernel's receive timestamp of the answer
// (SO_TIMESTAMPNS), so a busy reader does not lengthen it.
//
// # MTU
//
// Config.DontFragment (traceroute -F) sends with IP_PMTUDISC_PROBE: DF
// set, never fragmented here, at the local link's MTU whatever path MTU
// the kernel has learned, so a link too small answers "fragmentation
// needed" (!F-<mtu>), and a probe too big for the local link is refused
// by the kernel and answered by no one (traceroute's "*  0.012 ms
// !F-1500"). Config.DiscoverMTU (--mtu) starts at 65000 bytes and sends a
// probe again at each MTU reported, marking it (F=<mtu>).
//
// IPv6 link-local destinations take their zone (fe80::1%eth0) or
// Config.Device; answers from link-local addresses carry that zone.
//
// Read traceroute(8), ip(7) (IP_RECVERR, IP_TTL), ipv6(7), raw(7), icmp(7),
// RFC 792, RFC 1812 and RFC 4443.
package traceroute
