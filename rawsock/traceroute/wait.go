package traceroute

import "time"

// timeout is how long probe i waits for its answer, as traceroute's
// get_timeout computes it when i is the first probe not done: Here times
// the round trip of the first answered probe of its hop, else Near times
// that of the first answered probe sent after it, each plus a millisecond
// against the clocks' grain, and never more than Wait.
func (e *engine) timeout(i int) time.Duration {
	const grain = time.Millisecond // traceroute's DEF_WAIT_PREC
	scaled := func(rtt time.Duration, f float64) time.Duration {
		return min(time.Duration(float64(rtt+grain)*f), e.cfg.Wait)
	}
	if e.cfg.Here > 0 {
		lo := i - i%e.cfg.Queries
		for j := lo; j < lo+e.cfg.Queries; j++ {
			if e.done[j] && e.probes[j].Answered() && e.probes[j].RTT > 0 {
				return scaled(e.probes[j].RTT, e.cfg.Here)
			}
		}
	}
	if e.cfg.Near > 0 {
		for j := i + 1; j < e.next; j++ {
			if e.done[j] && e.probes[j].Answered() && e.probes[j].RTT > 0 {
				return scaled(e.probes[j].RTT, e.cfg.Near)
			}
		}
	}
	return e.cfg.Wait
}

// grace is how long past its deadline the engine still waits before it
// gives a probe up. The readers hand answers over through goroutines, and
// an answer that arrived (by the kernel's stamp) before the deadline must
// count, as it does for traceroute, which reads its sockets before it
// expires a probe. A parked reader is woken by the runtime's network
// poller, which, while every P is busy, only sysmon polls, up to 10 ms
// apart: so at least minGrace, or twice the longest hand-over seen, at
// most a second.
func (e *engine) grace() time.Duration { return min(max(2*e.lag, minGrace), time.Second) }

// minGrace is the least grace: sysmon's longest sleep between polls of
// the network poller.
const minGrace = 10 * time.Millisecond

// advance moves head past the probes done.
func (e *engine) advance() {
	for e.head < e.next && e.done[e.head] {
		e.head++
	}
}

// expire ends the wait of the first probe not done if its time (and the
// grace) is up, and of the next ones as long as theirs is too: as
// traceroute, a probe's wait is decided when every probe before it is
// done, with the answers come by then.
func (e *engine) expire(now time.Time) {
	for e.advance(); e.head < e.next; e.advance() {
		if now.Before(e.probes[e.head].Sent.Add(e.timeout(e.head) + e.grace())) {
			return
		}
		e.done[e.head] = true
		e.inflight--
		if e.onExpire != nil {
			e.onExpire(e.head)
		}
		e.relocateFinal(e.head)
	}
}

// relocateFinal is traceroute's check_expired for probe i, just given up:
// when a later probe has a final answer with a mark (an unreachable, !F,
// ...), and it seems to belong at i's place, it is moved there, and the
// trace ends at i's hop. Probes in flight at once can reach the final hop
// out of order: the router may answer only the later ones, or an
// unreachable can come from a router whose time exceeded was silent. It
// seems to belong at i when another probe of i's hop is final, or it is in
// i's hop itself, or its sender answered an earlier probe, or its TTL, as
// it arrived, says it came from no farther than i's hop (initial TTLs of
// 64, 128 or 255, measured from the nearest earlier router's answer, as
// tracepath does).
func (e *engine) relocateFinal(i int) {
	q := e.cfg.Queries
	prevFinal := false
	for j := i - i%q; j < i; j++ {
		if !e.done[j] || !e.probes[j].Final {
			return // too early to say, or the hop is a router on the way
		}
		prevFinal = true
	}
	f := -1
	for j := i + 1; j < e.next; j++ {
		if e.done[j] {
			if !e.probes[j].Final {
				return // a later probe went past: i was just unanswered
			}
			f = j
			break
		}
	}
	if f < 0 || e.probes[f].Annotation == "" {
		return // the destination's own answers come in order
	}
	fp := &e.probes[f]
	move := prevFinal || i%q+(f-i) < q
	for j := i - 1; j >= 0 && !move; j-- {
		move = e.probes[j].From.IsValid() && e.probes[j].From == fp.From
	}
	if !move && fp.ReplyTTL != 0 {
		back := hopsBack(fp.ReplyTTL)
		for j := i - 1; j >= 0; j-- {
			if p := &e.probes[j]; e.done[j] && p.Answered() && !p.Final && p.ReplyTTL != 0 {
				if h := hopsBack(p.ReplyTTL); h < back {
					back = back - h + p.TTL
					break
				}
			}
		}
		move = back <= e.probes[i].TTL
	}
	if !move {
		return
	}
	p := &e.probes[i]
	p.Kind, p.From, p.RTT, p.ICMPType, p.ICMPCode = fp.Kind, fp.From, fp.RTT, fp.ICMPType, fp.ICMPCode
	p.ReplyTTL, p.Annotation, p.Final, p.MTU = fp.ReplyTTL, fp.Annotation, fp.Final, fp.MTU
	// As traceroute blanks it: unanswered and due at once, so that the
	// probes of i's hop given up next find the final answers after it.
	*fp = Probe{TTL: fp.TTL, Seq: fp.Seq}
	e.done[f] = false
	e.inflight++
	if hop := i / q; e.finalHop < 0 || hop < e.finalHop {
		e.finalHop = hop
	}
}

// hopsBack guesses how many hops an answer came across from its TTL as it
// arrived, assuming the sender started at 64, 128 or 255 (traceroute's
// ttl2hops).
func hopsBack(ttl int) int {
	switch {
	case ttl <= 64:
		return 65 - ttl
	case ttl <= 128:
		return 129 - ttl
	}
	return 256 - ttl
}
