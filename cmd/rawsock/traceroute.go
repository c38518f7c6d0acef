package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/rawsock/rawsock/rawsock/traceroute"
)

func init() {
	register("traceroute", "the route to a host, hop by hop, as traceroute (-I -T -U -n -m -q -w -z -f -p -N -s -i -F --mtu -4 -6)", runTraceroute)
}

const tracerouteUsage = `usage: rawsock traceroute [options] host [packetlen]

Prints the route to host as the Linux traceroute(8) does: probes with TTL
1, 2, 3, ... and, for each hop, who answered and how fast.

  traceroute to host (addr), 30 hops max, 60 byte packets
   1  router (10.0.0.1)  0.271 ms  0.203 ms  0.187 ms
   2  * * *

'*' is a probe nothing answered within the wait; !H, !N, !P, !X, !F, !S,
!V, !C or !<code> after a time marks a destination unreachable (host,
network, protocol, prohibited, fragmentation needed, source route,
precedence, cutoff) and ends the trace.

options:
  -I             ICMP echo probes (an unprivileged ICMP socket where
                 net.ipv4.ping_group_range allows, else a raw one: root)
  -T             TCP SYN probes, to port 80 unless -p (raw sockets: root
                 or setcap cap_net_raw+ep)
  -U             UDP probes all to one port, 53 unless -p, each from a
                 socket of its own (no privilege); without -I, -T or -U
                 UDP probes go to port 33434 and up, one port each
  -n             numeric: no reverse lookup of addresses (each lookup is
                 given at most 1 s)
  -4, -6         IPv4 only, IPv6 only
  long forms:    --icmp --tcp --udp --dont-fragment --mtu, and with a
                 joined value --first= --max-hops= --queries= --wait=
                 --sim-queries= --port= --source= --interface= --sendwait=
  -f first_ttl   start at this hop (default 1)
  -m max_ttl     at most this many hops (default 30)
  -q nqueries    probes per hop (default 3, at most 10)
  -w MAX,HERE,NEAR
                 how long to wait for a probe's answer (default 5,3,10):
                 HERE times the round trip of an answer from the same
                 hop, else NEAR times that of an answer from a later hop,
                 else MAX seconds, and never more than MAX. A factor of 0
                 skips its rule; MAX alone sets both to 0; -w 0 waits for
                 nothing. Any one character may separate them.
  -z sendwait    least time between probes: seconds, or milliseconds
                 when 10 or more (default 0)
  -N squeries    probes in flight at once (default 16)
  -p port        UDP: first destination port (default 33434, +1 per
                 probe); -T and -U: destination port (80, 53); ICMP:
                 first sequence
  -s src_addr    send from this address
  -i interface   send through this interface (SO_BINDTODEVICE)
  -F             do not fragment: DF set, a link too small for a probe
                 answers !F-<mtu>
  --mtu          discover the MTU along the path: -F -N 1, and a probe
                 too big is sent again at the MTU reported, printed once
                 as F=<mtu> (UDP and ICMP; TCP probes keep their length)
  packetlen      probe length, IP header included (default 60, IPv6 80;
                 with --mtu 65000); raised to the headers if shorter, as
                 traceroute; TCP probes ignore it

Once its sockets are open and before the first probe, traceroute gives up
root (to SUDO_UID or nobody) and every capability, as ping does.

Exit status: 0 when the trace ran (reaching the host or not); 1 when it
failed midway (the error named); 2 for bad options, an unknown host, or
sockets this process may not open; 130 after Ctrl-C, which stops it.

examples:
  rawsock traceroute -n 127.0.0.1
  rawsock traceroute -n -w 1 -q 1 192.0.2.7
  rawsock traceroute -n fe80::1%eth0
  rawsock traceroute -n --mtu 192.0.2.7
  sudo rawsock traceroute -T -p 443 example.net
`

// tracerouteLong are traceroute's long options and their letters; those
// with a value take it joined (--wait=5), as traceroute does.
var tracerouteLong = map[string]byte{
	"icmp": 'I', "tcp": 'T', "udp": 'U', "dont-fragment": 'F', "first": 'f', "max-hops": 'm', "queries": 'q',
	"wait": 'w', "sim-queries": 'N', "port": 'p', "source": 's', "interface": 'i', "sendwait": 'z',
}

// tracerouteOpts are the command line, parsed.
type tracerouteOpts struct {
	cfg     traceroute.Config
	family  int // 0, 4 or 6
	numeric bool
	host    string
	src     string
}

// parseTracerouteArgs parses args as traceroute's getopt does.
func parseTracerouteArgs(args []string) (*tracerouteOpts, error) {
	o := &tracerouteOpts{}
	const withValue = "fmqwNpsiz"
	long := func(a string) error {
		name, val, hasVal := strings.Cut(a[2:], "=")
		c, ok := tracerouteLong[name]
		flag := name == "help" || name == "mtu" || ok && strings.IndexByte(withValue, c) < 0
		switch {
		case flag && hasVal:
			return fmt.Errorf("option --%s takes no value", name)
		case name == "help":
			return errHelp
		case name == "mtu":
			o.cfg.DiscoverMTU = true
			return nil
		case !ok:
			return fmt.Errorf("unknown option %s", a)
		case flag:
			return o.flag(c)
		case !hasVal:
			// As traceroute: the value is joined, --max-hops=5.
			return fmt.Errorf("option --%s needs a value: --%s=VALUE", name, name)
		}
		return o.value(c, val)
	}
	rest, err := getopt(args, withValue, "option -%c needs a value", long, func(c byte, val string) error {
		switch {
		case c == 'h':
			return errHelp
		case strings.IndexByte(withValue, c) < 0:
			return o.flag(c)
		}
		return o.value(c, val)
	})
	if err != nil {
		return nil, err
	}
	switch len(rest) {
	case 0:
		return nil, errors.New("no host given")
	case 2:
		n, err := strconv.Atoi(rest[1])
		if err != nil {
			return nil, fmt.Errorf("packetlen %q: want a number of bytes", rest[1])
		}
		o.cfg.PacketLen = n
	case 1:
	default:
		return nil, fmt.Errorf("too many arguments: %q (want host [packetlen])", rest)
	}
	o.host = rest[0]
	return o, nil
}

func (o *tracerouteOpts) flag(c byte) error {
	switch c {
	case 'I':
		o.cfg.Method = traceroute.ICMP
	case 'T':
		o.cfg.Method = traceroute.TCP
	case 'U':
		o.cfg.Method = traceroute.UDPPort
	case 'n':
		o.numeric = true
	case 'F':
		o.cfg.DontFragment = true
	case '4':
		o.family = 4
	case '6':
		o.family = 6
	default:
		return fmt.Errorf("unknown option -%c", c)
	}
	return nil
}

func (o *tracerouteOpts) value(c byte, v string) error {
	switch c {
	case 's':
		o.src = v
		return nil
	case 'i':
		o.cfg.Device = v
		return nil
	case 'w':
		return o.waitSpec(v)
	case 'z':
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= maxSeconds) {
			return fmt.Errorf("-z %s: want a number of seconds, or of milliseconds from 10", v)
		}
		if f >= 10 { // as traceroute: milliseconds
			f /= 1000
		}
		o.cfg.SendInterval = time.Duration(f * float64(time.Second))
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("-%c %s: want a number", c, v)
	}
	// 0 would mean "the default" to the library: refuse it here, as
	// traceroute does.
	if n < 1 && c != 'p' {
		return fmt.Errorf("-%c %d: want at least 1", c, n)
	}
	switch c {
	case 'f':
		o.cfg.FirstTTL = n
	case 'm':
		o.cfg.MaxTTL = n
	case 'q':
		o.cfg.Queries = n
	case 'N':
		o.cfg.SimProbes = n
	case 'p':
		o.cfg.Port = n
	}
	return nil
}

// maxSeconds bounds -w and -z: a time.Duration holds 292 years.
const maxSeconds = 1e9

// waitSpec parses -w MAX[,HERE[,NEAR]] as traceroute's set_wait_specs
// does: numbers separated by any one character, MAX alone setting both
// factors to 0, and 0 meaning none (NoWait, Off) to the library.
func (o *tracerouteOpts) waitSpec(v string) error {
	bad := fmt.Errorf("-w %s: want MAX[,HERE[,NEAR]], numbers of 0 or more (seconds, factors)", v)
	var f [3]float64
	rest := v
	for i := range f {
		n, ok := floatPrefix(rest)
		if !ok {
			return bad
		}
		f[i], rest = mustFloat(rest[:n]), rest[n:]
		if !(f[i] >= 0 && f[i] <= maxSeconds) { // NaN too
			return bad
		}
		if rest == "" {
			break
		}
		if i == 2 {
			return bad // something after NEAR
		}
		rest = rest[1:] // the separator, whatever it is
	}
	o.cfg.Wait = time.Duration(f[0] * float64(time.Second))
	if o.cfg.Wait == 0 {
		o.cfg.Wait = traceroute.NoWait
	}
	o.cfg.Here, o.cfg.Near = f[1], f[2]
	if f[1] == 0 {
		o.cfg.Here = traceroute.Off
	}
	if f[2] == 0 {
		o.cfg.Near = traceroute.Off
	}
	return nil
}

// floatPrefix returns the length of the longest prefix of s that is a
// number (strtod's reading), and false if none is; negative numbers are
// read, for the caller to refuse.
func floatPrefix(s string) (int, bool) {
	for n := len(s); n > 0; n-- {
		if _, err := strconv.ParseFloat(s[:n], 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func runTraceroute(args []string, stdout, stderr io.Writer) int {
	o, err := parseTracerouteArgs(args)
	if err != nil {
		if errors.Is(err, errHelp) {
			io.WriteString(stderr, tracerouteUsage)
			return 0
		}
		fmt.Fprintf(stderr, "rawsock traceroute: %v (run 'rawsock traceroute -h' for the options)\n", err)
		return 2
	}
	dst, _, err := resolveTarget(o.host, o.family)
	if err != nil {
		fmt.Fprintf(stderr, "rawsock traceroute: %v\n", err)
		return 2
	}
	o.cfg.Dst = dst
	if o.src != "" {
		src, _, err := resolveTarget(o.src, map[bool]int{true: 6, false: 4}[dst.Is6()])
		if err != nil {
			fmt.Fprintf(stderr, "rawsock traceroute: -s %v\n", err)
			return 2
		}
		o.cfg.Src = src
	}
	tr, err := traceroute.New(o.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "rawsock traceroute: %v\n", strings.TrimPrefix(err.Error(), "traceroute: "))
		return 2
	}
	defer tr.Close()
	// New opened every socket of the trace: give up root and capabilities
	// before the first probe, as ping does.
	if !dropPrivilegesOrExit("rawsock traceroute: ", stderr) {
		return 2
	}

	p := &traceroute.Printer{W: stdout, Numeric: o.numeric, Names: &traceroute.Names{}}
	cfg := tr.Config()
	if dst.Zone() != "" {
		dst = cfg.Dst // as traceroute prints it: fe80::1%eth0 for fe80::1%2
	}
	p.Header(o.host, dst, cfg.MaxTTL, tr.PacketLen())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	_, err = tr.Run(ctx, func(h *traceroute.Hop) { p.Hop(h) })
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		return 130 // Ctrl-C: what a shell reports for SIGINT, as traceroute ends then
	}
	fmt.Fprintf(stderr, "rawsock traceroute: %v\n", err)
	return 1
}
