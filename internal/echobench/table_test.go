package echobench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestTable checks the ratios and the target verdicts on made-up
// figures.
func TestTable(t *testing.T) {
	res := func(rate float64) LoadResult {
		return LoadResult{RoundTrips: int64(rate), Elapsed: time.Second, P50: 10 * time.Microsecond, P99: 2 * time.Millisecond, Verified: true}
	}
	us := time.Microsecond
	goName, epName := ServerByKey("rawsock").Name, ServerByKey("rawsock-epoll").Name
	cells := []cell{
		{server: netName, conns: 1, res: res(1000), cpu: 8 * us, ccpu: 2 * us},
		{server: cName, conns: 1, res: res(2000), cpu: 4 * us, ccpu: 1 * us},
		{server: goName, conns: 1, res: res(1100)},
		{server: epName, conns: 1, res: res(1700), cpu: 6 * us, ccpu: 2 * us},
		{server: netName, conns: 16, res: res(1000)},
		{server: cName, conns: 16, res: res(1000)},
		{server: goName, conns: 16, res: res(1150), cpu: 3 * us, ccpu: 1 * us},
		{server: epName, conns: 16, err: context.DeadlineExceeded},
	}
	var b bytes.Buffer
	printTable(&b, cells)
	printCost(&b, cells)
	printTargets(&b, cells, []int{1, 16}, "round trips/s", cell.wall)
	printTargets(&b, cells, []int{1, 16}, "per CPU-second", cell.cpuRate)
	printTargets(&b, cells, []int{1}, "per server CPU-second", cell.serverRate)
	out := b.String()
	for _, want := range []string{
		"| " + epName + " | 1 | 1700 | 10.0 µs | 2.00 ms | 1.70 | 0.85 |",
		"| " + goName + " | 16 | 1150 | 10.0 µs | 2.00 ms | 1.15 | 1.15 |",
		"| " + epName + " | 16 | failed: context deadline exceeded |",
		"| " + epName + " | 1 | 6.0 µs | 2.0 µs | 125000 | 1.25 | 0.62 |",
		"| " + goName + " | 16 | 3.0 µs | 1.0 µs | 250000 | - | - |",
		"target at 1 conns (round trips/s): " + epName + " 1700/s; vs net 1.70x (want >= 1.20: met); vs C 0.85x (want >= 0.80: met)",
		"target at 16 conns (round trips/s): " + goName + " 1150/s; vs net 1.15x (want >= 1.20: MISSED); vs C 1.15x (want >= 0.80: met)",
		"target at 1 conns (per CPU-second): " + epName + " 125000/s; vs net 1.25x (want >= 1.20: met); vs C 0.62x (want >= 0.80: MISSED)",
		"target at 1 conns (per server CPU-second): " + epName + " 166667/s; vs net 1.33x (want >= 1.20: met); vs C 0.67x (want >= 0.80: MISSED)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
