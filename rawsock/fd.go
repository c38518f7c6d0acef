package rawsock

import (
	"sync/atomic"
	"time"
)

// deadlines is what bounds the calls of one side (read or write). The
// earliest wins; a cancelled context wins over all.
type deadlines struct {
	user      time.Time // SetReadDeadline/SetWriteDeadline, zero for none
	call      time.Time // the call in flight's timeout or context deadline
	wake      time.Time // the end of a connect's backoff sleep
	cancelled bool      // the call in flight's context is done

	// armed is set when the file's deadline is not user alone, so that
	// the next call must set it again. Written under dlmu, read without
	// it on the fast path.
	armed atomic.Bool
	// set: the file has a deadline on this side, so that the fast path,
	// which does not look at it, is closed.
	set atomic.Bool
}

// effective is the deadline the file must have.
func (d *deadlines) effective() time.Time {
	if d.cancelled {
		return aLongTimeAgo
	}
	return earliest(earliest(d.user, d.call), d.wake)
}

// earliest returns the earlier of two deadlines, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// aLongTimeAgo is a deadline in the past: set on the file, it wakes the
// calls waiting on it.
var aLongTimeAgo = time.Unix(1, 0)

// setDeadline sets the user's deadline of one side. A call blocked now
// keeps its own timeout and its context: the earliest of them all ends it.
func (c *Conn) setDeadline(write bool, t time.Time) error {
	c.dlmu.Lock()
	defer c.dlmu.Unlock()
	if c.state.Load() != stateOpen {
		return errClosed("setdeadline")
	}
	c.side(write).user = t
	if err := c.apply(write); err != nil {
		// Close does not wait for dlmu: the file may be closed under us.
		return c.mapPollErr("setdeadline", err)
	}
	return nil
}

func (c *Conn) side(write bool) *deadlines {
	if write {
		return &c.wd
	}
	return &c.rd
}

// apply gives the file the effective deadline of one side. It is called
// with dlmu held.
func (c *Conn) apply(write bool) error {
	d := c.side(write)
	eff := d.effective()
	d.armed.Store(!eff.Equal(d.user))
	d.set.Store(!eff.IsZero())
	if write {
		return c.file.SetWriteDeadline(eff)
	}
	return c.file.SetReadDeadline(eff)
}

// mapPollErr turns what the runtime poller returns into the package's
// errors: a closed or detached socket gives net.ErrClosed, a deadline
// os.ErrDeadlineExceeded.
func (c *Conn) mapPollErr(name string, err error) error {
	if c.state.Load() != stateOpen {
		return errClosed(name)
	}
	// Close and Detach change the state before they touch the file, so
	// with the state still open the poller's error is its own (a deadline,
	// or a failure to wait at all) and is passed on as it is.
	return wrapErr(name, err)
}

// closedCheck is the first thing each call does.
func (c *Conn) closedCheck(name string) error {
	if c.state.Load() != stateOpen {
		return errClosed(name)
	}
	return nil
}
