package echobench

import (
	"os"
	"testing"
	"time"
)

// TestCPUTime: the /proc reading grows as this process burns CPU
// (by 50ms within 10s of spinning, however busy the machine).
func TestCPUTime(t *testing.T) {
	t0 := cpuTime(os.Getpid())
	if t0 < 0 {
		t.Skip("no /proc/PID/stat here")
	}
	t1 := t0
	for start := time.Now(); t1 < t0+50*time.Millisecond && time.Since(start) < 10*time.Second; {
		for i := 0; i < 1e6; i++ {
			t1 += 0 // spin
		}
		t1 = cpuTime(os.Getpid())
	}
	if t1 < t0+50*time.Millisecond {
		t.Errorf("CPU time went from %v only to %v over 10s of spinning", t0, t1)
	}
	if cpuTime(-1) != -1 {
		t.Error("no process -1, yet a CPU time")
	}
}
