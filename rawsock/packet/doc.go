// Package packet builds and parses the headers a raw-socket program reads and
// writes by hand: the Internet checksum, IPv4 and IPv6, ICMP and ICMPv6,
// UDP, TCP, Ethernet II and ARP, and prints any of them as an annotated dump
// (every field with its offset, bytes and value) or a plain hexdump.
//
// It holds bytes only and does no I/O, so every parser can be fuzzed alone;
// the sockets are package rawsock's.
//
// Each header is a struct the caller owns. Parse fills it from untrusted
// bytes and returns the payload, aliasing the input; a truncated packet or a
// length field that lies is an error matching ErrTruncated or ErrMalformed,
// never a panic or a read out of range, and parsing into the same struct
// again does not allocate. Append writes the header (and payload) onto a
// slice, computing the lengths and checksums, so building into a reused
// buffer does not allocate either. Everything is in wire format: big-endian,
// as Linux sends and receives it.
//
// # IP_HDRINCL on Linux
//
// A raw IPv4 socket with IP_HDRINCL set (or opened with IPPROTO_RAW) sends
// the header the program wrote, but Linux rewrites some fields first. raw(7)
// lists them under "IP Header fields modified on sending by IP_HDRINCL", and
// net/ipv4/raw.c (raw_send_hdrinc) does exactly this:
//
//   - Header checksum: always filled in.
//   - Total length: always filled in, from the length passed to sendto(2).
//   - Identification: filled in when zero.
//   - Source address: filled in when zero (0.0.0.0), from the route.
//
// It does so only when the IHL is at least 5. It refuses (EINVAL) a buffer
// under 20 bytes or a header whose IHL runs past the buffer, and does not
// fragment: a packet over the MTU fails with EMSGSIZE (raw(7), BUGS). It never touches
// the UDP or TCP checksum, whose pseudo-header includes the source address:
// a program that leaves the source for the kernel cannot compute them
// (UDP.Append then sends no checksum, which IPv4 allows; TCP.Append refuses).
// IPv6 (IPV6_HDRINCL) fills in nothing. Receiving, a raw IPv4 socket always
// delivers the IP header; a raw ICMPv6 socket and the ICMP datagram ("ping")
// sockets deliver the ICMP message alone. On a ping socket the kernel also
// computes the ICMP checksum and replaces the echo identifier with the
// socket's local port (icmp(7)).
//
// x/net's ipv4.Header is supported through IPv4.ToHeader and
// IPv4.FromHeader; this package does not use its Marshal, which allocates,
// leaves the checksum to the caller and writes TotalLen and FragOff in host
// byte order on some BSDs.
//
// # Standards
//
//   - RFC 791: Internet Protocol (IPv4)
//   - RFC 792: Internet Control Message Protocol (ICMP)
//   - RFC 768: User Datagram Protocol
//   - RFC 793, obsoleted by RFC 9293: Transmission Control Protocol
//   - RFC 8200: Internet Protocol, Version 6 (IPv6)
//   - RFC 4443: ICMPv6
//   - RFC 826: Address Resolution Protocol
//   - RFC 1071: Computing the Internet Checksum
//   - RFC 4884: extended ICMP (the length of the quoted datagram)
//
// ICMP messages can also go through x/net/icmp: ParseMessage and
// MarshalMessage wrap it, and Quoted.Parse reads the Data of its
// TimeExceeded and DstUnreach bodies.
package packet
