package echobench

import (
	"bytes"
	"fmt"
	"time"
)

// loadStampLen is the length of a ctime(3) string without its newline.
const loadStampLen = 24

// loadFramer re-frames one answer, [ctime][chunk][ctime][chunk]..., whose
// chunks must spell the message sent. A chunk holds only [a-z0-9]; an
// upper-case byte starts the next timestamp.
type loadFramer struct {
	want    []byte
	pos     int  // message bytes matched so far
	inStamp bool // reading a timestamp (stampN bytes of it so far)
	stampN  int
	seg     int // message bytes in the current segment
	skew    time.Duration

	stamp    [loadStampLen]byte
	last     [loadStampLen]byte // the last timestamp that passed the full check
	haveLast bool
}

func (f *loadFramer) reset(want []byte, skew time.Duration) {
	f.want, f.pos, f.inStamp, f.stampN, f.seg, f.skew = want, 0, true, 0, 0, skew
}

// done reports whether the whole message has come back.
func (f *loadFramer) done() bool { return f.pos == len(f.want) }

// feed checks the next bytes of the answer; off is their offset in it.
func (f *loadFramer) feed(b []byte, off int) error {
	for i := 0; i < len(b); {
		if f.done() {
			return fmt.Errorf("reply bytes %d-%d: %q after the end of the answer", off+i, off+len(b)-1, b[i:])
		}
		if f.inStamp {
			if f.stampN == 0 && !isUpper(b[i]) {
				return fmt.Errorf("reply byte %d: %q where a ctime timestamp should start", off+i, b[i])
			}
			k := copy(f.stamp[f.stampN:], b[i:])
			f.stampN += k
			i += k
			if f.stampN == loadStampLen {
				if err := f.checkStamp(); err != nil {
					return fmt.Errorf("reply bytes %d-%d: %w", off+i-loadStampLen, off+i-1, err)
				}
				f.inStamp, f.seg = false, 0
			}
			continue
		}
		// The common case: the rest of the message in one piece. The
		// message has no upper-case byte, so a match holds no timestamp.
		if rest := f.want[f.pos:]; len(b)-i >= len(rest) && bytes.Equal(b[i:i+len(rest)], rest) {
			f.pos += len(rest)
			f.seg += len(rest)
			i += len(rest)
			continue
		}
		c := b[i]
		if isUpper(c) {
			if f.seg == 0 {
				return fmt.Errorf("reply byte %d: a timestamp with no data after it", off+i)
			}
			f.inStamp, f.stampN = true, 0
			continue
		}
		if c != f.want[f.pos] {
			return fmt.Errorf("reply byte %d: got %q, want %q (message byte %d of %d)", off+i, c, f.want[f.pos], f.pos, len(f.want))
		}
		f.pos++
		f.seg++
		i++
	}
	if f.done() && f.inStamp {
		return fmt.Errorf("reply ends in a timestamp with no data after it")
	}
	return nil
}

// checkStamp checks a timestamp in full the first time it is seen: it must
// be what C's ctime(3) prints for its own date (so the weekday matches the
// date and the day is space-padded), within skew of this host's clock.
func (f *loadFramer) checkStamp() error {
	if f.haveLast && f.stamp == f.last {
		return nil
	}
	s := string(f.stamp[:])
	t, err := time.ParseInLocation(time.ANSIC, s, time.Local)
	if err != nil {
		return fmt.Errorf("timestamp %q is not a ctime: %v", s, err)
	}
	if canon := t.Format(time.ANSIC); canon != s {
		return fmt.Errorf("timestamp %q is not a ctime: that date prints as %q", s, canon)
	}
	// ctime drops the fraction of the second: the stamp may be up to 1s
	// behind the clock that read it.
	if d := time.Since(t); f.skew > 0 && (d > f.skew+time.Second || d < -f.skew) {
		return fmt.Errorf("timestamp %q is %v away from this host's clock (more than %v)", s, d.Round(time.Second), f.skew)
	}
	f.last, f.haveLast = f.stamp, true
	return nil
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
