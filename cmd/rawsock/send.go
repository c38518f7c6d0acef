package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
	"github.com/rawsock/rawsock/rawsock/traceroute"
)

func init() {
	register("send", "one hand-built IPv4 packet on a raw socket with IP_HDRINCL, dumped field by field", runSend)
}

const sendUsage = `usage: rawsock send --dst ADDR [flags]

Builds one IPv4 packet from the flags, the IP header included, prints its
annotated dump (every field with its offset, bytes and value), and sends it
on socket(AF_INET, SOCK_RAW, IPPROTO_RAW) with IP_HDRINCL set: the kernel
sends the header as written (raw(7)), except for the fields it fills in:

  header checksum   always (computed here too, so the dump shows a value)
  total length      always, from the length given to sendto(2)
  identification    when 0 (--id 0, the default)
  source address    when 0.0.0.0 (--src 0.0.0.0)

It never touches the UDP or TCP checksum, whose pseudo-header holds the
source address: so by default --src is the address the route to --dst
leaves from, and the checksums are right. With --src 0.0.0.0 UDP goes
without a checksum (0, which IPv4 allows) and TCP is refused. The kernel
routes by the sendto(2) address (--dst) and does not fragment: a packet
over the route's MTU fails with EMSGSIZE.

ICMP (--proto icmp): the 4 header bytes after the checksum follow the
type (RFC 792, RFC 1191, RFC 4884):

  echo 0/8, timestamp 13/14,
  information 15/16, mask 17/18   identifier, sequence (--icmp-id, --icmp-seq)
  destination unreachable 3       unused, length (--icmp-length), and for
                                  code 4 the next-hop MTU (--mtu)
  time exceeded 11                unused, length (--icmp-length), unused
  parameter problem 12            pointer (--pointer), length, unused
  redirect 5                      gateway address (--gateway)
  any other type                  zero

A flag for a field the type does not have is refused. A timestamp request
without --payload carries the originate timestamp (milliseconds since
midnight UT) and zero receive and transmit timestamps. The payload of an
error type is the datagram it quotes: give it with --payload-hex.

--show-kernel captures the packet on its way out (the PACKET_OUTGOING copy
AF_PACKET sees on the egress interface) and prints it beside what was
written, field by field, marking what the kernel filled in. --tot-len 0 and
--ip-csum 0 leave those two to the kernel, as a C program would.

Needs CAP_NET_RAW (root, or setcap cap_net_raw+ep on the binary), checked
before anything is printed, as is the packet's size against the MTU of the
route's interface (IP_HDRINCL packets are not fragmented); --dry-run
prints the dump without sending and needs nothing; -q prints no dump.
Once its sockets are open and before the packet leaves, send gives up
root (to SUDO_UID or nobody) and every capability, as ping does.

Exit status: 0 sent; 1 the kernel refused the send (the sendto(2) error
named), or the packet is over the route's MTU; 2 bad flags, or no raw
socket allowed.

Examples:
  sudo rawsock send --dst 127.0.0.1 --proto udp --dport 9999 --payload hello
  sudo rawsock send --dst 127.0.0.1 --proto icmp --ttl 1 --payload-hex 6869
  sudo rawsock send --dst 127.0.0.1 --proto tcp --dport 80 --flags S --df
  sudo rawsock send --dst 127.0.0.1 --src 0.0.0.0 --id 0 --tot-len 0 --ip-csum 0 --show-kernel
  rawsock send --dry-run --dst 192.0.2.1 --src 0.0.0.0 --id 0
  rawsock send --dry-run --dst 192.0.2.1 --proto icmp --icmp-type 3 --icmp-code 4 --mtu 1400

flags:
`

// Defaults of the header fields the flags set.
const (
	sendDefaultTTL    = 64
	sendDefaultSport  = 40000
	sendDefaultDport  = 33434 // traceroute's first port: usually closed, so a UDP probe gets port unreachable
	sendDefaultWindow = 64240
)

// sendSpec is the packet the flags describe.
type sendSpec struct {
	dst, src  netip.Addr // src unspecified: the kernel fills it in
	srcRoute  bool       // src was not given: take the route's
	ttl, tos  uint8
	id        uint16
	df        bool
	proto     uint8
	sport     uint16
	dport     uint16
	flags     packet.TCPFlags
	seq, ack  uint32
	window    uint16
	icmpType  uint8
	icmpCode  uint8
	icmpID    uint16
	icmpSeq   uint16
	icmpLen   uint8      // RFC 4884 length of the quoted datagram, in 32-bit words
	mtu       uint16     // next-hop MTU of a fragmentation needed
	gateway   netip.Addr // of a redirect
	pointer   uint8      // of a parameter problem
	payload   []byte
	dryRun    bool
	quiet     bool
	traceCall bool

	showKernel     bool // capture the outgoing copy and compare (send_kernel.go)
	totLen, ipCsum int  // -1: as computed; else written over it
}

// errHelp is -h: the usage was printed, exit 0.
var errHelp = errors.New("help")

// parseSendArgs reads the flags into a sendSpec; errors are one line
// naming the flag.
func parseSendArgs(args []string, stderr io.Writer) (*sendSpec, error) {
	s := &sendSpec{srcRoute: true}
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by the caller
	fs.Usage = func() {}
	addr := func(name, usage string, p *netip.Addr, set *bool) {
		fs.Func(name, usage, func(v string) error {
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Unmap().Is4() {
				return fmt.Errorf("want an IPv4 address, got %q (rawsock send builds IPv4 only)", v)
			}
			*p = a.Unmap()
			if set != nil {
				*set = false
			}
			return nil
		})
	}
	num := func(name, usage string, bits int, dflt uint64, set func(uint64)) {
		set(dflt)
		fs.Func(name, fmt.Sprintf("%s (default %d)", usage, dflt), func(v string) error {
			n, err := strconv.ParseUint(v, 0, bits)
			if err != nil {
				return fmt.Errorf("want a number from 0 to %d, got %q", uint64(1)<<bits-1, v)
			}
			set(n)
			return nil
		})
	}
	addr("dst", "destination IPv4 address (required); the packet is routed by it", &s.dst, nil)
	addr("src", "source address (default: the one the route to --dst leaves from; 0.0.0.0: the kernel fills it in)", &s.src, &s.srcRoute)
	num("ttl", "time to live", 8, sendDefaultTTL, func(v uint64) { s.ttl = uint8(v) })
	num("id", "identification (0: the kernel picks one)", 16, 0, func(v uint64) { s.id = uint16(v) })
	num("tos", "type of service byte: DSCP<<2 | ECN", 8, 0, func(v uint64) { s.tos = uint8(v) })
	fs.BoolVar(&s.df, "df", false, "set the Don't Fragment flag")
	proto := fs.String("proto", "udp", "udp, icmp or tcp")
	num("sport", "UDP/TCP source port", 16, sendDefaultSport, func(v uint64) { s.sport = uint16(v) })
	num("dport", "UDP/TCP destination port", 16, sendDefaultDport, func(v uint64) { s.dport = uint16(v) })
	flags := fs.String("flags", "S", "TCP flags as letters FSRPAUEC (FIN SYN RST PSH ACK URG ECE CWR), e.g. S, SA, FPU")
	num("seq", "TCP sequence number", 32, 1, func(v uint64) { s.seq = uint32(v) })
	num("ack", "TCP acknowledgment number", 32, 0, func(v uint64) { s.ack = uint32(v) })
	num("window", "TCP window", 16, sendDefaultWindow, func(v uint64) { s.window = uint16(v) })
	num("icmp-type", "ICMP type (8: echo request)", 8, packet.ICMPv4EchoRequest, func(v uint64) { s.icmpType = uint8(v) })
	num("icmp-code", "ICMP code", 8, 0, func(v uint64) { s.icmpCode = uint8(v) })
	num("icmp-id", "ICMP echo identifier", 16, uint64(os.Getpid()&0xffff), func(v uint64) { s.icmpID = uint16(v) })
	num("icmp-seq", "ICMP echo sequence number", 16, 1, func(v uint64) { s.icmpSeq = uint16(v) })
	num("icmp-length", "ICMP error: RFC 4884 length of the quoted datagram, in 32-bit words (0: no extensions)", 8, 0, func(v uint64) { s.icmpLen = uint8(v) })
	num("mtu", "ICMP fragmentation needed (type 3 code 4): next-hop MTU", 16, 0, func(v uint64) { s.mtu = uint16(v) })
	num("pointer", "ICMP parameter problem (type 12): offset of the bad byte", 8, 0, func(v uint64) { s.pointer = uint8(v) })
	addr("gateway", "ICMP redirect (type 5): the gateway address", &s.gateway, nil)
	text := fs.String("payload", "", "payload as text")
	hexText := fs.String("payload-hex", "", "payload as hex digits (spaces and colons allowed): 68 69, 68:69")
	fs.BoolVar(&s.dryRun, "dry-run", false, "print the dump, do not send (no privilege needed)")
	fs.BoolVar(&s.quiet, "q", false, "quiet: print no dump")
	fs.BoolVar(&s.traceCall, "trace", false, "print every syscall on stderr")
	fs.BoolVar(&s.showKernel, "show-kernel", false, "capture the packet on its way out and print what the kernel changed, field by field")
	s.totLen, s.ipCsum = -1, -1
	u16 := func(name, usage string, p *int) {
		fs.Func(name, usage, func(v string) error {
			n, err := strconv.ParseUint(v, 0, 16)
			if err != nil {
				return fmt.Errorf("want a number from 0 to 65535, got %q", v)
			}
			*p = int(n)
			return nil
		})
	}
	u16("tot-len", "IPv4 total length to write (default: the real one; 0 leaves it to the kernel)", &s.totLen)
	u16("ip-csum", "IPv4 header checksum to write (default: the real one; 0 leaves it to the kernel)", &s.ipCsum)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, sendUsage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil, errHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every field is a flag (--dst ADDR ...)", fs.Arg(0))
	}
	if !s.dst.IsValid() {
		return nil, errors.New("--dst is required: the destination IPv4 address")
	}
	switch strings.ToLower(*proto) {
	case "udp":
		s.proto = packet.ProtoUDP
	case "tcp":
		s.proto = packet.ProtoTCP
	case "icmp":
		s.proto = packet.ProtoICMP
	default:
		return nil, fmt.Errorf("--proto %q: want udp, icmp or tcp", *proto)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := s.checkICMPFields(set); err != nil {
		return nil, err
	}
	f, err := packet.ParseTCPFlags(*flags)
	if err != nil {
		return nil, fmt.Errorf("--flags %q: %v", *flags, err)
	}
	s.flags = f
	switch {
	case *text != "" && *hexText != "":
		return nil, errors.New("--payload and --payload-hex: give one of them")
	case *hexText != "":
		clean := strings.NewReplacer(" ", "", ":", "", "\t", "").Replace(*hexText)
		if s.payload, err = hex.DecodeString(clean); err != nil {
			return nil, fmt.Errorf("--payload-hex %q: %v", *hexText, err)
		}
	default:
		s.payload = []byte(*text)
	}
	if s.srcRoute {
		// Before the packet is built: the UDP and TCP checksums cover
		// the source address.
		if s.src, err = traceroute.Source(s.dst); err != nil {
			return nil, fmt.Errorf("--dst %s: %v", s.dst, err)
		}
	}
	return s, nil
}

// icmpFlags are the flags that set an ICMP header field.
var icmpFlags = []struct {
	name  string
	field packet.ICMPField
}{
	{"icmp-id", packet.ICMPFieldID}, {"icmp-seq", packet.ICMPFieldSeq}, {"icmp-length", packet.ICMPFieldLength},
	{"mtu", packet.ICMPFieldMTU}, {"pointer", packet.ICMPFieldPointer}, {"gateway", packet.ICMPFieldGateway},
}

// checkICMPFields refuses a flag for an ICMP header field the type (and
// code) does not have; set holds the flags given.
func (s *sendSpec) checkICMPFields(set map[string]bool) error {
	m := packet.ICMP{Proto: packet.ProtoICMP, Type: s.icmpType, Code: s.icmpCode}
	for _, f := range icmpFlags {
		switch {
		case !set[f.name]:
		case s.proto != packet.ProtoICMP:
			return fmt.Errorf("--%s is an ICMP header field: give --proto icmp", f.name)
		case !m.HasField(f.field):
			return fmt.Errorf("--%s: ICMP type %d code %d has no %s field (see -h for the fields of each type)", f.name, s.icmpType, s.icmpCode, f.field)
		}
	}
	return nil
}

// icmpMessage is the ICMP message the flags describe: the header fields
// its type has, the others zero.
func (s *sendSpec) icmpMessage(now time.Time) (packet.ICMP, error) {
	m := packet.ICMP{Proto: packet.ProtoICMP, Type: s.icmpType, Code: s.icmpCode, Data: s.payload}
	if m.HasField(packet.ICMPFieldID) {
		m.ID, m.Seq = s.icmpID, s.icmpSeq
	}
	if m.HasField(packet.ICMPFieldLength) {
		m.SetLength(s.icmpLen)
	}
	if m.HasField(packet.ICMPFieldMTU) {
		m.SetMTU(uint32(s.mtu))
	}
	if m.HasField(packet.ICMPFieldPointer) {
		m.SetPointer(uint32(s.pointer))
	}
	if m.HasField(packet.ICMPFieldGateway) && s.gateway.IsValid() {
		if err := m.SetGateway(s.gateway); err != nil {
			return m, err
		}
	}
	if len(m.Data) == 0 && s.icmpType == packet.ICMPv4Timestamp {
		// The originate timestamp; receive and transmit are the
		// answerer's (RFC 792).
		m.Data = binary.BigEndian.AppendUint32(make([]byte, 0, 12), packet.ICMPTimestamp(now))[:12]
	}
	return m, nil
}

// build writes the packet: the transport header and payload, then the IPv4
// header in front. packet computes the lengths and checksums.
func (s *sendSpec) build() ([]byte, error) {
	var seg []byte
	var err error
	switch s.proto {
	case packet.ProtoUDP:
		u := packet.UDP{SrcPort: s.sport, DstPort: s.dport}
		seg, err = u.Append(nil, s.src, s.dst, s.payload)
	case packet.ProtoTCP:
		if s.src.IsUnspecified() {
			return nil, errors.New("--proto tcp with --src 0.0.0.0: the TCP checksum covers the source address, which the kernel fills in only after it is computed; give --src")
		}
		t := packet.TCP{SrcPort: s.sport, DstPort: s.dport, Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: s.window}
		seg, err = t.Append(nil, s.src, s.dst, s.payload)
	case packet.ProtoICMP:
		var m packet.ICMP
		if m, err = s.icmpMessage(time.Now()); err == nil {
			seg, err = m.Append(nil, netip.Addr{}, netip.Addr{})
		}
	}
	if err != nil {
		return nil, err
	}
	ip := packet.IPv4{TOS: s.tos, ID: s.id, TTL: s.ttl, Protocol: s.proto, Src: s.src, Dst: s.dst}
	if s.df {
		ip.Flags = packet.DontFragment
	}
	if n := ip.Len() + len(seg); n > 0xffff {
		return nil, fmt.Errorf("packet of %d bytes: an IPv4 total length holds at most 65535", n)
	}
	return ip.Append(nil, seg)
}

// kernelFills says which header fields Linux will overwrite on this packet
// (raw(7), net/ipv4/raw.c raw_send_hdrinc).
func (s *sendSpec) kernelFills() string {
	fields := []string{"header checksum", "total length"}
	if s.id == 0 {
		fields = append(fields, "identification (0)")
	}
	if s.src.IsUnspecified() {
		fields = append(fields, "source address (0.0.0.0)")
	}
	return strings.Join(fields, ", ")
}

func runSend(args []string, stdout, stderr io.Writer) int {
	s, err := parseSendArgs(args, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "rawsock send: %v\n", err)
		return 2
	}
	pkt, err := s.build()
	if err != nil {
		fmt.Fprintf(stderr, "rawsock send: %v\n", err)
		return 2
	}
	s.overrideHeader(pkt)
	// Privilege and size first: nothing is printed for a packet that
	// cannot leave.
	var c *rawsock.Conn
	if !s.dryRun {
		if s.traceCall {
			rawsock.SetTrace(stderr)
			defer rawsock.SetTrace(nil)
		}
		if c, err = openHdrincl(); err != nil {
			fmt.Fprintf(stderr, "rawsock send: %v\n", err)
			return 2
		}
		defer c.Close()
		if err := checkRouteMTU(len(pkt), s.dst); err != nil {
			fmt.Fprintf(stderr, "rawsock send: %v\n", err)
			return 1
		}
	}
	if !s.quiet {
		io.WriteString(stdout, packet.DumpWith(pkt, packet.LayerIPv4, packet.DumpOptions{Sent: true}))
		fmt.Fprintf(stdout, "the kernel fills in: %s\n", s.kernelFills())
	}
	if s.dryRun {
		fmt.Fprintf(stdout, "dry run: %d bytes not sent\n", len(pkt))
		return 0
	}
	var watch *kernelWatch
	if s.showKernel {
		if watch, err = watchOutgoing(s, pkt); err != nil {
			fmt.Fprintf(stderr, "rawsock send: --show-kernel: %v\n", err)
			return 2
		}
		defer watch.h.Close()
	}
	// Every socket is open (the raw one, and the capture's): give up root
	// and capabilities before the packet leaves, as ping does.
	if !dropPrivilegesOrExit("rawsock send: ", stderr) {
		return 2
	}
	// The port of a raw socket's address is not used: 0. sendto(2) on a
	// raw socket sends the whole datagram or fails.
	n, err := c.Sendto(pkt, 0, rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(s.dst, 0)))
	if err != nil {
		fmt.Fprintf(stderr, "rawsock send: %v\n", err)
		var se *os.SyscallError
		if errors.As(err, &se) && se.Syscall == "sendto" {
			return 1
		}
		return 2
	}
	fmt.Fprintf(stdout, "sendto(%d, %d, {AF_INET, %s:0}) = %d\n", c.Fileno(), len(pkt), s.dst, n)
	if watch != nil {
		wire, ifname, err := watch.wait()
		if err == nil {
			err = showKernel(stdout, pkt, wire, ifname)
		}
		if err != nil {
			fmt.Fprintf(stderr, "rawsock send: --show-kernel: %v\n", err)
			return 1
		}
	}
	return 0
}

// openHdrincl opens the send-only raw socket: socket(AF_INET, SOCK_RAW,
// IPPROTO_RAW), where IPPROTO_RAW implies IP_HDRINCL (raw(7)).
func openHdrincl() (*rawsock.Conn, error) {
	c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_RAW)
	if err != nil {
		return nil, err
	}
	// Set it anyway, as a program with another protocol must.
	if err := c.SetsockoptInt(rawsock.IPPROTO_IP, rawsock.IP_HDRINCL, 1); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// checkRouteMTU refuses a packet longer than the MTU of the interface the
// route to dst leaves by: Linux does not fragment IP_HDRINCL packets and
// sendto(2) would fail with EMSGSIZE (raw_send_hdrinc).
func checkRouteMTU(n int, dst netip.Addr) error {
	src, err := traceroute.Source(dst)
	if err != nil {
		return nil // sendto will say why there is no route
	}
	if mtu := traceroute.LinkMTU("", src); mtu > 0 && n > mtu {
		return fmt.Errorf("packet of %d bytes: over the MTU %d of the route to %s, and IP_HDRINCL packets are not fragmented (sendto would fail with EMSGSIZE)", n, mtu, dst)
	}
	return nil
}
