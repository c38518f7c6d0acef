package ping

import (
	"testing"
	"time"
)

// TestStatistics feeds round-trip times (in microseconds) and compares with
// what iputils 20221126 prints for them; the first four rows are real
// iputils runs on loopback (its per-reply times, then its rtt line).
func TestStatistics(t *testing.T) {
	us := time.Microsecond
	for _, tc := range []struct {
		name                      string
		rtts                      []time.Duration
		dups                      int // the last dups rtts are duplicates
		min, avg, max, mdev, ewma time.Duration
	}{
		{"iputils 127.0.0.1", []time.Duration{24 * us, 33 * us, 41 * us}, 0, 24 * us, 32 * us, 41 * us, 7 * us, 27 * us},
		{"iputils ::1", []time.Duration{147 * us, 61 * us}, 0, 61 * us, 104 * us, 147 * us, 43 * us, 136 * us},
		{"iputils localhost", []time.Duration{17 * us, 34 * us}, 0, 17 * us, 25 * us, 34 * us, 8 * us, 19 * us},
		{"iputils -q", []time.Duration{15 * us, 33 * us}, 0, 15 * us, 24 * us, 33 * us, 9 * us, 17 * us},
		{"one", []time.Duration{15 * us}, 0, 15 * us, 15 * us, 15 * us, 0, 15 * us},
		{"sub-microsecond parts are dropped", []time.Duration{1500 * time.Nanosecond, 2999 * time.Nanosecond}, 0, 1500 * time.Nanosecond, 1 * us, 2999 * time.Nanosecond, 0, 1 * us},
		{"duplicates count in the moments", []time.Duration{10 * us, 20 * us, 30 * us}, 1, 10 * us, 20 * us, 30 * us, 8 * us, 13 * us},
		// 1 and 2 µs: variance (5 - 9/2)/2 = 0.25, truncated to 0.
		// 10, 20, 30 µs: variance (1400 - 3600/3)/3 = 66, llsqrt(66) = 8.
		// tsum past INT_MAX: iputils' other branch, tsum2/n - avg².
		{"long times", []time.Duration{1500 * time.Second, 2500 * time.Second}, 0, 1500 * time.Second, 2000 * time.Second, 2500 * time.Second, 500 * time.Second, 1625 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Statistics
			for i, r := range tc.rtts {
				if i >= len(tc.rtts)-tc.dups {
					s.Duplicates++
				} else {
					s.Received++
				}
				s.addRTT(r)
			}
			s.moments(int64(s.Received + s.Duplicates))
			got := [5]time.Duration{s.Min, s.Avg, s.Max, s.Mdev, s.EWMA}
			want := [5]time.Duration{tc.min, tc.avg, tc.max, tc.mdev, tc.ewma}
			if got != want || !s.Timed {
				t.Errorf("min/avg/max/mdev/ewma = %v, want %v (timed %v)", got, want, s.Timed)
			}
		})
	}
}

func TestIsqrt(t *testing.T) {
	// llsqrt returns Newton's last iterate, not always the floor.
	for _, tc := range [][2]int64{{0, 0}, {-5, 0}, {1, 1}, {48, 7}, {49, 7}, {72, 8}, {81, 9}, {1849, 43}, {250000000000000000, 500000000}} {
		if got := isqrt(tc[0]); got != tc[1] {
			t.Errorf("isqrt(%d) = %d, want %d", tc[0], got, tc[1])
		}
	}
}

func TestLossFormula(t *testing.T) {
	for _, tc := range []struct {
		tx, rx int
		want   float64
	}{
		{0, 0, 0}, {3, 3, 0}, {3, 0, 100}, {4, 3, 25}, {3, 2, 100.0 / 3},
	} {
		s := Statistics{Transmitted: tc.tx, Received: tc.rx}
		if got := s.Loss(); got != tc.want {
			t.Errorf("Loss(%d sent, %d received) = %v, want %v", tc.tx, tc.rx, got, tc.want)
		}
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		v6        bool
		typ, code uint8
		info      uint32
		want      string
	}{
		{false, 3, 0, 0, "Destination Net Unreachable"},
		{false, 3, 1, 0, "Destination Host Unreachable"},
		{false, 3, 3, 0, "Destination Port Unreachable"},
		{false, 3, 4, 1400, "Frag needed and DF set (mtu = 1400)"},
		{false, 3, 13, 0, "Packet filtered"},
		{false, 3, 99, 0, "Dest Unreachable, Bad Code: 99"},
		{false, 11, 0, 0, "Time to live exceeded"},
		{false, 11, 1, 0, "Frag reassembly time exceeded"},
		{false, 12, 0, 20, "Parameter problem: pointer = 20"},
		{false, 42, 0, 0, "Bad ICMP type: 42"},
		{true, 1, 0, 0, "Destination unreachable: No route"},
		{true, 1, 1, 0, "Destination unreachable: Administratively prohibited"},
		{true, 1, 3, 0, "Destination unreachable: Address unreachable"},
		{true, 1, 9, 0, "Destination unreachable: Unknown code 9"},
		{true, 2, 0, 1280, "Packet too big: mtu=1280"},
		{true, 3, 0, 0, "Time exceeded: Hop limit"},
		{true, 3, 1, 0, "Time exceeded: Defragmentation failure"},
		{true, 4, 1, 40, "Parameter problem: Unknown header at 40"},
		{true, 200, 0, 0, "unknown icmp type: 200"},
	} {
		e := Event{Kind: EventError, IPv6: tc.v6, Type: tc.typ, Code: tc.code, Info: tc.info}
		if got := e.Reason(); got != tc.want {
			t.Errorf("Reason(v6 %v, type %d, code %d) = %q, want %q", tc.v6, tc.typ, tc.code, got, tc.want)
		}
	}
}
