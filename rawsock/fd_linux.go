package rawsock

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// newConn registers fd with the runtime poller. os.NewFile does it: it
// reads the fd's flags (fcntl F_GETFL), sees O_NONBLOCK and adds the fd to
// the runtime's epoll set.
func newConn(fd, family, sotype, proto int) *Conn {
	f := os.NewFile(uintptr(fd), "socket")
	rc, _ := f.SyscallConn() // fails only for a nil *File
	c := &Conn{fd: fd, family: family, sotype: sotype, proto: proto, file: f, rc: rc}
	c.rop.init(c)
	c.wop.init(c)
	return c
}

// control runs a call that never blocks (bind, listen, setsockopt, ...)
// while holding a reference on the fd, so that a concurrent Close cannot
// close it, or let it be reused, under the call.
func (c *Conn) control(name string, f func(fd int) error) error {
	if err := c.closedCheck(name); err != nil {
		return err
	}
	var ferr error
	if err := c.rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return c.mapPollErr(name, err)
	}
	return wrapErr(name, ferr)
}

// lockOp begins a blocking call of kind k: it takes the mutex of k's side,
// held until unlock, and fails at once on a closed socket.
func (c *Conn) lockOp(k opKind) (*op, error) {
	o, mu, g := &c.rop, &c.rmu, &c.rgate
	if k.write() {
		o, mu, g = &c.wop, &c.wmu, &c.wgate
	}
	mu.Lock()
	if c.state.Load() != stateOpen {
		mu.Unlock()
		return nil, errClosed(opName(k))
	}
	o.waitedBefore, o.waited = gateSlowIn(g), false
	o.kind = k
	return o, nil
}

// unlock ends a call begun with lockOp: o lets go of the caller's memory
// and the side's mutex is released.
func (o *op) unlock() {
	o.release()
	if o.kind.write() {
		gateSlowOut(&o.c.wgate, o.waitedBefore, o.waited)
		o.c.wmu.Unlock()
	} else {
		gateSlowOut(&o.c.rgate, o.waitedBefore, o.waited)
		o.c.rmu.Unlock()
	}
}

// plain reports the common call, which start and finish have nothing to
// do for: no context, no timeout, no mode, nothing armed.
func (c *Conn) plain(o *op, ctx context.Context) bool {
	return ctx == nil && !o.armed && o.kind != opConnect && c.timeout.Load() == 0 && !c.side(o.kind.write()).armed.Load()
}

// call makes the call o holds: started with the timeout, the deadlines and
// ctx, waited for on the poller, finished.
func (c *Conn) call(o *op, ctx context.Context) error {
	err := c.start(o, ctx)
	if err != nil {
		return err
	}
	if o.kind == opConnect {
		err = c.connectWait(o)
	} else {
		err = c.wait(o)
	}
	return c.finish(o, ctx, err)
}

// start prepares a blocking call: Python's mode, the per-call timeout,
// and the context's deadline and cancellation, which join the user's
// deadline in the side's deadlines (the earliest wins). It is called with
// the op's mutex held. The common case, no timeout, no context and nothing
// left from an earlier call, costs two atomic loads.
func (c *Conn) start(o *op, ctx context.Context) error {
	t := c.timeout.Load()
	o.nonblock = t == modeNonblock || o.flagsNonblock()
	write := o.kind.write()
	d := c.side(write)
	var dl time.Time
	var done <-chan struct{}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		dl, _ = ctx.Deadline()
		done = ctx.Done()
	}
	// o.armed still set: the last call ended without finish (Sendfile),
	// its deadline is still in d.
	if t <= 0 && dl.IsZero() && done == nil && !d.armed.Load() && !o.armed {
		return nil
	}
	if t > 0 {
		dl = earliest(dl, time.Now().Add(time.Duration(t)))
	}
	c.dlmu.Lock()
	defer c.dlmu.Unlock()
	o.armed = true
	if c.state.Load() != stateOpen {
		return nil // the wait fails with net.ErrClosed
	}
	d.call, d.cancelled = dl, false
	c.apply(write)
	if done != nil {
		gen := o.gen
		o.stop = context.AfterFunc(ctx, func() {
			c.dlmu.Lock()
			defer c.dlmu.Unlock()
			if o.gen != gen || c.state.Load() != stateOpen {
				return
			}
			d.cancelled = true
			c.apply(write)
		})
	}
	return nil
}

// finish ends a call begun with start and maps a deadline the context
// caused to the context's error, even when the poller saw the deadline
// first. The file keeps the call's deadline until the next call sets it
// again (armed tells it to).
func (c *Conn) finish(o *op, ctx context.Context, err error) error {
	if o.stop != nil {
		o.stop()
		o.stop = nil
	}
	if o.armed {
		o.armed = false
		c.dlmu.Lock()
		o.gen++
		d := c.side(o.kind.write())
		d.call, d.cancelled = time.Time{}, false
		c.dlmu.Unlock()
	}
	if err != nil && ctx != nil && isTimeout(err) {
		if cerr := ctx.Err(); cerr != nil {
			return wrapErr(opName(o.kind), cerr)
		}
		// The poller's deadline, armed from the context's, can fire
		// before the context's own timer has marked it done.
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			return wrapErr(opName(o.kind), context.DeadlineExceeded)
		}
	}
	return err
}

func isTimeout(err error) bool {
	se, ok := err.(*os.SyscallError)
	return ok && se.Err == os.ErrDeadlineExceeded
}

// wait runs o through the runtime poller and returns the call's error.
func (c *Conn) wait(o *op) error {
	var err error
	if o.nonblock {
		// One try, as a non-blocking fd makes in C: through Control, so
		// that an expired deadline does not stop a call that never waits.
		err = c.rc.Control(o.once)
	} else if o.kind.write() {
		err = c.rc.Write(o.fn)
	} else {
		err = c.rc.Read(o.fn)
	}
	if err != nil {
		err = c.mapPollErr(opName(o.kind), err)
		if t := traceOut.Load(); t != nil {
			t.traceWake(c.fd, err)
		}
		return err
	}
	if o.errno != 0 {
		return errnoErr(opName(o.kind), o.errno)
	}
	return nil
}

// eagain holds one EAGAIN error per call, so that an event loop polling a
// non-blocking socket does not allocate each time it finds nothing.
var eagain = func() map[string]error {
	m := map[string]error{}
	for k := opRecvfrom; k <= opSendfile; k++ {
		m[opName(k)] = os.NewSyscallError(opName(k), unix.EAGAIN)
	}
	return m
}()

func errnoErr(name string, e syscall.Errno) error {
	if e == unix.EAGAIN {
		if err, ok := eagain[name]; ok {
			return err
		}
	}
	return os.NewSyscallError(name, e)
}

// connectWait runs a connect through the poller. An AF_UNIX stream connect
// to a listener whose backlog is full fails with EAGAIN, and no event tells
// when the listener has accepted: the kernel wakes only the connects that
// sleep in unix_wait_for_peer, which a non-blocking fd never does. So a
// blocking connect tries again after a sleep that doubles from 1 ms to
// 32 ms, where C's blocking connect sleeps in the kernel: at most 32 ms
// late, about 30 connect(2) a second while the listener stays full.
func (c *Conn) connectWait(o *op) error {
	backoff := unixConnectBackoff
	for {
		err := c.wait(o)
		if c.family != unix.AF_UNIX || o.nonblock || !errors.Is(err, unix.EAGAIN) {
			return err
		}
		if err := c.sleepWrite(backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, maxUnixConnectBackoff)
		o.phase2 = false
	}
}

const (
	unixConnectBackoff    = time.Millisecond
	maxUnixConnectBackoff = 32 * time.Millisecond
)

// sleepWrite parks the write side on the runtime poller for d at most: d
// joins the side's deadlines as the wake deadline, so that Close, the
// context's cancellation and the other deadlines end the sleep as they end
// any wait, at once. It returns nil when d has passed (or the poller woke
// the goroutine early, which only costs a try), else the error that ends
// the call.
func (c *Conn) sleepWrite(d time.Duration) error {
	c.dlmu.Lock()
	if c.state.Load() != stateOpen {
		c.dlmu.Unlock()
		return errClosed(nameConnect)
	}
	c.wd.wake = time.Now().Add(d)
	c.apply(true)
	c.dlmu.Unlock()
	if t := traceOut.Load(); t != nil {
		t.traceBacklog(c.fd, d)
	}
	parked := false
	err := c.rc.Write(func(uintptr) bool {
		parked = !parked
		return !parked // false the first time: wait
	})
	c.dlmu.Lock()
	c.wd.wake = time.Time{}
	eff := c.wd.effective()
	due := !eff.IsZero() && !time.Now().Before(eff)
	if c.state.Load() == stateOpen {
		c.apply(true)
	}
	c.dlmu.Unlock()
	if err == nil || (!due && errors.Is(err, os.ErrDeadlineExceeded)) {
		return nil
	}
	return c.mapPollErr(nameConnect, err)
}
