package echobench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// cell is one measurement.
type cell struct {
	server string
	conns  int
	res    LoadResult
	cpu    time.Duration // server CPU time per round trip, 0 if unknown
	ccpu   time.Duration // client (this process) CPU time per round trip
	err    error
}

// wall is the measured round trips/s.
func (c cell) wall() float64 { return c.res.Rate() }

// cpuRate is round trips per CPU-second of server and client together:
// the rate one CPU they had to themselves would give, whatever else the
// machine ran meanwhile. 0 if unknown.
func (c cell) cpuRate() float64 {
	if c.cpu <= 0 || c.ccpu <= 0 {
		return 0
	}
	return float64(time.Second) / float64(c.cpu+c.ccpu)
}

// serverRate is round trips per CPU-second of the server alone: what the
// server would do if the client cost nothing. 0 if unknown.
func (c cell) serverRate() float64 {
	if c.cpu <= 0 {
		return 0
	}
	return float64(time.Second) / float64(c.cpu)
}

// rate returns metric of server at conns, 0 if none.
func rate(cells []cell, server string, conns int, metric func(cell) float64) float64 {
	for _, c := range cells {
		if c.server == server && c.conns == conns && c.err == nil {
			return metric(c)
		}
	}
	return 0
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
	return d.Round(time.Millisecond).String()
}

var (
	netName = ServerByKey("net").Name
	cName   = ServerByKey("c").Name
)

func printTable(w io.Writer, cells []cell) {
	fmt.Fprintln(w, "| server | conns | round trips/s | p50 | p99 | vs net | vs C |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		if c.err != nil {
			fmt.Fprintf(w, "| %s | %d | failed: %s | | | | |\n", c.server, c.conns, oneLine(c.err))
			continue
		}
		r := c.wall()
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %s |\n", c.server, c.conns, r, dur(c.res.P50), dur(c.res.P99),
			ratio(r, rate(cells, netName, c.conns, cell.wall)), ratio(r, rate(cells, cName, c.conns, cell.wall)))
	}
}

// printCost prints what each round trip cost in CPU time: the figure
// a loaded machine disturbs least.
func printCost(w io.Writer, cells []cell) {
	fmt.Fprintln(w, "| server | conns | server CPU per round trip | client CPU per round trip | round trips per CPU-second | vs net | vs C |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		r := c.cpuRate()
		if c.err != nil || r == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f | %s | %s |\n", c.server, c.conns, dur(c.cpu), dur(c.ccpu), r,
			ratio(r, rate(cells, netName, c.conns, cell.cpuRate)), ratio(r, rate(cells, cName, c.conns, cell.cpuRate)))
	}
}

// printTargets checks issue 3's targets: rawsock's faster mode at
// least 1.2x net and 0.8x C at every connection count, on metric.
func printTargets(w io.Writer, cells []cell, conns []int, what string, metric func(cell) float64) {
	for _, n := range conns {
		best, mode := 0.0, ""
		for _, key := range []string{"rawsock", "rawsock-epoll"} {
			name := ServerByKey(key).Name
			if r := rate(cells, name, n, metric); r > best {
				best, mode = r, name
			}
		}
		if best == 0 {
			fmt.Fprintf(w, "target at %d conns (%s): no rawsock serve figure\n", n, what)
			continue
		}
		line := fmt.Sprintf("target at %d conns (%s): %s %.0f/s", n, what, mode, best)
		if net := rate(cells, netName, n, metric); net > 0 {
			line += fmt.Sprintf("; vs net %.2fx (want >= 1.20: %s)", best/net, met(best >= 1.2*net))
		}
		if c := rate(cells, cName, n, metric); c > 0 {
			line += fmt.Sprintf("; vs C %.2fx (want >= 0.80: %s)", best/c, met(best >= 0.8*c))
		}
		fmt.Fprintln(w, line)
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func printBig(w io.Writer, cells []cell) {
	fmt.Fprintln(w, "| server | conns held | round trips | round trips/s | p50 | p99 | verified |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, c := range cells {
		if c.err != nil {
			fmt.Fprintf(w, "| %s | %d | failed: %s | | | | no |\n", c.server, c.res.Conns, oneLine(c.err))
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %s | %s | %v |\n", c.server, c.res.Conns, c.res.RoundTrips, c.res.Rate(),
			dur(c.res.P50), dur(c.res.P99), yesNo(c.res.Verified))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes, every byte"
	}
	return "no"
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	return strings.ReplaceAll(s, "|", "/")
}
