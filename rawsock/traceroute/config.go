package traceroute

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Method is how probes are sent.
type Method int

const (
	// UDP sends UDP datagrams to closed ports, 33434 and up, one port per
	// probe (traceroute's default). The destination answers ICMP port
	// unreachable.
	UDP Method = iota
	// ICMP sends ICMP echo requests (traceroute -I). The destination
	// answers echo reply.
	ICMP
	// TCP sends TCP SYNs to one port, 80 by default (traceroute -T). The
	// destination answers SYN-ACK when the port is open, RST when closed.
	TCP
	// UDPPort sends UDP datagrams all to one port, 53 by default
	// (traceroute -U): each probe leaves its own socket, whose port names
	// it, as traceroute's "udp" method does. No privilege is needed.
	UDPPort
)

func (m Method) String() string {
	switch m {
	case UDP:
		return "udp"
	case ICMP:
		return "icmp"
	case TCP:
		return "tcp"
	case UDPPort:
		return "udp-port"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// SocketKind picks the socket of the ICMP method.
type SocketKind int

const (
	// SocketAuto tries the unprivileged ICMP datagram socket, then the raw
	// one, as ping does.
	SocketAuto SocketKind = iota
	// SocketDgram is socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): no
	// privilege, only net.ipv4.ping_group_range.
	SocketDgram
	// SocketRaw is socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): CAP_NET_RAW.
	SocketRaw
)

// Defaults, as the classic Linux traceroute has them.
const (
	DefaultMaxTTL    = 30
	DefaultQueries   = 3
	DefaultWait      = 5 * time.Second
	DefaultHere      = 3.0   // traceroute -w's HERE factor
	DefaultNear      = 10.0  // traceroute -w's NEAR factor
	DefaultSimProbes = 16    // probes in flight at once (traceroute -N)
	DefaultUDPPort   = 33434 // the first destination port of UDP probes
	DefaultTCPPort   = 80
	// DefaultUDPPortPort is the one destination port of UDPPort probes,
	// as traceroute -U (DNS).
	DefaultUDPPortPort = 53
	DefaultICMPSeq     = 1 // the first echo sequence number of ICMP probes

	// DefaultPacketLen4 and DefaultPacketLen6 are the probes' length,
	// IP header included, unless Config.PacketLen says otherwise.
	DefaultPacketLen4 = 60
	DefaultPacketLen6 = 80

	// MaxTTL is the largest TTL an IP header holds.
	MaxTTL = 255
	// MaxPacketLen is the longest probe, as in traceroute.
	MaxPacketLen = 65000
	// MaxQueries bounds the probes per hop, as traceroute does.
	MaxQueries = 10
	// DiscoverPacketLen is the first probe length of Config.DiscoverMTU
	// when PacketLen is not set: traceroute --mtu's 65000.
	DiscoverPacketLen = MaxPacketLen
)

// NoWait, as Config.Wait, waits for no answer at all (traceroute -w 0):
// a probe counts what has arrived when the engine looks, which on a fast
// path is the answer. Off, as Config.Here or Config.Near, turns that factor
// off (traceroute's 0).
const (
	NoWait time.Duration = -1
	Off    float64       = -1
)

// ErrConfig is matched (errors.Is) by every error New returns for a
// Config it cannot use.
var ErrConfig = errors.New("traceroute: bad configuration")

// Config says where to trace and how. Zero values take the defaults.
type Config struct {
	Dst    netip.Addr // the destination (required); IPv4 or IPv6 picks the family; an IPv6 zone (name or index) picks the link
	Src    netip.Addr // the source address; zero: the route's
	Method Method

	// Port is, for UDP, the first destination port (default 33434),
	// incremented by each probe; for TCP and UDPPort the destination port
	// (default 80, 53);
	// for ICMP the first echo sequence number (default 1), incremented by
	// each probe. As traceroute -p.
	Port int

	FirstTTL  int // the first TTL probed (traceroute -f); default 1
	MaxTTL    int // the last (traceroute -m); default 30
	Queries   int // probes per hop (traceroute -q); default 3
	SimProbes int // probes in flight at once (traceroute -N); default 16

	// Wait, Here and Near are traceroute's -w MAX,HERE,NEAR: a probe waits
	// Here times the round trip of an answer already come from its own
	// hop, else Near times that of an answer from a later hop, else Wait,
	// and never more than Wait (see the package doc, Timing). Zero takes
	// the defaults, 5 s, 3 and 10; NoWait and Off set them to 0, which for
	// a factor skips its rule. traceroute -w with MAX alone sets both
	// factors to 0.
	Wait       time.Duration
	Here, Near float64

	// SendInterval is the least time between two probes (traceroute -z);
	// default 0.
	SendInterval time.Duration

	// Device binds the sockets to a network interface (SO_BINDTODEVICE,
	// traceroute -i): probes leave through it whatever the routes say.
	Device string

	// DontFragment sends probes with the DF bit (IPv4) and never
	// fragmented by this host (traceroute -F): a probe too big for a link
	// gets a "fragmentation needed" (!F-<mtu>) instead.
	DontFragment bool

	// DiscoverMTU finds the MTU along the path (traceroute --mtu): it
	// implies DontFragment and one probe in flight, and each time a link
	// is too small the probe is sent again at the MTU it reported, which
	// Probe.MTU records (traceroute's F=<mtu>). PacketLen then defaults to
	// DiscoverPacketLen. TCP probes keep their one length.
	DiscoverMTU bool

	// PacketLen is the probes' length, IP header included: default 60 for
	// IPv4, 80 for IPv6, as traceroute, which also raises a length below
	// the headers to them. TCP probes are SYNs as Linux sends them (a
	// 20-byte header and 20 bytes of options) and keep this one length
	// whatever PacketLen says.
	PacketLen int

	// Socket picks the ICMP method's socket; the other methods ignore it.
	Socket SocketKind
}

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if !c.Dst.IsValid() {
		return bad("no destination address")
	}
	c.Dst = c.Dst.Unmap()
	v6 := c.Dst.Is6()
	if c.Src.IsValid() {
		c.Src = c.Src.Unmap()
		if c.Src.Is6() != v6 {
			return bad("source %s and destination %s are of different families", c.Src, c.Dst)
		}
	}
	if c.Method < UDP || c.Method > UDPPort {
		return bad("unknown method %d", int(c.Method))
	}
	if c.Socket < SocketAuto || c.Socket > SocketRaw {
		return bad("unknown socket kind %d", int(c.Socket))
	}
	if c.FirstTTL == 0 {
		c.FirstTTL = 1
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = DefaultMaxTTL
	}
	if c.MaxTTL < 1 || c.MaxTTL > MaxTTL {
		return bad("max hops %d: want 1 to %d", c.MaxTTL, MaxTTL)
	}
	if c.FirstTTL < 1 || c.FirstTTL > c.MaxTTL {
		return bad("first hop %d: want 1 to the max hops, %d", c.FirstTTL, c.MaxTTL)
	}
	if c.Queries == 0 {
		c.Queries = DefaultQueries
	}
	if c.Queries < 1 || c.Queries > MaxQueries {
		return bad("%d probes per hop: want 1 to %d", c.Queries, MaxQueries)
	}
	switch {
	case c.Wait == 0:
		c.Wait = DefaultWait
	case c.Wait == NoWait:
		c.Wait = 0
	case c.Wait < 0:
		return bad("wait %v: want a positive time, or NoWait", c.Wait)
	}
	for _, f := range []struct {
		v    *float64
		dflt float64
		name string
	}{{&c.Here, DefaultHere, "here"}, {&c.Near, DefaultNear, "near"}} {
		switch {
		case *f.v == 0:
			*f.v = f.dflt
		case *f.v == Off:
			*f.v = 0
		case *f.v < 0:
			return bad("%s factor %g: want a positive number, or Off", f.name, *f.v)
		}
	}
	if c.SendInterval < 0 {
		return bad("send interval %v: want 0 or more", c.SendInterval)
	}
	if c.DiscoverMTU {
		c.DontFragment, c.SimProbes = true, 1
		if c.PacketLen == 0 && c.Method != TCP {
			c.PacketLen = DiscoverPacketLen
		}
	}
	if c.SimProbes == 0 {
		c.SimProbes = DefaultSimProbes
	}
	if c.SimProbes < 1 {
		return bad("%d simultaneous probes: want at least 1", c.SimProbes)
	}
	probes := (c.MaxTTL - c.FirstTTL + 1) * c.Queries
	switch c.Method {
	case UDP:
		if c.Port == 0 {
			c.Port = DefaultUDPPort
		}
		if c.Port < 1 || c.Port+probes-1 > 0xffff {
			return bad("port %d: the %d probes use ports up to %d, past 65535", c.Port, probes, c.Port+probes-1)
		}
	case TCP, UDPPort:
		if c.Port == 0 {
			c.Port = DefaultTCPPort
			if c.Method == UDPPort {
				c.Port = DefaultUDPPortPort
			}
		}
		if c.Port < 1 || c.Port > 0xffff {
			return bad("port %d: want 1 to 65535", c.Port)
		}
	case ICMP:
		if c.Port == 0 {
			c.Port = DefaultICMPSeq
		}
		if c.Port < 0 || c.Port > 0xffff {
			return bad("first sequence number %d: want 0 to 65535", c.Port)
		}
	}
	hdr, dflt := headerLen(c.Method, v6), DefaultPacketLen4
	if v6 {
		dflt = DefaultPacketLen6
	}
	if c.PacketLen == 0 {
		c.PacketLen = dflt
	}
	// As traceroute: a length below the headers is raised to them, and
	// TCP probes keep theirs whatever is asked.
	switch {
	case c.PacketLen < 0 || c.PacketLen > MaxPacketLen:
		return bad("packet length %d: want at most %d", c.PacketLen, MaxPacketLen)
	case c.Method == TCP:
		c.PacketLen = dflt
	case c.PacketLen < hdr:
		c.PacketLen = hdr
	}
	return c, nil
}

// headerLen is the IP and transport header length of a probe: what
// PacketLen must at least be.
func headerLen(m Method, v6 bool) int {
	ip := 20
	if v6 {
		ip = 40
	}
	if m == TCP {
		return ip + tcpSynLen
	}
	return ip + 8 // UDP and ICMP headers are 8 bytes
}

// tcpSynLen is the TCP header of a probe: 20 bytes and the 20 bytes of
// options Linux puts on a SYN (MSS, SACK permitted, timestamps, NOP, window
// scale), so that a firewall sees an ordinary connection attempt.
const tcpSynLen = 40

// probes returns how many probes the trace sends at most.
func (c Config) probes() int { return (c.MaxTTL - c.FirstTTL + 1) * c.Queries }
