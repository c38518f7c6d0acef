package echo

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// This file is the epoll engine: the whole server as one event loop on one
// OS thread, the way a C server is written. Every socket is non-blocking
// (SetBlocking(false)), so a call that would block returns EAGAIN and the
// loop moves on.
//
// Level-triggered, on purpose. A ready connection gets one recv(2) per
// epoll_wait(2) round; whatever it leaves is reported again in the next
// round. Edge-triggered would oblige the loop to read until EAGAIN, one
// more recv(2) per answer that returns nothing, and a client that sends
// without pause could hold the loop. In a request/response exchange the
// level-triggered loop makes exactly the three syscalls C does:
// epoll_wait, recv, send (epoll_wait shared by all the clients it reports).
//
// Output: an answer the socket takes whole costs nothing more. When a send
// is short, the rest is copied to the connection's buffer and the
// connection's interest changes from EPOLLIN to EPOLLOUT: it is not read
// again until the answer is out. So each connection buffers at most one
// answer (BufSize+24 bytes), and one that stays stuck for WriteTimeout is
// dropped.

// Event tags kept in epoll_event's Pad field: a connection's generation
// (positive), or one of these.
const (
	padListener int32 = -1
	padWake     int32 = -2
	padSweep    int32 = -3
)

// Connection states in the epoll engine.
const (
	stOpen      uint8 = iota
	stFinishing       // stopping: answering what the client sent
	stLinger          // half-closed: waiting for the client's FIN
)

type econn struct {
	c           *rawsock.Conn
	fd          int
	gen         int32
	state       uint8
	peer        unix.Sockaddr
	out         []byte // answer not yet sent: out[off:]
	off         int
	lastIn      time.Time // last data received
	outSince    time.Time // when out became pending
	lingerUntil time.Time
}

type eloop struct {
	s      *Server
	ep     *rawsock.Epoll
	events []rawsock.EpollEvent
	ev     rawsock.EpollEvent // scratch for Ctl, so it does not escape per call
	conns  []*econn           // by fd
	nconns int
	gen    int32
	buf    []byte // CtimeLen + BufSize: the stamp, then the data received
	st     stamper
	now    time.Time // read once per epoll_wait round
	dg     *dgramSock

	// The wake pair: Shutdown writes to ww, the loop reads wr.
	wr, ww *rawsock.Conn
	woke   atomic.Bool
	force  atomic.Bool

	// For yieldIfSparse: the waits and events since the last check.
	yielded         time.Time
	nwaits, nevents int

	lnIn       bool // the listener is in the interest list
	backoff    time.Duration
	retryAt    time.Time
	stopping   bool
	sweepEvery time.Duration
	// The sweep's clock: a periodic Timerfd in the set, so that epoll_wait
	// needs no timeout (the kernel would arm an hrtimer at every wait that
	// sleeps: README, "The epoll engine against C").
	sweeper *rawsock.Timerfd
}

// maxEvents is epoll_wait's batch.
const maxEvents = 256

func newEloop(s *Server) (*eloop, error) {
	ep, err := rawsock.EpollCreate1(0)
	if err != nil {
		return nil, err
	}
	wr, ww, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
	if err != nil {
		ep.Close()
		return nil, err
	}
	l := &eloop{s: s, ep: ep, wr: wr, ww: ww, events: make([]rawsock.EpollEvent, maxEvents),
		buf: make([]byte, CtimeLen+s.cfg.BufSize)}
	wr.SetBlocking(false)
	ww.SetBlocking(false)
	s.ln.SetBlocking(false)
	if !s.nw.connected() {
		l.dg = &dgramSock{r: s.ln, w: s.ln, inet: s.nw.inet()}
	}
	l.sweepEvery = time.Second
	for _, d := range []time.Duration{s.cfg.IdleTimeout, s.cfg.WriteTimeout} {
		if d > 0 {
			l.sweepEvery = min(l.sweepEvery, d/8)
		}
	}
	l.sweepEvery = max(l.sweepEvery, 5*time.Millisecond)
	if l.sweeper, err = rawsock.TimerfdCreate(rawsock.CLOCK_MONOTONIC); err != nil {
		l.cleanup()
		return nil, err
	}
	if err := l.ctl(unix.EPOLL_CTL_ADD, l.sweeper.Fd(), rawsock.EPOLLIN, padSweep); err != nil {
		l.cleanup()
		return nil, err
	}
	if err := l.sweeper.Settime(l.sweepEvery, l.sweepEvery); err != nil {
		l.cleanup()
		return nil, err
	}
	if err := l.ctl(unix.EPOLL_CTL_ADD, wr.Fileno(), rawsock.EPOLLIN, padWake); err != nil {
		l.cleanup()
		return nil, err
	}
	if err := l.ctl(unix.EPOLL_CTL_ADD, s.ln.Fileno(), rawsock.EPOLLIN, padListener); err != nil {
		l.cleanup()
		return nil, err
	}
	l.lnIn = true
	return l, nil
}

func (l *eloop) ctl(op, fd int, events uint32, tag int32) error {
	l.ev = rawsock.EpollEvent{Events: events, Fd: int32(fd), Pad: tag}
	return l.ep.Ctl(op, fd, &l.ev)
}

// wake interrupts epoll_wait from another goroutine.
func (l *eloop) wake() {
	if l.woke.CompareAndSwap(false, true) {
		l.ww.Send([]byte{1}, 0)
	}
}

func (l *eloop) run() error {
	// epoll_wait blocks its thread: the loop has one of its own, as a C
	// server has.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.cleanup()
	s := l.s
	l.now = time.Now()
	l.waiting()
	if s.stopping.Load() {
		l.beginStop()
	}
	for {
		if l.stopping && l.nconns == 0 {
			return nil
		}
		n, err := l.ep.Wait(l.events, l.waitMsec())
		if err != nil {
			return err
		}
		l.now = time.Now()
		l.yieldIfSparse(n)
		for i := range l.events[:n] {
			ev := &l.events[i]
			switch ev.Pad {
			case padListener:
				if l.dg != nil {
					l.onDgram()
				} else {
					l.onAccept()
				}
			case padWake:
				l.onWake()
			case padSweep:
				l.sweeper.Read()
				l.sweep()
			default:
				l.onConn(ev)
			}
		}
		if l.force.Load() {
			return nil
		}
		if !l.lnIn && !l.stopping && !l.now.Before(l.retryAt) && l.belowMax() {
			l.listen(true)
		}
	}
}

// Yielding. The loop goroutine never gives the Go scheduler a turn, so
// every 10ms the runtime's monitor (sysmon) finds it running "too long".
// Blocked in epoll_wait it cannot be preempted: sysmon takes its P, wakes
// another thread to hand it to, and polls every 20µs for a while. When the
// loop blocks often (few events per epoll_wait) that costs more than a
// thread switch per round trip. A runtime.Gosched every yieldEvery moves
// the scheduler's tick and sysmon sleeps on. When batches are large the
// loop seldom blocks and yields only cost, so it yields only while
// epoll_wait averages under sparseBatch events. With GOMAXPROCS 1 (as
// under taskset -c 0) sysmon also takes the P from any long epoll_wait,
// there being no idle P: the caller gives the process a second P (see
// ServerConfig.Loop). The server CPU per round trip of each choice is in
// README.md, "The epoll engine and GOMAXPROCS".
const (
	yieldEvery  = 5 * time.Millisecond
	sparseBatch = 16
)

func (l *eloop) yieldIfSparse(n int) {
	l.nwaits++
	l.nevents += n
	if l.now.Sub(l.yielded) < yieldEvery {
		return
	}
	if l.nevents < sparseBatch*l.nwaits {
		runtime.Gosched()
	}
	l.yielded = l.now
	l.nwaits, l.nevents = 0, 0
}

func (l *eloop) waiting() {
	if l.dg != nil {
		l.s.logf("waiting for message...")
	} else {
		l.s.logf("waiting for connection...")
	}
}

// waitMsec is epoll_wait's timeout: none (the sweeps have their Timerfd)
// but while an accept waits to be retried. It counts from l.now rather than
// reading the clock again (time.Now is two vDSO calls).
func (l *eloop) waitMsec() int {
	if l.lnIn || l.stopping || !l.retryAt.After(l.now) {
		return -1
	}
	return int((l.retryAt.Sub(l.now) + time.Millisecond - 1) / time.Millisecond)
}

func (l *eloop) belowMax() bool { return l.s.cfg.MaxConns <= 0 || l.nconns < l.s.cfg.MaxConns }

// listen adds the listener to, or removes it from, the interest list: out
// while at MaxConns (clients wait in the backlog) and while backing off
// after a failed accept (a level-triggered listener would spin).
func (l *eloop) listen(on bool) {
	if on == l.lnIn {
		return
	}
	fd := l.s.ln.Fileno()
	var err error
	if on {
		err = l.ctl(unix.EPOLL_CTL_ADD, fd, rawsock.EPOLLIN, padListener)
	} else {
		err = l.ep.Ctl(unix.EPOLL_CTL_DEL, fd, nil)
	}
	if err == nil {
		l.lnIn = on
	}
}

func (l *eloop) onAccept() {
	s := l.s
	for range 64 {
		if !l.belowMax() {
			l.listen(false)
			return
		}
		c, sa, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, unix.EAGAIN) {
				return
			}
			s.n.acceptErr.Add(1)
			l.backoff = acceptBackoff(l.backoff)
			l.retryAt = l.now.Add(l.backoff)
			l.listen(false)
			s.logf("%v; retrying in %v", err, l.backoff)
			return
		}
		l.backoff = 0
		l.add(c, sa)
	}
}

func (l *eloop) add(c *rawsock.Conn, sa unix.Sockaddr) {
	s := l.s
	c.SetBlocking(false)
	fd := c.Fileno()
	if l.gen++; l.gen <= 0 {
		l.gen = 1
	}
	if err := l.ctl(unix.EPOLL_CTL_ADD, fd, rawsock.EPOLLIN, l.gen); err != nil {
		s.logf("...closed %s: %v", rawsock.AddrString(sa), err)
		c.Close()
		return
	}
	for fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*econn, len(l.conns)+64)...)
	}
	l.conns[fd] = &econn{c: c, fd: fd, gen: l.gen, peer: sa, lastIn: l.now}
	l.nconns++
	s.n.accepted.Add(1)
	s.n.active.Add(1)
	if s.log != nil {
		s.logf("...connected from: %s", rawsock.AddrString(sa))
		l.waiting()
	}
}

func (l *eloop) onConn(ev *rawsock.EpollEvent) {
	fd := int(ev.Fd)
	if fd < 0 || fd >= len(l.conns) {
		return
	}
	e := l.conns[fd]
	if e == nil || e.gen != ev.Pad {
		return // closed earlier in this round
	}
	if e.off < len(e.out) {
		l.flush(e) // EPOLLOUT, or EPOLLERR/EPOLLHUP that the send will report
		return
	}
	l.read(e)
}

// read makes the connection's one recv(2) of the round and answers it.
func (l *eloop) read(e *econn) {
	n, err := e.c.Recv(l.buf[CtimeLen:], 0)
	if err != nil {
		if !errors.Is(err, unix.EAGAIN) {
			l.drop(e, err)
		}
		return
	}
	if n == 0 {
		l.close(e) // the client's FIN
		return
	}
	if e.state == stLinger {
		return // answered enough: discard until the FIN
	}
	e.lastIn = l.now
	l.st.stamp(l.buf, l.now)
	l.send(e, l.buf[:CtimeLen+n])
}

func (l *eloop) send(e *econn, b []byte) {
	w, err := e.c.Send(b, msgNoSignal)
	if err != nil {
		if !errors.Is(err, unix.EAGAIN) {
			l.drop(e, err)
			return
		}
		w = 0
	}
	if w == len(b) {
		return
	}
	// Short: keep the rest (a SOCK_SEQPACKET message goes whole or not at
	// all, so there w is 0) and stop reading until it is out.
	e.out = append(e.out[:0], b[w:]...)
	e.off = 0
	e.outSince = l.now
	l.ctl(unix.EPOLL_CTL_MOD, e.fd, rawsock.EPOLLOUT, e.gen)
}

func (l *eloop) flush(e *econn) {
	w, err := e.c.Send(e.out[e.off:], msgNoSignal)
	if err != nil {
		if !errors.Is(err, unix.EAGAIN) {
			l.drop(e, err)
		}
		return
	}
	if e.off += w; e.off < len(e.out) {
		return
	}
	e.out, e.off = e.out[:0], 0
	l.ctl(unix.EPOLL_CTL_MOD, e.fd, rawsock.EPOLLIN, e.gen)
	if e.state == stFinishing {
		l.finish(e)
	}
}

// close ends a connection normally.
func (l *eloop) close(e *econn) {
	l.conns[e.fd] = nil
	e.c.Close() // also takes the fd out of the epoll set
	l.nconns--
	l.s.n.active.Add(-1)
	l.s.n.closed.Add(1)
}

// drop ends a connection on an error.
func (l *eloop) drop(e *econn, err error) {
	l.s.n.connErr.Add(1)
	if l.s.log != nil {
		l.s.logf("...closed %s: %v", rawsock.AddrString(e.peer), err)
	}
	l.close(e)
}

// sweep enforces the timeouts; it runs every sweepEvery, so a timeout
// fires up to that late (an eighth of the shortest one).
func (l *eloop) sweep() {
	s := l.s
	idle, wt := s.cfg.IdleTimeout, s.cfg.WriteTimeout
	for _, e := range l.conns {
		switch {
		case e == nil:
		case e.off < len(e.out):
			if wt > 0 && l.now.Sub(e.outSince) > wt {
				s.n.write.Add(1)
				s.logf("...dropped %s: answer not taken for %v (client not reading)", rawsock.AddrString(e.peer), wt)
				l.close(e)
			}
		case e.state == stLinger:
			if l.now.After(e.lingerUntil) {
				l.close(e)
			}
		case idle > 0 && e.state == stOpen && l.now.Sub(e.lastIn) > idle:
			s.n.idle.Add(1)
			s.logf("...closed %s: idle for %v", rawsock.AddrString(e.peer), idle)
			l.close(e)
		}
	}
}

func (l *eloop) onWake() {
	l.woke.Store(false)
	var b [16]byte
	for {
		if _, err := l.wr.Recv(b[:], 0); err != nil {
			break
		}
	}
	if l.s.stopping.Load() && !l.stopping {
		l.beginStop()
	}
}

// beginStop is Shutdown's work in the loop: stop accepting, then have each
// connection answer what it has, half-close and linger (see finish).
func (l *eloop) beginStop() {
	l.stopping = true
	if d := min(l.sweepEvery, lingerTimeout/8); d != l.sweepEvery {
		l.sweepEvery = d
		l.sweeper.Settime(d, d)
	}
	if l.dg != nil {
		for range 4096 {
			if !l.dgramOne() {
				break
			}
		}
		return
	}
	l.listen(false)
	// Clients connected in the backlog have sent messages too: accept
	// them, over MaxConns if need be, to answer and half-close them like
	// the others instead of resetting them with the listener's close.
	for range backlog {
		c, sa, err := l.s.ln.Accept()
		if err != nil {
			break
		}
		l.add(c, sa)
	}
	l.s.closeListener()
	for _, e := range l.conns {
		if e != nil && e.state == stOpen {
			e.state = stFinishing
			if e.off == len(e.out) {
				l.finish(e)
			}
		}
	}
}

// finish answers what the client has sent, then half-closes. With an
// answer pending it returns, and flush calls it again.
func (l *eloop) finish(e *econn) {
	for range 1024 {
		n, err := e.c.Recv(l.buf[CtimeLen:], 0)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil || n == 0 {
			l.close(e)
			return
		}
		l.st.stamp(l.buf, l.now)
		l.send(e, l.buf[:CtimeLen+n])
		if l.conns[e.fd] != e {
			return // dropped
		}
		if e.off < len(e.out) {
			return
		}
	}
	if err := e.c.Shutdown(rawsock.SHUT_WR); err != nil {
		l.close(e)
		return
	}
	e.state = stLinger
	e.lingerUntil = l.now.Add(lingerTimeout)
}

func (l *eloop) onDgram() {
	for range 64 {
		if !l.dgramOne() {
			return
		}
	}
}

// dgramOne answers one datagram; false when none is waiting.
func (l *eloop) dgramOne() bool {
	n, err := l.dg.recv(l.buf[CtimeLen:])
	if err != nil {
		if !errors.Is(err, unix.EAGAIN) {
			l.s.n.connErr.Add(1)
			l.s.logf("%v", err)
		}
		return false
	}
	l.s.answerDgram(l.dg, l.buf[:CtimeLen+n], &l.st)
	return true
}

func (l *eloop) cleanup() {
	for _, e := range l.conns {
		if e != nil {
			l.close(e)
		}
	}
	l.wr.Close()
	l.ww.Close()
	if l.sweeper != nil {
		l.sweeper.Close()
	}
	l.ep.Close()
}
