package ping

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// bitset has a bit per 16-bit sequence number, as iputils' rcvd_tbl.
type bitset [1 << 16 / 64]uint64

func (b *bitset) has(seq uint16) bool { return b[seq>>6]&(1<<(seq&63)) != 0 }
func (b *bitset) set(seq uint16)      { b[seq>>6] |= 1 << (seq & 63) }
func (b *bitset) clear(seq uint16)    { b[seq>>6] &^= 1 << (seq & 63) }

// state is what Run keeps between packets. Requests are numbered by
// index, 1 for the first, and carry uint16(index) as their sequence.
type state struct {
	cancelled atomic.Bool
	start     time.Time
	deadline  time.Time // zero: none
	lastSend  time.Time
	nextSend  time.Time
	ntx       int64 // requests sent: the index of the last one
	acked     int64 // the highest index answered (iputils' acked)
	pending   int64 // requests neither answered nor timed out
	// lingerEnd is when the run ends once the last request is sent
	// (iputils' __schedule_exit, computed once, when that request left).
	lingerEnd time.Time

	// sent holds the send time (since start) of the requests from index
	// tail to ntx, those a Timeout may still concern, in a ring.
	sent []time.Duration
	tail int64

	rcvd, answered, timedOut bitset
	q                        queued
}

const maxRing = 1 << 16

// initState readies the run's state; now is the start.
func (p *Pinger) initState(now time.Time) {
	s := &p.st
	s.sent = make([]time.Duration, 64)
	s.tail = 1
	s.start, s.nextSend = now, now
	if p.cfg.Deadline > 0 {
		s.deadline = now.Add(p.cfg.Deadline)
	}
}

func (p *Pinger) run(ctx context.Context, fn func(*Event)) error {
	s := &p.st
	p.initState(time.Now())
	if p.cfg.Flood && p.kind == SocketRaw {
		if err := p.sys.goDirect(); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		defer p.sys.endDirect()
	}
	// Cancelling sets the flag, then pulls the read deadline into the past;
	// recv checks the flag after it sets its own deadline, so one of the
	// two always stops the wait.
	stop := context.AfterFunc(ctx, func() {
		s.cancelled.Store(true)
		p.sys.wake()
	})
	defer stop()
	cancelled := s.cancelled.Load
	// A flood never parks: it lives in sendto and recvmmsg, so the
	// runtime's sysmon kept polling every 20µs and handing the P from
	// thread to thread, a futex per packet (strace -c: 20565 futex calls
	// for 20000 packets). Yielding once a millisecond keeps sysmon asleep:
	// 2138 futex calls, and 5-10% more packets a second.
	var yielded time.Time
	now := time.Now()
	for !cancelled() {
		if now.Sub(yielded) > time.Millisecond {
			yielded = now
			runtime.Gosched()
		}
		if !s.deadline.IsZero() && !now.Before(s.deadline) {
			break
		}
		p.expire(now, fn)
		if p.finished(now) {
			break
		}
		if at, ok := p.sendAt(); ok && !now.Before(at) {
			p.send(fn)
			if p.sys.direct {
				// The send's clock, a sendto(2) old, is new enough to
				// go on to recvDirect, which reads its own before a wait.
				now = s.lastSend
			} else {
				now = p.clock()
			}
			continue
		}
		n, err := p.recv(now)
		for i := range n {
			p.handle(&p.sys.msgs[i])
			p.flush(fn)
		}
		if err != nil {
			switch {
			case errors.Is(err, net.ErrClosed):
				return nil
			case socketGone(err):
				return err
			case p.kind == SocketDgram:
				// A pending ICMP error (sk_err) fails the next recv once;
				// the error itself waits on the error queue.
				if err := p.drainErrors(fn); err != nil {
					return err
				}
			}
			// On a raw socket a hard ICMP error sets sk_err too, while the
			// message itself arrives as data: nothing to do.
		}
		now = p.clock()
	}
	p.expireAll(fn)
	return nil
}

// clock is the loop's time.Now with one clock read instead of two: every
// time the loop compares carries the monotonic reading, which is all a
// comparison uses, so the wall clock's read is saved (clock_gettime was
// the largest part of a flood's time outside the kernel: README, "Flood
// ping against iputils"). Requests are stamped with time.Now.
func (p *Pinger) clock() time.Time {
	return p.st.start.Add(time.Since(p.st.start))
}

// expireAll reports, when the run ends, every request still neither
// answered nor timed out as a Timeout: none of them can be answered now,
// so each request ends in exactly one Reply, Error or Timeout event.
func (p *Pinger) expireAll(fn func(*Event)) {
	s := &p.st
	for ; s.tail <= s.ntx; s.tail++ {
		if !s.answered.has(uint16(s.tail)) {
			p.timeOut(s.tail, fn)
		}
	}
}

// moreToSend reports whether the schedule still has requests to send.
// Run's goroutine is the only writer of p.stats, so it reads them without
// the lock (which is for Statistics, from other goroutines).
func (p *Pinger) moreToSend() bool {
	c := &p.cfg
	if c.Count == 0 || p.st.ntx < int64(c.Count) {
		return true
	}
	return c.Deadline > 0 && p.stats.Received+p.stats.Errors < c.Count
}

// sendAt returns when the next request is due, if one is.
func (p *Pinger) sendAt() (time.Time, bool) {
	s := &p.st
	if !p.moreToSend() {
		return time.Time{}, false
	}
	if s.ntx == 0 || s.ntx < int64(p.cfg.Preload) {
		return s.start, true
	}
	flood := p.cfg.Flood
	if p.cfg.Adaptive && p.stats.Received > 0 {
		gap := p.adaptiveInterval()
		if gap > 0 {
			return s.lastSend.Add(gap), true
		}
		flood = true
	}
	if flood {
		if s.ntx-s.acked <= 0 { // nothing in flight
			return s.lastSend, true
		}
		return s.lastSend.Add(FloodGap), true
	}
	return s.nextSend, true
}

// adaptiveInterval is iputils' update_interval: the smoothed round trip
// in whole milliseconds, at least MinUserInterval for a user other than
// root.
func (p *Pinger) adaptiveInterval() time.Duration {
	gap := time.Duration((p.stats.rtt8/8+500)/1000) * time.Millisecond
	if !p.root && gap < MinUserInterval {
		gap = MinUserInterval
	}
	return gap
}

// finished applies iputils' exit rules: Count answered (replies plus
// errors), an error under a deadline, or everything sent and the linger
// over (see lingerEnd); with WaitAll, everything sent and every request
// answered or timed out. A request that timed out is not settled without
// WaitAll: its reply may still come within the linger, as in iputils,
// whose -W is the linger, not a per-request limit.
func (p *Pinger) finished(now time.Time) bool {
	c, st := &p.cfg, &p.stats // read without the lock: see moreToSend
	if c.Count > 0 && st.Received+st.Errors >= c.Count {
		return true
	}
	if c.Deadline > 0 && st.Errors > 0 {
		return true
	}
	if p.moreToSend() {
		return false
	}
	if c.WaitAll {
		return p.st.pending == 0 // the per-request timeouts bring it to 0
	}
	return !now.Before(p.st.lingerEnd)
}

// linger is how long the run goes on after the last request, fixed when
// it is sent as iputils' __schedule_exit does: twice the longest round
// trip (at least the interval) once something answered, else the timeout.
func (p *Pinger) linger() time.Duration {
	st := &p.stats
	if st.Received == 0 {
		return p.timeout
	}
	linger := 2 * st.Max
	if !p.cfg.Flood && linger < p.interval {
		linger = p.interval
	}
	return linger
}

// wakeAt returns when the loop must look again without a packet: the next
// send, the next timeout, the deadline, the end of the linger.
func (p *Pinger) wakeAt() time.Time {
	s := &p.st
	var w time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (w.IsZero() || t.Before(w)) {
			w = t
		}
	}
	if at, ok := p.sendAt(); ok {
		earliest(at)
	} else if !p.cfg.WaitAll {
		earliest(s.lingerEnd)
	}
	if s.tail <= s.ntx {
		earliest(s.start.Add(s.sent[s.tail&int64(len(s.sent)-1)] + p.timeout))
	}
	earliest(s.deadline)
	return w
}

// send sends the next request and schedules the one after. The request
// is stamped with the clock read here, just before sendto(2), as iputils
// stamps it: the run loop's clock is read before the
// Gosched, the expiry and the schedule of the loop, and stamping with it
// made the first round trip on loopback two to three times iputils' (README,
// "The first ping reply's round trip on loopback against iputils"; a clock
// read is a small part of a flood's time a packet).
func (p *Pinger) send(fn func(*Event)) {
	if p.st.ntx == 0 {
		p.sys.warmUp(p.Timed()) // the first RTT on loopback (README, same section)
	}
	now := time.Now()
	s := &p.st
	idx := s.ntx + 1
	for idx-s.tail >= int64(len(s.sent)) {
		if len(s.sent) < maxRing {
			p.growRing()
		} else {
			p.timeOut(s.tail, fn) // 65536 in flight: the oldest gives up its slot
			s.tail++
		}
	}
	seq := uint16(idx)
	s.rcvd.clear(seq)
	s.answered.clear(seq)
	s.timedOut.clear(seq)
	err := p.sys.send(seq, p.Timed(), now)
	s.ntx = idx
	s.pending++
	s.sent[idx&int64(len(s.sent)-1)] = now.Sub(s.start)
	s.lastSend = now
	if s.ntx-s.acked > 0x7fff { // iputils: acked is stale once seq wraps past it
		s.acked = s.ntx - 1
	}
	if !p.cfg.Flood && idx >= int64(p.cfg.Preload) { // a preload leaves the schedule alone
		s.nextSend = s.nextSend.Add(p.interval)
		if s.nextSend.Before(now) { // late: catch up by one, never burst
			s.nextSend = now
		}
	}
	p.mu.Lock()
	p.stats.Transmitted++
	p.stats.Time = now.Sub(s.start)
	p.mu.Unlock()
	if !p.moreToSend() {
		s.lingerEnd = now.Add(p.linger())
	}

	if err != nil {
		err = p.sendError(err, fn)
		p.mu.Lock()
		p.stats.Errors++ // iputils' nerrors: the request is settled, not lost
		p.settle(seq)
		p.mu.Unlock()
	}
	e := p.event(EventSent, seq, now)
	if err != nil {
		e.Kind, e.Err = EventSendError, err
	}
	fn(e)
}

// sendError is the error to report for a failed send, as iputils words
// it: "local error: message too long, mtu=1500" for EMSGSIZE. On a
// datagram socket the kernel also queued it (IP_RECVERR) with the path
// MTU, and iputils reads it from there.
func (p *Pinger) sendError(err error, fn func(*Event)) error {
	if p.kind != SocketDgram {
		// A raw socket has no IP_RECVERR (its ICMP errors come as data):
		// the MTU is the route's as New found it.
		if errors.Is(err, unix.EMSGSIZE) && p.mtu > 0 {
			return &localErr{errno: unix.EMSGSIZE, mtu: uint32(p.mtu), v6: p.v6}
		}
		return err
	}
	q := &p.st.q
	ok, qerr := p.sys.readErrQueue(q)
	if !ok || qerr != nil {
		return err
	}
	if q.origin == unix.SO_EE_ORIGIN_LOCAL {
		return localError(q, p.v6)
	}
	p.queuedError(q) // an ICMP error that was waiting: report it as usual
	p.flush(fn)
	return err
}

func (p *Pinger) growRing() {
	s := &p.st
	n := make([]time.Duration, 2*len(s.sent))
	for i := s.tail; i <= s.ntx; i++ {
		n[i&int64(len(n)-1)] = s.sent[i&int64(len(s.sent)-1)]
	}
	s.sent = n
}

// expire reports the requests whose timeout has passed unanswered, and
// forgets the answered ones at the head of the ring.
func (p *Pinger) expire(now time.Time, fn func(*Event)) {
	s := &p.st
	since := now.Sub(s.start)
	for s.tail <= s.ntx {
		if !s.answered.has(uint16(s.tail)) {
			if since < s.sent[s.tail&int64(len(s.sent)-1)]+p.timeout {
				return
			}
			p.timeOut(s.tail, fn)
		}
		s.tail++
	}
}

func (p *Pinger) timeOut(idx int64, fn func(*Event)) {
	s := &p.st
	seq := uint16(idx)
	if s.answered.has(seq) || s.timedOut.has(seq) {
		return
	}
	s.timedOut.set(seq)
	s.pending--
	p.mu.Lock()
	p.stats.Timeouts++
	p.mu.Unlock()
	fn(p.event(EventTimeout, seq, time.Now()))
}

// index maps a sequence number back to the latest request that carried it.
func (s *state) index(seq uint16) int64 {
	return s.ntx - int64(uint16(s.ntx)-seq)
}

// settle marks request seq answered (by a reply or an error) and updates
// iputils' acked and pipe.
func (p *Pinger) settle(seq uint16) {
	s := &p.st
	if !s.answered.has(seq) {
		s.answered.set(seq)
		if !s.timedOut.has(seq) {
			s.pending--
		}
	}
	idx := s.index(seq)
	if diff := s.ntx - idx; diff >= 0 && diff <= 0x7fff {
		if int(diff)+1 > p.stats.Pipe {
			p.stats.Pipe = int(diff) + 1
		}
		if idx > s.acked {
			s.acked = idx
		}
	}
}

// event resets the reused Event for a new report.
func (p *Pinger) event(kind EventKind, seq uint16, t time.Time) *Event {
	e := &p.ev
	*e = Event{Kind: kind, Seq: seq, Time: t, IPv6: p.v6, TTL: -1, Mismatch: -1}
	return e
}

// reply counts an echo reply to request seq; data is its payload. A
// reply with a bad checksum is reported but neither counted as received
// nor timed, as iputils' gather_statistics does.
func (p *Pinger) reply(seq uint16, from netip.Addr, ttl, size int, rx time.Time, data []byte, badSum bool) {
	s := &p.st
	e := p.event(EventReply, seq, rx)
	e.From, e.TTL, e.Size, e.Data = from, ttl, size, data
	e.Dup = s.rcvd.has(seq)
	e.Late = s.timedOut.has(seq)
	if want := p.sys.out[icmpEchoHeaderSize:]; len(data) >= p.size && p.size > TimestampLen &&
		!bytes.Equal(data[TimestampLen:p.size], want[TimestampLen:p.size]) {
		for i := TimestampLen; i < p.size; i++ {
			if data[i] != want[i] {
				e.Mismatch = i
				break
			}
		}
	}
	if p.Timed() && len(data) >= TimestampLen {
		sec := int64(binary.NativeEndian.Uint64(data[0:]))
		nsec := int64(binary.NativeEndian.Uint64(data[8:]))
		e.RTT = rx.Sub(time.Unix(sec, nsec))
		if e.RTT < 0 || nsec >= 1e9 {
			// The wall clock stepped back (or the data lies): use the
			// monotonic send time while we still hold it, as iputils
			// falls back to its own clock.
			e.RTT = 0
			if idx := s.index(seq); idx >= s.tail && idx <= s.ntx {
				e.RTT = time.Since(s.start) - s.sent[idx&int64(len(s.sent)-1)]
			}
		}
		e.Timed = true
	}
	if badSum {
		e.BadChecksum, e.Dup, e.Mismatch = true, false, -1
		p.mu.Lock()
		p.stats.Corrupted++
		p.mu.Unlock()
		p.pendingEv = true
		return
	}
	p.mu.Lock()
	if e.Dup {
		p.stats.Duplicates++
	} else {
		p.stats.Received++
		s.rcvd.set(seq)
	}
	if e.Timed {
		p.stats.addRTT(e.RTT)
	}
	p.settle(seq)
	p.mu.Unlock()
	p.pendingEv = true
}

// icmpError counts an ICMP error about request seq.
func (p *Pinger) icmpError(seq uint16, from netip.Addr, ttl int, rx time.Time, typ, code uint8, info uint32) {
	e := p.event(EventError, seq, rx)
	e.From, e.TTL, e.Type, e.Code, e.Info = from, ttl, typ, code, info
	p.mu.Lock()
	p.stats.Errors++
	p.settle(seq)
	p.mu.Unlock()
	p.pendingEv = true
}

func (p *Pinger) ignored() {
	p.mu.Lock()
	p.stats.Ignored++
	p.mu.Unlock()
}

// flush delivers the event handle prepared, if any.
func (p *Pinger) flush(fn func(*Event)) {
	if p.pendingEv {
		p.pendingEv = false
		fn(&p.ev)
	}
}

// drainErrors reads the error queue of a datagram socket empty.
func (p *Pinger) drainErrors(fn func(*Event)) error {
	q := &p.st.q
	for range 1024 {
		ok, err := p.sys.readErrQueue(q)
		if err != nil {
			if socketGone(err) || errors.Is(err, net.ErrClosed) {
				return err
			}
			return nil
		}
		if !ok {
			return nil
		}
		p.queuedError(q)
		p.flush(fn)
	}
	return nil
}
