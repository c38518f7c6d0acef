package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rawsock/rawsock/rawsock/ping"
)

func init() {
	register("ping", "ICMP echo, as iputils ping (-c -i -s -t -W -w -f -l -A -p -Q -M -b -D -O -U -a -v ..., --json)", runPing)
}

const pingUsage = `usage: rawsock ping [options] <destination>

ICMP echo requests to <destination>, as iputils ping(8): the same options,
output and exit status (0: a reply came, 1: none, 2: an error).

options:
  -c <count>     stop after <count> replies (with -w: wait for them until the deadline)
  -i <interval>  seconds between requests (default 1; below 0.002 needs root)
  -s <size>      data bytes per request (default 56)
  -t <ttl>       time to live (hop limit)
  -W <timeout>   seconds to wait for a reply after the last request (default 10)
  -w <deadline>  seconds before ping exits, whatever was sent or received
  -f             flood: a request as soon as the last is answered, or 100 a
                 second; prints '.' per request and a backspace per reply (root)
  -l <preload>   send <preload> requests at once at the start (above 3: root)
  -A             adaptive: the interval follows the round-trip time
  -p <pattern>   up to 16 bytes in hex to fill the data with (-p ff00)
  -Q <tos>       type of service (IPv6: traffic class), decimal or 0x hex
  -M <do|want|dont> path MTU discovery: forbid, allow or never fragment
  -e <id>        echo identifier (the local port of an unprivileged socket)
  -b             allow a broadcast destination
  -I <iface|addr> send out of an interface (SO_BINDTODEVICE) or from an address
  -D             print the time (seconds since 1970) before each line
  -O             report a request not yet answered when the next one leaves
  -U             time to the moment ping reads the reply, not the kernel's
                 receive time (user-to-user latency)
  -a             audible: a bell with each reply
  -q             quiet: only the first line and the statistics
  -n             numeric: no reverse lookup of reply addresses
  -v             verbose: the identifier of each reply
  -4, -6         IPv4 only, IPv6 only
  -V             print the version and exit
  --json         one JSON object per line instead of the text (see the README)

The socket is the unprivileged ICMP one when net.ipv4.ping_group_range admits
your group, else a raw socket (root or CAP_NET_RAW); after opening it, ping
gives up root (to SUDO_UID or nobody) and every capability. Ctrl-C (SIGINT)
and SIGTERM stop it and print the statistics; Ctrl-\ (SIGQUIT) prints a
status line on standard error and goes on.

examples:
  rawsock ping -c 3 127.0.0.1
  rawsock ping -6 -c 3 -i 0.2 ::1
  sudo rawsock ping -f -c 10000 127.0.0.1
  rawsock ping -c 5 -W 1 --json 127.0.0.1
`

// pingVersion is what -V prints.
const pingVersion = "ping from rawsock, imitating iputils 20221126\n"

func runPing(args []string, stdout, stderr io.Writer) int {
	o, err := parsePingArgs(args)
	if err != nil {
		var ae *pingArgError
		errors.As(err, &ae)
		if ae.msg != "" {
			fmt.Fprintf(stderr, "ping: %s\n", ae.msg)
		}
		if ae.usage {
			fmt.Fprint(stderr, pingUsage)
		}
		return ae.code
	}
	if o.version {
		fmt.Fprint(stdout, pingVersion)
		return 0
	}
	// iputils: a user other than root may not go below 2 ms (so no flood)
	// nor preload more than 3.
	if os.Getuid() != 0 && o.effectiveInterval() < ping.MinUserInterval {
		fmt.Fprintf(stderr, "ping: cannot flood; minimal interval allowed for user is %dms\n", ping.MinUserInterval.Milliseconds())
		return 2
	}
	if os.Getuid() != 0 && o.preload > 3 {
		fmt.Fprintf(stderr, "ping: cannot set preload to value greater than 3: %d\n", o.preload)
		return 2
	}
	dst, numeric, err := resolveTarget(o.host, o.family)
	if err != nil {
		fmt.Fprintf(stderr, "ping: %v\n", err)
		return 2
	}
	cfg := o.config()
	cfg.Dst = dst
	if cfg.Source.IsValid() && cfg.Source.Is6() != dst.Is6() {
		fmt.Fprintf(stderr, "ping: invalid source address: %s\n", o.iface)
		return 2
	}
	if o.pattern != "" && !o.quiet {
		fmt.Fprintf(stdout, "PATTERN: 0x%x\n", o.pattern)
	}
	p, err := ping.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, ping.ErrorText(err)) // "cannot set unicast time-to-live: Invalid argument"
		return 2
	}
	defer p.Close()
	if o.broadcast && isBroadcast(dst) && !o.quiet {
		fmt.Fprintln(stderr, "WARNING: pinging broadcast address")
	}
	if !dropPrivilegesOrExit("ping: ", stderr) {
		return 2
	}

	// The printer: iputils' text, or --json lines.
	var (
		event      func(*ping.Event)
		status     func(*ping.Statistics)
		statistics func(*ping.Statistics) error
	)
	if o.json {
		j := &ping.JSONPrinter{W: stdout, Err: stderr, Host: o.host}
		j.Start(p)
		event, status, statistics = j.Event, j.Status, j.Summary
	} else {
		pr := o.printer(numeric)
		pr.W, pr.Err, pr.Dst, pr.Size, pr.Timed, pr.ID, pr.Payload = stdout, stderr, dst, p.Size(), p.Timed(), p.ID(), p.Payload()
		pr.Header(p.Source())
		event, status, statistics = pr.Event, pr.Status, pr.Statistics
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// SIGINT and SIGTERM end the run and print the statistics; SIGQUIT
	// prints iputils' status line and the run goes on.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sig)
	go func() {
		for {
			select {
			case s := <-sig:
				if s == syscall.SIGQUIT {
					st := p.Statistics()
					status(&st)
					continue
				}
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()

	st, err := p.Run(ctx, event)
	statistics(&st)
	if err != nil {
		fmt.Fprintf(stderr, "ping: %v\n", err)
		return 2
	}
	if st.Received == 0 || o.deadline > 0 && o.count > 0 && st.Received < o.count {
		return 1
	}
	return 0
}
