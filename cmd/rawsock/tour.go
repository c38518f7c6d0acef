package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/rawsock/rawsock/internal/tour"
)

func init() {
	register("tour", "what this kernel and process can do, then traced loopback exchanges", runTour)
}

const tourUsage = `usage: rawsock tour

Prints the family x type x protocol matrix of this kernel, what this process
may do (CAP_NET_RAW, net.ipv4.ping_group_range) and why, then runs traced
loopback exchanges: TCP (the tutorial's timestamp server), UDP, AF_UNIX
SOCK_SEQPACKET, and fd passing with SCM_RIGHTS. Raw steps (ICMP echo to
127.0.0.1, an IP_HDRINCL datagram, and the TCP exchange seen on the wire
through an AF_PACKET capture) run with CAP_NET_RAW and are skipped, with the
reason, without it.
No arguments, no network beyond loopback.

Exit status: 0 when the tour ran (skipped steps included), 1 when a step
failed, 2 on bad usage.

Examples:
  go run ./cmd/rawsock tour
  go build -o rawsock-bin ./cmd/rawsock && sudo setcap cap_net_raw+ep ./rawsock-bin && ./rawsock-bin tour
`

func runTour(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tour", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tourUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rawsock tour: takes no arguments, got %q\n", fs.Args())
		return 2
	}
	if err := tour.Run(stdout, tour.Options{}); err != nil {
		fmt.Fprintf(stderr, "rawsock tour: %v\n", err)
		return 1
	}
	return 0
}
