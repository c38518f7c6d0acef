package traceroute

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// reply is what a transport's reader makes of one answer.
type reply struct {
	seq        int // the probe's Seq
	from       netip.Addr
	at         time.Time // when it arrived (the kernel's stamp where there is one)
	kind       Kind
	typ, code  uint8
	ttl        int
	annotation string
	final      bool
	mtu        int   // the MTU a "fragmentation needed" or "packet too big" reports
	err        error // the reader failed for good: the trace ends with it
}

// transport is one method's sockets: it sends probe seq with a TTL, and its
// readers deliver answers to the channel start was given until close.
type transport interface {
	send(seq, ttl, size int) error // size: the probe's length, IP header included
	start(out chan<- reply)
	close() error
	socket() string
}

// expirer is a transport that wants to know when a probe is given up
// (UDPPort closes the probe's socket).
type expirer interface{ expired(seq int) }

// Tracer runs one trace. New opens its sockets (in the calling thread's
// network namespace), Run sends the probes and collects the answers, Close
// releases everything.
type Tracer struct {
	cfg Config
	src netip.Addr
	tr  transport
	mtu int // the local link's MTU, for a probe the kernel refuses as too big
	ran bool
}

// New checks cfg, fills in its defaults, and opens the sockets of its
// method. It fails, with a one-line error naming the syscall and the cause,
// where the sockets may not be opened: the UDP method needs no privilege,
// the TCP method and a raw ICMP socket need CAP_NET_RAW (the error then
// says how to get it). A Config it cannot use gives an error matching
// ErrConfig.
func New(cfg Config) (*Tracer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// The transport gets the zone as an index, looked up here, in the
	// namespace of the sockets; Config keeps its name, as traceroute
	// prints it.
	tcfg := cfg
	z := cfg.Dst.Zone()
	if z == "" && cfg.Device != "" && cfg.Dst.Is6() && (cfg.Dst.IsLinkLocalUnicast() || cfg.Dst.IsLinkLocalMulticast()) {
		z = cfg.Device // the device says which link, as a zone would
	}
	if z != "" {
		ifi, err := zoneInterface(z)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", cfg.Dst, err)
		}
		if cfg.Dst.Zone() != "" {
			cfg.Dst = cfg.Dst.WithZone(ifi.Name)
		}
		tcfg.Dst = cfg.Dst.WithZone(strconv.Itoa(ifi.Index))
	}
	src := cfg.Src
	if !src.IsValid() {
		if src, err = sourceVia(tcfg.Dst, cfg.Device); err != nil {
			return nil, err
		}
	}
	tr, err := newTransport(&tcfg, src)
	if err != nil {
		return nil, err
	}
	t := &Tracer{cfg: cfg, src: src, tr: tr}
	if cfg.DontFragment {
		t.mtu = LinkMTU(cfg.Device, src)
	}
	return t, nil
}

// zoneInterface returns the interface an IPv6 zone names, by name or by
// index (fe80::1%eth0, fe80::1%2).
func zoneInterface(z string) (*net.Interface, error) {
	var ifi *net.Interface
	var err error
	if n, aerr := strconv.Atoi(z); aerr == nil {
		ifi, err = net.InterfaceByIndex(n)
	} else {
		ifi, err = net.InterfaceByName(z)
	}
	if oe := (*net.OpError)(nil); errors.As(err, &oe) {
		err = oe.Err // "no such network interface", without "route ip+net"
	}
	if err != nil {
		return nil, fmt.Errorf("zone %s: %w", z, err)
	}
	return ifi, nil
}

// Config returns the configuration in use, defaults filled in.
func (t *Tracer) Config() Config { return t.cfg }

// Source returns the address the probes leave from.
func (t *Tracer) Source() netip.Addr { return t.src }

// PacketLen returns the length of each probe, IP header included: what
// traceroute's first line calls "byte packets".
func (t *Tracer) PacketLen() int { return t.cfg.PacketLen }

// Socket describes the sockets in use, for example "SOCK_DGRAM
// IPPROTO_UDP, errors by IP_RECVERR".
func (t *Tracer) Socket() string { return t.tr.socket() }

// Close closes the sockets; it stops the readers and waits for them.
func (t *Tracer) Close() error { return t.tr.close() }

// Run sends the probes and collects the answers, calling onHop (if not
// nil) with each hop as soon as all its probes are answered or timed out,
// in TTL order, from the engine's goroutine. It stops after the hop in which
// a probe's answer was final (the destination answered, or an unreachable),
// after MaxTTL, or when ctx ends, and returns the hops so far: on a ctx
// error they come with ctx.Err().
//
// Probes are sent in order, up to SimProbes at once, across hops as
// traceroute does, and none past the hop where a final answer came from.
// Each waits Wait from its own sending. A Tracer runs once.
func (t *Tracer) Run(ctx context.Context, onHop func(*Hop)) (*Result, error) {
	if t.ran {
		return nil, errors.New("traceroute: a Tracer runs once")
	}
	t.ran = true
	replies := make(chan reply, 64)
	t.tr.start(replies)
	e := newEngine(t.cfg)
	e.linkMTU = t.mtu
	if x, ok := t.tr.(expirer); ok {
		e.onExpire = x.expired
	}
	if e.zone = t.cfg.Dst.Zone(); e.zone == "" {
		e.zone = t.cfg.Device
	}
	return e.run(ctx, t.tr, replies, onHop)
}

// engine is Run's state: every probe of the trace, and which are in flight.
type engine struct {
	cfg      Config
	res      Result
	probes   []Probe
	done     []bool
	next     int // the next probe to send
	head     int // the first probe not done: the only one expire ends
	inflight int
	emitted  int // hops handed to onHop
	finalHop int // the first hop with a final answer, or -1
	lastSend time.Time
	plen     int           // the probes' length now: DiscoverMTU lowers it
	linkMTU  int           // the local link's MTU, when a probe is too big for it
	zone     string        // the link of link-local answers: the destination's zone, or Device
	lag      time.Duration // the longest hand-over seen: from an answer's arrival to the engine
	onExpire func(seq int) // the transport's expirer, if it is one
}

func newEngine(cfg Config) *engine {
	n := cfg.probes()
	e := &engine{cfg: cfg, res: Result{Dst: cfg.Dst}, probes: make([]Probe, n), done: make([]bool, n), finalHop: -1, plen: cfg.PacketLen}
	for i := range e.probes {
		e.probes[i].TTL = cfg.FirstTTL + i/cfg.Queries
		e.probes[i].Seq = i
	}
	return e
}

func (e *engine) hops() int { return len(e.probes) / e.cfg.Queries }

func (e *engine) run(ctx context.Context, tr transport, replies <-chan reply, onHop func(*Hop)) (*Result, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		sendAt, err := e.sendMore(tr, time.Now())
		if err != nil {
			return &e.res, err
		}
		if e.emit(onHop) {
			return &e.res, nil
		}
		timer.Reset(time.Until(e.nextDeadline(sendAt)))
		select {
		case r := <-replies:
			if r.err != nil {
				return &e.res, r.err
			}
			e.answer(&r)
		case now := <-timer.C:
			// Answers that came while onHop ran (a slow name lookup)
			// are taken first, as traceroute reads what its poll(2)
			// returns before it expires a probe.
			for drained := false; !drained; {
				select {
				case r := <-replies:
					if r.err != nil {
						return &e.res, r.err
					}
					e.answer(&r)
				default:
					drained = true
				}
			}
			e.expire(now)
		case <-ctx.Done():
			return &e.res, ctx.Err()
		}
	}
}

// sendMore sends probes in order while fewer than SimProbes are in flight,
// none past the first hop with a final answer, and none sooner than
// SendInterval after the last. It returns when the next may leave if the
// interval held it back, else the zero Time.
func (e *engine) sendMore(tr transport, now time.Time) (time.Time, error) {
	q := e.cfg.Queries
	for e.inflight < e.cfg.SimProbes && e.next < len(e.probes) && (e.finalHop < 0 || e.next/q <= e.finalHop) {
		if e.cfg.SendInterval > 0 && !e.lastSend.IsZero() {
			if at := e.lastSend.Add(e.cfg.SendInterval); at.After(now) {
				return at, nil
			}
		}
		p := &e.probes[e.next]
		p.Sent = time.Now()
		err := tr.send(p.Seq, p.TTL, e.plen)
		if err != nil && !errors.Is(err, errTooBig) {
			return time.Time{}, err
		}
		e.lastSend = p.Sent
		now = p.Sent
		e.next++
		e.inflight++
		if err != nil {
			// As traceroute: the probe is answered, by no one, with
			// the local link's MTU; DiscoverMTU sends it again at
			// that length.
			e.answer(&reply{seq: p.Seq, at: time.Now(), kind: Unreachable, final: true,
				mtu: e.linkMTU, annotation: "!F-" + strconv.Itoa(e.linkMTU)})
		}
	}
	return time.Time{}, nil
}

// emit hands every complete hop, in order, to onHop; it reports whether
// the trace is over.
func (e *engine) emit(onHop func(*Hop)) bool {
	q := e.cfg.Queries
	for e.emitted < e.hops() {
		lo := e.emitted * q
		for i := lo; i < lo+q; i++ {
			if !e.done[i] {
				return false
			}
		}
		e.res.Hops = append(e.res.Hops, Hop{TTL: e.probes[lo].TTL, Probes: e.probes[lo : lo+q : lo+q]})
		h := &e.res.Hops[len(e.res.Hops)-1]
		e.emitted++
		if onHop != nil {
			onHop(h)
		}
		if h.Final() {
			return true
		}
	}
	return true
}

// nextDeadline is when the engine must look again: when the first probe
// not done times out, or sendAt, whichever comes first.
func (e *engine) nextDeadline(sendAt time.Time) time.Time {
	e.advance()
	var first time.Time
	if e.head < e.next {
		first = e.probes[e.head].Sent.Add(e.timeout(e.head) + e.grace())
	}
	if !sendAt.IsZero() && (first.IsZero() || sendAt.Before(first)) {
		first = sendAt
	}
	if first.IsZero() { // nothing in flight: cannot happen while the trace runs
		return time.Now().Add(e.cfg.Wait)
	}
	return first
}

// answer records r for its probe, unless the probe was not sent yet, is
// answered already (a duplicate) or timed out, or the answer arrived late:
// after Wait, or, for the first probe not done, after its deadline (it
// waits only for the grace to pass).
func (e *engine) answer(r *reply) {
	if !r.at.IsZero() {
		e.lag = max(e.lag, time.Since(r.at))
	}
	if r.seq < 0 || r.seq >= e.next || e.done[r.seq] {
		return
	}
	p := &e.probes[r.seq]
	if e.advance(); !r.at.IsZero() && e.cfg.Wait > 0 {
		limit := e.cfg.Wait
		if r.seq == e.head {
			limit = e.timeout(r.seq)
		}
		if r.at.Sub(p.Sent) > limit {
			return // expire will end its wait
		}
	}
	if e.resize(r) {
		return
	}
	if e.zone != "" && r.from.Is6() && r.from.IsLinkLocalUnicast() {
		// As traceroute prints them: fe80::1%eth0.
		r.from = r.from.WithZone(e.zone)
	}
	p.Kind, p.From, p.ICMPType, p.ICMPCode, p.ReplyTTL = r.kind, r.from, r.typ, r.code, r.ttl
	p.Annotation, p.Final = r.annotation, r.final
	if p.RTT = r.at.Sub(p.Sent); r.at.IsZero() || p.RTT < 0 {
		// No kernel stamp, or a wall clock that stepped back.
		p.RTT = time.Since(p.Sent)
	}
	e.done[r.seq] = true
	e.inflight--
	if hop := r.seq / e.cfg.Queries; p.Final && (e.finalHop < 0 || hop < e.finalHop) {
		e.finalHop = hop
	}
}
