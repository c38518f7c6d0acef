//go:build !linux

package echobench

import (
	"fmt"
	"runtime"
	"time"
)

// pinSelf needs sched_setaffinity(2) and /proc/self/task.
func pinSelf(cpu int) error {
	return fmt.Errorf("pinning to CPU %d: not implemented on %s (use --cpu -1)", cpu, runtime.GOOS)
}

// selfCPU is unknown here: the cost table is left out.
func selfCPU() time.Duration { return 0 }

// cpuTime is unknown without /proc/PID/stat.
func cpuTime(pid int) time.Duration { return -1 }
