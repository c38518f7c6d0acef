package ping

import (
	"math"
	"time"
)

// Statistics are a run's counts, as iputils ping keeps them.
type Statistics struct {
	Transmitted int // requests sent (or that failed to send: iputils counts those too)
	Received    int // requests answered, each once
	Duplicates  int // replies beyond the first to the same request
	Errors      int // ICMP errors about our requests, and local send errors
	Timeouts    int // Timeout events (a late reply may still have come)
	// Corrupted counts echo replies with a bad ICMP checksum (raw IPv4
	// sockets only: elsewhere the kernel checks it and drops them); they
	// are not Received (iputils' "+N corrupted").
	Corrupted int
	// Ignored counts what the socket delivered that was not ours: another
	// pinger's replies, errors about other traffic. The kernel filters keep
	// it near zero (a flood's, those queued before its first foreign packet
	// attached the BPF one); it is here so a test can prove it.
	Ignored int

	// Timed says whether the round-trip times below mean anything: the
	// requests carried a timestamp and at least one reply came.
	Timed bool
	// Min, Avg, Max and Mdev summarize the round-trip times of every reply,
	// duplicates included, as iputils does: Avg and Mdev are computed in
	// whole microseconds with iputils' integer arithmetic, Mdev being the
	// population standard deviation sqrt(mean(t²) - mean(t)²).
	Min, Avg, Max, Mdev time.Duration
	// EWMA is iputils' smoothed round-trip time (weight 1/8), shown with
	// the flood's "ipg/ewma".
	EWMA time.Duration
	// Pipe is the most requests seen in flight when one was answered
	// (iputils' "pipe N", printed when above 1).
	Pipe int
	// Time runs from the first request to the last, as iputils' "time".
	Time time.Duration

	tsum, tsum2 float64 // microseconds, and their squares (doubles, as in iputils 20221126)
	rtt8        int64   // 8 times the EWMA, in microseconds
}

// Loss returns the percentage of requests not answered:
// (Transmitted - Received) * 100 / Transmitted, as iputils computes it.
func (s *Statistics) Loss() float64 {
	if s.Transmitted == 0 {
		return 0
	}
	return float64(s.Transmitted-s.Received) * 100 / float64(s.Transmitted)
}

// addRTT takes one round-trip time into the moments, as iputils'
// gather_statistics does (in microseconds).
func (s *Statistics) addRTT(rtt time.Duration) {
	us := rtt.Microseconds()
	if !s.Timed || rtt < s.Min {
		s.Min = rtt
	}
	if !s.Timed || rtt > s.Max {
		s.Max = rtt
	}
	s.Timed = true
	s.tsum += float64(us)
	s.tsum2 += float64(us * us)
	if s.rtt8 == 0 {
		s.rtt8 = us * 8
	} else {
		s.rtt8 += us - s.rtt8/8
	}
	s.EWMA = time.Duration(s.rtt8/8) * time.Microsecond
}

// moments computes Avg and Mdev over total replies with iputils'
// finish() (Debian 12's 20221126): the "slightly clumsy computation order"
// for small times, the variance truncated to whole microseconds², and
// llsqrt, whose Newton iteration may end one above the floor.
func (s *Statistics) moments(total int64) {
	n := float64(total)
	avg := int64(s.tsum / n)
	var variance int64
	if s.tsum < math.MaxInt32 {
		variance = int64((s.tsum2 - s.tsum*s.tsum/n) / n)
	} else {
		variance = int64(s.tsum2/n - float64(avg*avg))
	}
	s.Avg = time.Duration(avg) * time.Microsecond
	s.Mdev = time.Duration(isqrt(variance)) * time.Microsecond
}

// isqrt is iputils' llsqrt: Newton's method on integers, returning the
// last iterate (isqrt(48) is 7).
func isqrt(a int64) int64 {
	if a <= 0 {
		return 0
	}
	prev, x := int64(math.MaxInt64), a
	for x < prev {
		prev = x
		x = (x + a/x) / 2
	}
	return x
}
