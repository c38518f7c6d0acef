// Package capbench is the tooling of the capture benchmark: a paced UDP
// blaster, the baseline capture (a plain recvfrom(2) loop on an AF_PACKET
// socket without a ring), and a parser for the three statistics lines that
// tcpdump and rawsock sniff print. The benchmark itself (BenchmarkSniffFlood
// in cmd/rawsock) runs them side by side with tcpdump in a namespace of its
// own. It is measurement tooling, not part of the product.
package capbench

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Summary is what a capture tool reported when it ended.
type Summary struct {
	Captured uint64        // packets the tool kept (loopback's outgoing copy skipped)
	Received uint64        // packets the kernel filter passed (both copies on lo)
	Dropped  uint64        // packets the kernel dropped for want of room
	CPU      time.Duration // user and system time the capture used
}

var summaryRE = regexp.MustCompile(`(?m)^(\d+) packets? captured\n(\d+) packets? received by filter\n(\d+) packets? dropped by kernel$`)

// ParseSummary finds tcpdump's three statistics lines in a tool's standard
// error.
func ParseSummary(stderr string) (Summary, error) {
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		return Summary{}, fmt.Errorf("no statistics lines in %q", stderr)
	}
	var n [3]uint64
	for i := range n {
		v, err := strconv.ParseUint(m[i+1], 10, 64)
		if err != nil {
			return Summary{}, err
		}
		n[i] = v
	}
	return Summary{Captured: n[0], Received: n[1], Dropped: n[2]}, nil
}

// Flood describes one run of the blaster.
type Flood struct {
	Count int           // datagrams to send
	Size  int           // UDP payload bytes
	Rate  int           // datagrams per second; 0: as fast as the socket takes them
	Limit time.Duration // the run stops here even if Count is not reached
}

// Result is what a flood sent.
type Result struct {
	Sent    int
	Elapsed time.Duration
}

// PPS is the rate achieved, datagrams per second.
func (r Result) PPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

var errBadFlood = errors.New("capbench: flood needs Count > 0, Size >= 0, Rate >= 0 and Limit > 0")
