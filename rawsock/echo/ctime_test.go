package echo

import (
	"testing"
	"time"
)

func TestCtime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2016, 9, 13, 19, 11, 20, 0, time.UTC), "Tue Sep 13 19:11:20 2016"}, // the tutorial's
		{time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC), "Sat Feb  3 04:05:06 2024"},     // day padded with a space
		{time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), "Fri Dec 31 23:59:59 1999"},
	} {
		got := Ctime(tc.t)
		if got != tc.want || len(got) != CtimeLen {
			t.Errorf("Ctime(%v) = %q, want %q", tc.t, got, tc.want)
		}
		if !IsCtime([]byte(got)) {
			t.Errorf("IsCtime(%q) = false", got)
		}
		var s stamper
		b := make([]byte, CtimeLen)
		s.stamp(b, tc.t)
		if string(b) != tc.want {
			t.Errorf("stamp(%v) = %q, want %q", tc.t, b, tc.want)
		}
	}
}

func TestStamperFollowsTheClock(t *testing.T) {
	var s stamper
	b := make([]byte, CtimeLen)
	t0 := time.Date(2016, 9, 13, 19, 11, 20, 0, time.UTC)
	s.stamp(b, t0)
	s.stamp(b, t0.Add(999*time.Millisecond))
	if string(b) != "Tue Sep 13 19:11:20 2016" {
		t.Errorf("same second: %q", b)
	}
	s.stamp(b, t0.Add(time.Second))
	if string(b) != "Tue Sep 13 19:11:21 2016" {
		t.Errorf("next second: %q", b)
	}
}

func TestIsCtime(t *testing.T) {
	for _, s := range []string{
		"",
		"Tue Sep 13 19:11:20 2016x",
		"Tue Sep 13 19:11:20 201",
		"tue Sep 13 19:11:20 2016",
		"Tue Spt 13 19:11:20 2016",
		"Tue Sep 43 19:11:20 2016",
		"Tue Sep 13 19-11:20 2016",
		"Tue Sep 13 19:11:20 20x6",
		"Tue Sep 13 19:11:20_2016",
		"Tuesday Sep 13 19:11:20 ",
	} {
		if IsCtime([]byte(s)) {
			t.Errorf("IsCtime(%q) = true", s)
		}
	}
}

// BenchmarkStamp: a stamp per answer costs a copy, and allocates nothing.
func BenchmarkStamp(b *testing.B) {
	var s stamper
	buf := make([]byte, CtimeLen)
	b.ReportAllocs()
	for b.Loop() {
		s.stamp(buf, time.Now())
	}
}

func TestStampAllocs(t *testing.T) {
	var s stamper
	buf := make([]byte, CtimeLen)
	if n := testing.AllocsPerRun(100, func() { s.stamp(buf, time.Now()) }); n != 0 {
		t.Errorf("stamp: %v allocs, want 0", n)
	}
}
