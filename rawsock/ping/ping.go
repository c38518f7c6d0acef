package ping

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"
)

// Defaults, as iputils ping has them.
const (
	DefaultSize     = 56               // data bytes after the 8-byte ICMP header
	DefaultInterval = time.Second      // between requests
	DefaultTimeout  = 10 * time.Second // per request (iputils MAXWAIT)
	// FloodGap is the longest a flood waits for a reply before it sends
	// the next request anyway (iputils MININTERVAL): 100 requests a second
	// when nothing answers.
	FloodGap = 10 * time.Millisecond
	// MinUserInterval is the shortest interval iputils lets a user other
	// than root ask for; a flood needs root. The library does not enforce
	// it (a program that opened its socket may do as it likes); the
	// command does.
	MinUserInterval = 2 * time.Millisecond
	// TimestampLen is the room the send time takes at the start of the
	// data: a request with less data is not timed.
	TimestampLen = 16
	// MaxSize is the largest Size toward an IPv4 target: a datagram of
	// 65535 bytes less the 20-byte IP and 8-byte ICMP headers.
	MaxSize = 65535 - 20 - 8
	// MaxSize6 is the largest Size toward an IPv6 target: the 65535-byte
	// payload length less the 8-byte ICMPv6 header (the IPv6 header is not
	// counted in it).
	MaxSize6 = 65535 - 8
	// EmptyPayload as Config.Size sends requests with no data at all.
	EmptyPayload = -1
)

// SocketKind says which socket a Pinger uses.
type SocketKind int

const (
	// SocketAuto tries the datagram socket, then the raw one (iputils).
	SocketAuto SocketKind = iota
	// SocketDgram is socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), or its
	// IPv6 twin: no privilege, only net.ipv4.ping_group_range.
	SocketDgram
	// SocketRaw is socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), or its IPv6
	// twin: CAP_NET_RAW.
	SocketRaw
)

func (k SocketKind) String() string {
	switch k {
	case SocketDgram:
		return "SOCK_DGRAM"
	case SocketRaw:
		return "SOCK_RAW"
	}
	return "auto"
}

// Config says what to ping and how. Its zero values are iputils' defaults.
type Config struct {
	Dst netip.Addr // the target (required); IPv4 or IPv6 picks the family

	// Count stops sending after Count requests (iputils -c); 0 sends until
	// the context ends or Deadline passes. With Deadline set as well,
	// sending goes on until Count replies (or errors) came back, as
	// iputils does with -c and -w together.
	Count int
	// Interval between requests (iputils -i); 0 means DefaultInterval.
	Interval time.Duration
	// Flood sends the next request as soon as the last one is answered, or
	// FloodGap after it if none is (iputils -f, or -i 0). Interval is then
	// not used. On a raw socket Run takes the socket off the runtime poller
	// for a flood and waits as C's ping does (README, "Flood ping against
	// iputils").
	Flood bool
	// Size is the number of data bytes after the ICMP header (iputils -s):
	// 0 means DefaultSize, EmptyPayload none.
	Size int
	// TTL (hop limit) of the requests (iputils -t); 0 keeps the system's.
	TTL int
	// ZeroTTL sets the TTL (hop limit) to 0, as iputils -t 0 asks: IPv6
	// sends with hop limit 0, IPv4 refuses it (IP_TTL takes 1 to 255) and
	// New fails with the kernel's EINVAL.
	ZeroTTL bool
	// Timeout is how long each request may wait for its answer before a
	// Timeout event reports it; 0 means DefaultTimeout. A reply that
	// comes later still counts, flagged Late, as in iputils. It is also
	// iputils' -W: how long the run waits after the last request when
	// nothing has answered yet.
	Timeout time.Duration
	// Deadline bounds the whole run (iputils -w); 0 means none.
	Deadline time.Duration
	// WaitAll makes the run, once the last request is sent, wait until
	// every request is answered or has timed out, so that each one ends in
	// exactly one Reply, Error or Timeout event. Without it the wait is
	// iputils': twice the longest round trip (at least the interval) once
	// something answered, else Timeout.
	WaitAll bool

	Source    netip.Addr // send from this address (iputils -I ADDR): bind(2)
	Interface string     // send out of this interface (iputils -I NAME): SO_BINDTODEVICE
	// ID is the echo identifier (iputils -e): on a datagram socket the
	// local port to bind, on a raw one the identifier itself. 0 lets the
	// kernel pick a port, or picks a random identifier.
	ID int
	// Socket chooses the socket; SocketAuto is iputils' choice.
	Socket SocketKind

	// Pattern fills the data after the timestamp, repeated (iputils -p);
	// nil keeps iputils' fill, byte i being i. A reply whose data differs
	// is flagged (Event.Mismatch).
	Pattern []byte
	// Preload sends this many requests back to back at the start
	// (iputils -l); the schedule then goes on from the start.
	Preload int
	// Adaptive sets the interval, once a reply has come, to the smoothed
	// round-trip time rounded to whole milliseconds (iputils -A), never
	// below MinUserInterval unless the process is root; at 0 the run goes
	// on as a flood.
	Adaptive bool
	// TOS is the IPv4 type of service or the IPv6 traffic class of the
	// requests (iputils -Q): IP_TOS, IPV6_TCLASS. 0 keeps the system's.
	TOS int
	// PMTUDisc is the path MTU discovery of the socket (iputils -M):
	// IP_MTU_DISCOVER or IPV6_MTU_DISCOVER.
	PMTUDisc PMTUDisc
	// Broadcast lets the requests go to a broadcast address (iputils -b):
	// SO_BROADCAST. Without it such a target fails in New with iputils'
	// "Do you want to ping broadcast?".
	Broadcast bool
	// UserLatency times a reply by the clock when Run reads it rather
	// than by the kernel's receive time (iputils -U, user-to-user latency).
	UserLatency bool
}

// PMTUDisc is a path MTU discovery mode (ip(7) IP_MTU_DISCOVER).
type PMTUDisc int

const (
	PMTUDiscDefault PMTUDisc = iota // the system's (net.ipv4.ip_no_pmtu_disc)
	PMTUDiscDont                    // IP_PMTUDISC_DONT: DF clear, fragment locally (iputils -M dont)
	PMTUDiscWant                    // IP_PMTUDISC_WANT: fragment when above the path MTU (-M want)
	PMTUDiscDo                      // IP_PMTUDISC_DO: DF set, never fragment (-M do)
)

// ErrBroadcast matches the error New returns for a broadcast target
// without Config.Broadcast (connect(2) refuses it with EACCES).
var ErrBroadcast = errors.New("Do you want to ping broadcast? Then -b. If not, check your local firewall rules")

// ErrNoSocket matches the error New returns when neither the datagram nor
// the raw ICMP socket may be opened.
var ErrNoSocket = errors.New("no ICMP socket allowed")

// Pinger is one ping session: one socket, one target. Run it once.
type Pinger struct {
	cfg      Config
	size     int // data bytes
	v6       bool
	kind     SocketKind
	id       uint16
	src      netip.Addr // the source address the route picks (or Config.Source)
	mtu      int        // the route's path MTU when New ran
	interval time.Duration
	timeout  time.Duration
	sys      sysConn // the socket and its buffers (socket_linux.go)
	root     bool    // real uid 0 when New ran: no floor under an adaptive interval

	mu        sync.Mutex // guards stats against Statistics
	stats     Statistics
	st        state // the run's own state, touched only by Run's goroutine
	ev        Event // reused for every callback
	pendingEv bool  // ev holds a report not yet delivered
	ran       bool
	noBPF     bool // tests: leave the BPF filter off, to show what it keeps out
	lazyBPF   bool // a raw socket without its BPF filter yet: notOurs attaches it
}

// New checks cfg, opens and sets up the socket (see the package doc), and
// finds the source address the route picks, as iputils does with its
// connect(2) probe; a target the host has no route to fails here ("connect:
// network is unreachable").
func New(cfg Config) (*Pinger, error) {
	p := &Pinger{cfg: cfg, root: os.Getuid() == 0}
	if err := p.check(); err != nil {
		return nil, err
	}
	if err := p.open(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pinger) check() error {
	c := &p.cfg
	if !c.Dst.IsValid() {
		return errors.New("ping: no destination address")
	}
	c.Dst = c.Dst.Unmap()
	p.v6 = c.Dst.Is6()
	if c.Source.IsValid() {
		c.Source = c.Source.Unmap()
		if c.Source.Is6() != p.v6 {
			return errors.New("ping: source address " + c.Source.String() + " is not of the family of " + c.Dst.String())
		}
	}
	switch {
	case c.Size == 0:
		p.size = DefaultSize
	case c.Size == EmptyPayload:
		p.size = 0
	case c.Size < 0 || c.Size > p.maxSize():
		return errors.New("ping: invalid size " + strconv.Itoa(c.Size) + ": out of range: 0 <= value <= " + strconv.Itoa(p.maxSize()))
	default:
		p.size = c.Size
	}
	if c.Count < 0 || c.Interval < 0 || c.Timeout < 0 || c.Deadline < 0 {
		return errors.New("ping: negative count, interval, timeout or deadline")
	}
	if c.ZeroTTL && c.TTL != 0 {
		return errors.New("ping: ZeroTTL with TTL " + strconv.Itoa(c.TTL))
	}
	if c.TTL < 0 || c.TTL > 255 {
		return errors.New("ping: invalid TTL " + strconv.Itoa(c.TTL) + ": out of range: 0 <= value <= 255")
	}
	if c.TOS < 0 || c.TOS > 255 {
		return errors.New("ping: the decimal value of TOS bits must be in range 0-255: " + strconv.Itoa(c.TOS))
	}
	if c.PMTUDisc < PMTUDiscDefault || c.PMTUDisc > PMTUDiscDo {
		return errors.New("ping: invalid path MTU discovery mode " + strconv.Itoa(int(c.PMTUDisc)))
	}
	if c.Preload < 0 || c.Preload > 65536 {
		return errors.New("ping: invalid preload " + strconv.Itoa(c.Preload) + ": out of range: 0 <= value <= 65536")
	}
	if c.ID < 0 || c.ID > 0xffff {
		return errors.New("ping: invalid identifier " + strconv.Itoa(c.ID) + ": out of range: 0 <= value <= 65535")
	}
	p.interval = c.Interval
	if p.interval == 0 {
		p.interval = DefaultInterval
	}
	p.timeout = c.Timeout
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	return nil
}

func (p *Pinger) maxSize() int {
	if p.v6 {
		return MaxSize6
	}
	return MaxSize
}

// SocketKind returns the socket New opened: SocketDgram or SocketRaw.
func (p *Pinger) SocketKind() SocketKind { return p.kind }

// ID returns the echo identifier the requests carry: the local port of a
// datagram socket, or the raw socket's chosen identifier.
func (p *Pinger) ID() uint16 { return p.id }

// Source returns the address the requests leave from.
func (p *Pinger) Source() netip.Addr { return p.src }

// MTU returns the path MTU of the route to the target when New ran (the
// interface's MTU unless the kernel learnt a smaller one), or 0 if the
// kernel did not say.
func (p *Pinger) MTU() int { return p.mtu }

// Dst returns the target.
func (p *Pinger) Dst() netip.Addr { return p.cfg.Dst }

// Size returns the number of data bytes each request carries.
func (p *Pinger) Size() int { return p.size }

// Timed reports whether replies are timed: the data has room for the
// timestamp (Size >= TimestampLen).
func (p *Pinger) Timed() bool { return p.size >= TimestampLen }

// Statistics returns the counts so far; it may be called from any
// goroutine, during Run or after it.
func (p *Pinger) Statistics() Statistics {
	p.mu.Lock()
	s := p.stats
	p.mu.Unlock()
	if total := int64(s.Received + s.Duplicates); total > 0 && s.Timed {
		s.moments(total) // not per reply: the square root would cost a flood
	}
	return s
}

// Close closes the socket. A Run in progress returns.
func (p *Pinger) Close() error { return p.sys.close() }

// Run sends requests and reads replies until Count is done, Deadline
// passes, or ctx ends, calling fn (if not nil) for every event on Run's
// own goroutine as it happens. The *Event is reused: copy it to keep it.
// fn must not block for long: replies wait in the socket meanwhile and
// their receive time is the kernel's, but sending waits for fn.
//
// Run returns the final statistics, with an error only when the socket
// fails (an ICMP error or a failed send is an event, not an error). A
// cancelled ctx is a normal end, as Ctrl-C is for ping.
func (p *Pinger) Run(ctx context.Context, fn func(*Event)) (Statistics, error) {
	if p.ran {
		return p.Statistics(), errors.New("ping: Run called twice on one Pinger")
	}
	p.ran = true
	if fn == nil {
		fn = func(*Event) {}
	}
	err := p.run(ctx, fn)
	return p.Statistics(), err
}
