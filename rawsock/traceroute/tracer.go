package traceroute

import (
	"context"
	"errors"
	"net/netip"
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
	err        error // the reader failed for good: the trace ends with it
}

// transport is one method's sockets: it sends probe seq with a TTL, and its
// readers deliver answers to the channel start was given until close.
type transport interface {
	send(seq, ttl int) error
	start(out chan<- reply)
	close() error
	socket() string
}

// Tracer runs one trace. New opens its sockets (in the calling thread's
// network namespace), Run sends the probes and collects the answers, Close
// releases everything.
type Tracer struct {
	cfg Config
	src netip.Addr
	tr  transport
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
	src := cfg.Src
	if !src.IsValid() {
		if src, err = Source(cfg.Dst); err != nil {
			return nil, err
		}
	}
	tr, err := newTransport(&cfg, src)
	if err != nil {
		return nil, err
	}
	return &Tracer{cfg: cfg, src: src, tr: tr}, nil
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
	return e.run(ctx, t.tr, replies, onHop)
}

// engine is Run's state: every probe of the trace, and which are in flight.
type engine struct {
	cfg      Config
	res      Result
	probes   []Probe
	done     []bool
	next     int // the next probe to send
	inflight int
	emitted  int // hops handed to onHop
	finalHop int // the first hop with a final answer, or -1
}

func newEngine(cfg Config) *engine {
	n := cfg.probes()
	e := &engine{cfg: cfg, res: Result{Dst: cfg.Dst}, probes: make([]Probe, n), done: make([]bool, n), finalHop: -1}
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
		if err := e.sendMore(tr); err != nil {
			return &e.res, err
		}
		if e.emit(onHop) {
			return &e.res, nil
		}
		timer.Reset(time.Until(e.nextDeadline()))
		select {
		case r := <-replies:
			if r.err != nil {
				return &e.res, r.err
			}
			e.answer(&r)
		case now := <-timer.C:
			// Answers that came while onHop ran (a slow name lookup)
			// are taken first: whether one was in time is told by its
			// arrival, not by when it is read.
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
// none past the first hop with a final answer.
func (e *engine) sendMore(tr transport) error {
	q := e.cfg.Queries
	for e.inflight < e.cfg.SimProbes && e.next < len(e.probes) && (e.finalHop < 0 || e.next/q <= e.finalHop) {
		p := &e.probes[e.next]
		p.Sent = time.Now()
		if err := tr.send(p.Seq, p.TTL); err != nil {
			return err
		}
		e.next++
		e.inflight++
	}
	return nil
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

// nextDeadline is when the earliest probe in flight times out.
func (e *engine) nextDeadline() time.Time {
	var first time.Time
	for i := e.emitted * e.cfg.Queries; i < e.next; i++ {
		if !e.done[i] {
			if d := e.probes[i].Sent.Add(e.cfg.Wait); first.IsZero() || d.Before(first) {
				first = d
			}
		}
	}
	if first.IsZero() { // nothing in flight: cannot happen while the trace runs
		return time.Now().Add(e.cfg.Wait)
	}
	return first
}

// answer records r for its probe, unless the probe was not sent yet, is
// answered already (a duplicate) or timed out, or the answer arrived after
// the wait (late).
func (e *engine) answer(r *reply) {
	if r.seq < 0 || r.seq >= e.next || e.done[r.seq] {
		return
	}
	p := &e.probes[r.seq]
	if !r.at.IsZero() && r.at.Sub(p.Sent) > e.cfg.Wait {
		return // expire will end its wait
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

// expire ends the wait of every probe in flight whose time is up.
func (e *engine) expire(now time.Time) {
	for i := e.emitted * e.cfg.Queries; i < e.next; i++ {
		if !e.done[i] && !now.Before(e.probes[i].Sent.Add(e.cfg.Wait)) {
			e.done[i] = true
			e.inflight--
		}
	}
}
