package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock/ping"
)

func init() {
	register("ping", "ICMP echo, as iputils ping (-c -i -s -t -W -w -f -q -n -4 -6 -I, --json)", runPing)
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

// pingOpts are the command line, parsed.
type pingOpts struct {
	count       int
	interval    time.Duration
	intervalSet bool
	size        int
	sizeSet     bool
	ttl         int
	ttlSet      bool
	timeout     time.Duration
	deadline    int
	flood       bool
	quiet       bool
	numeric     bool
	family      int // 0, 4 or 6
	iface       string
	json        bool
	host        string

	preload   int
	adaptive  bool
	pattern   string // the bytes, as a string so that pingOpts compares
	tos       int
	pmtu      ping.PMTUDisc
	id        int
	broadcast bool
	stamps    bool // -D
	pending   bool // -O
	user      bool // -U
	audible   bool
	verbose   bool
	version   bool
}

// pingArgError is a bad command line: the message, the exit status
// iputils gives it (1 for a number out of range, 2 otherwise), and
// whether the usage follows (only for an unknown option, as in iputils).
type pingArgError struct {
	msg   string
	code  int
	usage bool
}

func (e *pingArgError) Error() string { return e.msg }

func argErr(code int, format string, a ...any) error {
	return &pingArgError{msg: fmt.Sprintf(format, a...), code: code}
}

// errUsage asks for the usage text (-h), which iputils ends with status 2.
var errUsage = &pingArgError{code: 2, usage: true}

// pingValueOpts are the options that take a value.
const pingValueOpts = "cisItWwlpQMe"

// parsePingArgs parses args as getopt(3) does for iputils: options may be
// grouped (-qc3), take their value attached or as the next word, and may
// follow the destination; "--" ends them.
func parsePingArgs(args []string) (*pingOpts, error) {
	o := &pingOpts{}
	long := func(a string) error {
		switch a {
		case "--json":
			o.json = true
			return nil
		case "--help":
			return errUsage
		}
		return &pingArgError{msg: fmt.Sprintf("unrecognized option '%s'", a), code: 2, usage: true}
	}
	rest, err := getopt(args, pingValueOpts, "option requires an argument -- '%c'", long, func(c byte, val string) error {
		switch {
		case c == 'h':
			return errUsage
		case strings.IndexByte(pingValueOpts, c) >= 0:
			return o.value(c, val)
		}
		return o.flag(c)
	})
	if err != nil {
		var ae *pingArgError
		if !errors.As(err, &ae) { // getopt's missing value: iputils adds the usage
			return nil, &pingArgError{msg: err.Error(), code: 2, usage: true}
		}
		return nil, err
	}
	if o.version {
		return o, nil
	}
	if len(rest) == 0 {
		return nil, &pingArgError{msg: "usage error: Destination address required", code: 1}
	}
	if len(rest) > 1 {
		return nil, argErr(2, "only one destination, not %q", rest)
	}
	o.host = rest[0]
	return o, nil
}

func (o *pingOpts) flag(c byte) error {
	switch c {
	case 'f':
		o.flood = true
	case 'q':
		o.quiet = true
	case 'n':
		o.numeric = true
	case 'A':
		o.adaptive = true
	case 'b':
		o.broadcast = true
	case 'D':
		o.stamps = true
	case 'O':
		o.pending = true
	case 'U':
		o.user = true
	case 'a':
		o.audible = true
	case 'v':
		o.verbose = true
	case 'V':
		o.version = true
	case '4', '6':
		f := int(c - '0')
		if o.family != 0 && o.family != f {
			return argErr(2, "only one -4 or -6 option may be specified")
		}
		o.family = f
	default:
		return &pingArgError{msg: fmt.Sprintf("invalid option -- '%c'", c), code: 2, usage: true}
	}
	return nil
}

func (o *pingOpts) value(c byte, v string) error {
	var err error
	switch c {
	case 'c':
		o.count, err = intArg(v, 1, math.MaxInt64)
	case 's':
		o.size, err = intArg(v, 0, math.MaxInt32)
		o.sizeSet = true
	case 't':
		o.ttl, err = intArg(v, 0, 255)
		o.ttlSet = true
	case 'w':
		o.deadline, err = intArg(v, 0, math.MaxInt32)
	case 'l':
		o.preload, err = intArg(v, 1, 65536)
	case 'e':
		o.id, err = intArg(v, 0, 0xffff)
	case 'i':
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || f < 0 || f > math.MaxInt32/1000 || math.IsNaN(f) {
			return argErr(2, "bad timing interval: %s", v)
		}
		o.interval, o.intervalSet = time.Duration(f*1000)*time.Millisecond, true
	case 'W':
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || f < 0 || f > math.MaxUint32/1e6 || math.IsNaN(f) {
			return argErr(2, "bad linger time: %s", v)
		}
		o.timeout = time.Duration(f * float64(time.Second))
	case 'I':
		o.iface = v
	case 'p':
		b, perr := parsePattern(v)
		o.pattern = string(b)
		return perr
	case 'Q':
		o.tos, err = parseTOS(v)
	case 'M':
		m, ok := map[string]ping.PMTUDisc{"do": ping.PMTUDiscDo, "want": ping.PMTUDiscWant, "dont": ping.PMTUDiscDont}[v]
		if !ok {
			return argErr(2, "invalid -M argument: %s", v)
		}
		o.pmtu = m
	}
	return err
}

// intArg is iputils' strtol_or_err: a decimal number within [lo, hi], or
// exit status 1.
func intArg(v string, lo, hi int) (int, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, argErr(1, "invalid argument: '%s'", v)
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, argErr(1, "invalid argument: '%s': out of range: %d <= value <= %d", v, lo, hi)
	}
	return int(n), nil
}

// parsePattern reads -p as iputils' fill: hex digits only, taken two at a
// time (a last odd digit is a byte of its own), at most 16 bytes.
func parsePattern(v string) ([]byte, error) {
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return nil, argErr(2, "patterns must be specified as hex digits: %s", v[i:])
		}
	}
	var b []byte
	for i := 0; i < len(v) && len(b) < 16; i += 2 {
		n, _ := strconv.ParseUint(v[i:min(i+2, len(v))], 16, 8)
		b = append(b, byte(n))
	}
	return b, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// parseTOS is iputils' parsetos: decimal, or hex after 0x, up to 255.
func parseTOS(v string) (int, error) {
	s, base := v, 10
	if len(v) > 1 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		s, base = v[2:], 16
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, argErr(2, "bad TOS value: %s", v)
	}
	if n > 255 || n < 0 || err != nil {
		return 0, argErr(2, "the decimal value of TOS bits must be in range 0-255: %d", n)
	}
	return int(n), nil
}

// config turns the options into the pinger's Config (Dst aside).
func (o *pingOpts) config() ping.Config {
	cfg := ping.Config{Count: o.count, TTL: o.ttl, Timeout: o.timeout,
		Preload: o.preload, Adaptive: o.adaptive, TOS: o.tos, PMTUDisc: o.pmtu, ID: o.id,
		Broadcast: o.broadcast, UserLatency: o.user}
	if o.pattern != "" {
		cfg.Pattern = []byte(o.pattern)
	}
	if o.deadline > 0 {
		cfg.Deadline = time.Duration(o.deadline) * time.Second
	}
	// iputils: -f without -i, or -i 0, sends as fast as replies come.
	if o.intervalSet && o.interval > 0 {
		cfg.Interval = o.interval
	} else if o.flood || o.intervalSet {
		cfg.Flood = true
	}
	if o.sizeSet {
		cfg.Size = o.size
		if o.size == 0 {
			cfg.Size = ping.EmptyPayload
		}
	}
	if a, err := netip.ParseAddr(o.iface); err == nil {
		cfg.Source = a
	} else {
		cfg.Interface = o.iface
	}
	return cfg
}

// interval is the gap between requests the options ask for: 0 in a flood.
func (o *pingOpts) effectiveInterval() time.Duration {
	if o.intervalSet {
		return o.interval
	}
	if o.flood {
		return 0
	}
	return ping.DefaultInterval
}

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
	if o.ttlSet && o.ttl == 0 && dst.Is4() {
		// Linux takes IP_TTL from 1 to 255 (ip(7)); iputils passes 0 on
		// and reports the kernel's refusal. An IPv6 hop limit may be 0.
		fmt.Fprintln(stderr, "ping: cannot set unicast time-to-live: Invalid argument")
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
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer p.Close()
	if o.broadcast && isBroadcast(dst) && !o.quiet {
		fmt.Fprintln(stderr, "WARNING: pinging broadcast address")
	}
	if err := ping.DropPrivileges(); err != nil {
		if !errors.Is(err, ping.ErrCapsRemain) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintf(stderr, "ping: warning: %v\n", strings.TrimPrefix(err.Error(), "ping: "))
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	pr := &pingPrinter{w: out, errw: stderr, o: o, dst: dst, names: !numeric && !o.numeric && !o.flood, size: p.Size(), timed: p.Timed(), id: p.ID(), payload: p.Payload()}
	if o.json {
		pr.json(jsonStart{Type: "start", TS: jsonTime(time.Now()), Host: o.host, Addr: dst.String(), Size: p.Size(), Socket: p.SocketKind().String(), ID: int(p.ID()), MTU: p.MTU()})
	} else {
		pr.headerLine(p.Source())
	}
	out.Flush()

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
					pr.stderr(statusLine(&st, pr.timed))
					continue
				}
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()

	st, err := p.Run(ctx, pr.event)
	pr.statistics(&st)
	out.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "ping: %v\n", err)
		return 2
	}
	if st.Received == 0 || o.deadline > 0 && o.count > 0 && st.Received < o.count {
		return 1
	}
	return 0
}

// statusLine is iputils' status(), the SIGQUIT line on standard error:
// "\r3/4 packets, 25% loss, min/avg/ewma/max = 0.036/0.048/0.041/0.059 ms".
func statusLine(st *ping.Statistics, timed bool) string {
	loss := 0
	if st.Transmitted > 0 {
		loss = (st.Transmitted - st.Received) * 100 / st.Transmitted
	}
	s := fmt.Sprintf("\r%d/%d packets, %d%% loss", st.Received, st.Transmitted, loss)
	if st.Received > 0 && timed && st.Timed {
		s += fmt.Sprintf(", min/avg/ewma/max = %s/%s/%s/%s ms", ms(st.Min), ms(st.Avg), ms(st.EWMA), ms(st.Max))
	}
	return s + "\n"
}

// isBroadcast reports whether a is 255.255.255.255 or the broadcast
// address of a network on one of this host's interfaces.
func isBroadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		n, ok := ia.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		ones, bits := n.Mask.Size()
		if bits != 32 || ones >= 31 {
			continue
		}
		b := [4]byte(n.IP.To4())
		for i := range b {
			b[i] |= ^n.Mask[len(n.Mask)-4+i]
		}
		if netip.AddrFrom4(b) == a {
			return true
		}
	}
	return false
}

// resolveTarget parses or looks up host; numeric reports a literal
// address, which iputils never looks up in reverse either. IPv4 literals
// are read as inet_aton(3) reads them (127.1, 0x7f.1, 2130706433), as
// glibc's getaddrinfo does for iputils.
func resolveTarget(host string, family int) (addr netip.Addr, numeric bool, err error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		a, err = inetAton(host)
	}
	if err == nil {
		a = a.Unmap()
		if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
			return netip.Addr{}, false, fmt.Errorf("%s: Address family for hostname not supported", host)
		}
		return a, true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		var de *net.DNSError
		if errors.As(err, &de) && !de.IsNotFound {
			return netip.Addr{}, false, fmt.Errorf("%s: Temporary failure in name resolution", host)
		}
		return netip.Addr{}, false, fmt.Errorf("%s: Name or service not known", host)
	}
	var other bool
	for _, want4 := range []bool{true, false} { // IPv4 first, as this system's getaddrinfo orders them
		for _, a := range addrs {
			a = a.Unmap()
			if a.Is4() != want4 {
				continue
			}
			if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
				other = true
				continue
			}
			return a, false, nil
		}
	}
	if other { // the name has addresses, none of the family asked for
		return netip.Addr{}, false, fmt.Errorf("%s: No address associated with hostname", host)
	}
	return netip.Addr{}, false, fmt.Errorf("%s: Name or service not known", host)
}

// inetAton reads an IPv4 address as inet_aton(3): one to four numbers,
// each decimal, octal (leading 0) or hex (0x), the last filling the bytes
// that remain (a.b.c.d, a.b.c with c 16 bits, a.b with b 24 bits, a alone
// 32 bits).
func inetAton(s string) (netip.Addr, error) {
	bad := errors.New("not an IPv4 address")
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, bad
	}
	var v uint64
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 0, 32)
		if err != nil || part == "" || part[0] == '+' || strings.ContainsRune(part, '_') ||
			len(part) > 1 && part[0] == '0' && strings.ContainsRune("bBoO", rune(part[1])) {
			return netip.Addr{}, bad
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, bad
			}
			v = v<<8 | n
			continue
		}
		rest := uint(4 - i) // bytes the last number fills
		if n >= 1<<(8*rest) && rest < 4 {
			return netip.Addr{}, bad
		}
		v = v<<(8*rest) | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// pingPrinter writes what iputils ping prints, or JSON lines.
type pingPrinter struct {
	w       *bufio.Writer
	errw    io.Writer // a failed send goes here, as iputils' error(3) does
	errMu   sync.Mutex
	o       *pingOpts
	dst     netip.Addr
	names   bool // reverse-resolve reply addresses
	size    int  // data bytes per request
	timed   bool
	id      uint16
	payload []byte // the data of every request, for the wrong-data report
	cache   map[netip.Addr]string
	flush   time.Time // last flush in a flood
	replied []uint64  // -O: a bit per sequence number answered
}

// stderr writes s to standard error; the SIGQUIT status comes from
// another goroutine than the run's failed sends.
func (pr *pingPrinter) stderr(s string) {
	pr.errMu.Lock()
	io.WriteString(pr.errw, s)
	pr.errMu.Unlock()
}

// headerLine is iputils' first line: "PING host (addr) 56(84) bytes of
// data." for IPv4, "PING host(addr) 56 data bytes" for IPv6 (iputils
// 20221126); with -I, "from SRC DEV: " before the sizes.
func (pr *pingPrinter) headerLine(src netip.Addr) {
	from := ""
	if pr.o.iface != "" {
		dev := ""
		if _, err := netip.ParseAddr(pr.o.iface); err != nil {
			dev = pr.o.iface
		}
		from = fmt.Sprintf("from %s %s: ", src, dev)
	}
	if pr.dst.Is4() {
		fmt.Fprintf(pr.w, "PING %s (%s) %s%d(%d) bytes of data.\n", pr.o.host, pr.dst, from, pr.size, pr.size+8+20)
	} else {
		fmt.Fprintf(pr.w, "PING %s(%s) %s%d data bytes\n", pr.o.host, pr.addr(pr.dst), from, pr.size)
	}
}

// event prints one event, as iputils does as it happens.
func (pr *pingPrinter) event(e *ping.Event) {
	if pr.o.pending {
		pr.outstanding(e)
	}
	switch {
	case pr.o.json:
		pr.jsonEvent(e)
	case pr.o.quiet:
		return
	case pr.o.flood:
		pr.w.WriteString(floodMark(e))
		// A flood writes a few bytes per packet: buffer them, and show
		// them at least every 10 ms (by the event's own time: no clock
		// read per packet).
		if e.Time.Sub(pr.flush) >= ping.FloodGap {
			pr.w.Flush()
			pr.flush = e.Time
		}
		return
	default:
		line := pr.line(e)
		if line == "" {
			return
		}
		if pr.o.stamps {
			line = stamp(time.Now()) + line
		}
		if e.Kind == ping.EventSendError {
			pr.w.Flush()
			pr.stderr(line + "\n")
			return
		}
		pr.w.WriteString(line)
		pr.w.WriteByte('\n')
	}
	pr.w.Flush()
}

// stamp is iputils' -D prefix: "[1733212345.123456] ".
func stamp(t time.Time) string {
	return fmt.Sprintf("[%d.%06d] ", t.Unix(), t.Nanosecond()/1000)
}

// outstanding is -O: before request N+1 leaves, iputils says so when
// request N has not been answered.
func (pr *pingPrinter) outstanding(e *ping.Event) {
	if pr.replied == nil {
		pr.replied = make([]uint64, 1<<16/64)
	}
	seq := e.Seq
	switch e.Kind {
	case ping.EventReply:
		if !e.BadChecksum {
			pr.replied[seq>>6] |= 1 << (seq & 63)
		}
	case ping.EventSent, ping.EventSendError:
		pr.replied[seq>>6] &^= 1 << (seq & 63)
		prev := seq - 1
		if seq == 1 || pr.o.json || pr.o.quiet || pr.o.flood || pr.replied[prev>>6]&(1<<(prev&63)) != 0 {
			return
		}
		line := fmt.Sprintf("no answer yet for icmp_seq=%d\n", prev)
		if pr.o.stamps {
			line = stamp(time.Now()) + line
		}
		pr.w.WriteString(line)
		pr.w.Flush()
	}
}

// floodMark is the flood's dot display: '.' per request, a backspace per
// reply, "\bE" per error, "E" per failed send.
func floodMark(e *ping.Event) string {
	switch e.Kind {
	case ping.EventSent:
		return "."
	case ping.EventReply:
		if e.BadChecksum {
			return "\bC"
		}
		return "\b \b"
	case ping.EventError:
		return "\bE"
	case ping.EventSendError:
		return "E"
	}
	return ""
}

// line is the line iputils prints for e, or "" (gather_statistics).
func (pr *pingPrinter) line(e *ping.Event) string {
	switch e.Kind {
	case ping.EventReply:
		var b strings.Builder
		fmt.Fprintf(&b, "%d bytes from %s: icmp_seq=%d", e.Size, pr.addr(e.From), e.Seq)
		if pr.o.verbose {
			fmt.Fprintf(&b, " ident=%d", pr.id)
		}
		if e.TTL >= 0 {
			fmt.Fprintf(&b, " ttl=%d", e.TTL)
		}
		if e.Size < pr.size+8 {
			b.WriteString(" (truncated)")
			return b.String()
		}
		if e.Timed {
			fmt.Fprintf(&b, " time=%s ms", formatRTT(e.RTT))
		}
		if e.Dup {
			b.WriteString(" (DUP!)")
		}
		if e.BadChecksum {
			b.WriteString(" (BAD CHECKSUM!)")
		}
		// The zone is the interface the reply came in on: iputils
		// compares the addresses alone.
		if e.From.WithZone("") != pr.dst.WithZone("") {
			b.WriteString(" (DIFFERENT ADDRESS!)")
		}
		if e.Mismatch >= 0 && e.Mismatch < len(pr.payload) {
			pr.wrongData(&b, e)
		}
		if pr.o.audible {
			b.WriteByte('\a')
		}
		return b.String()
	case ping.EventError:
		return fmt.Sprintf("From %s icmp_seq=%d %s", pr.addr(e.From), e.Seq, e.Reason())
	case ping.EventSendError:
		return "ping: " + cError(e.Err)
	}
	return ""
}

// wrongData is iputils' report of a reply whose data differs: the first
// byte that does, then the data from the timestamp on, 32 bytes a row.
func (pr *pingPrinter) wrongData(b *strings.Builder, e *ping.Event) {
	i := e.Mismatch
	fmt.Fprintf(b, "\nwrong data byte #%d should be 0x%x but was 0x%x", i, pr.payload[i], e.Data[i])
	for i := ping.TimestampLen; i < pr.size && i < len(e.Data); i++ {
		if i%32 == ping.TimestampLen {
			fmt.Fprintf(b, "\n#%d\t", i)
		}
		fmt.Fprintf(b, "%x ", e.Data[i])
	}
}

// addr prints an address as iputils' pr_addr: "name (addr)" when a
// reverse lookup finds a name and names are wanted, else the address.
func (pr *pingPrinter) addr(a netip.Addr) string {
	if !pr.names {
		return a.String()
	}
	if s, ok := pr.cache[a]; ok {
		return s
	}
	s := a.String()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	names, err := net.DefaultResolver.LookupAddr(ctx, s)
	cancel()
	if err == nil && len(names) > 0 {
		if n := strings.TrimSuffix(names[0], "."); n != "" && n != s {
			s = n + " (" + s + ")"
		}
	}
	if pr.cache == nil {
		pr.cache = map[netip.Addr]string{}
	}
	pr.cache[a] = s
	return s
}

// formatRTT prints a round-trip time as iputils does, three significant
// digits or whole milliseconds: 0.045, 1.23, 12.3, 123. It works in
// microseconds, as iputils' timeval arithmetic does.
func formatRTT(d time.Duration) string {
	t := d.Microseconds()
	switch {
	case t >= 100000-50:
		return strconv.FormatInt((t+500)/1000, 10)
	case t >= 10000-5:
		return fmt.Sprintf("%d.%01d", (t+50)/1000, ((t+50)%1000)/100)
	case t >= 1000:
		return fmt.Sprintf("%d.%02d", (t+5)/1000, ((t+5)%1000)/10)
	}
	return fmt.Sprintf("%d.%03d", t/1000, t%1000)
}

// ms prints a duration as iputils' statistics do: whole microseconds as
// milliseconds with three decimals, truncated.
func ms(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%03d", us/1000, us%1000)
}

// cError prints an error with C's capitalized strerror text, as iputils'
// error(3) does: "sendto: Network is unreachable".
func cError(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) || mtuOf(&ping.Event{Kind: ping.EventSendError, Err: err}) > 0 {
		return err.Error() // iputils' "local error: message too long, mtu=N" is its own text
	}
	s := err.Error()
	text := errno.Error()
	if i := strings.LastIndex(s, text); i >= 0 && text != "" {
		s = s[:i] + strings.ToUpper(text[:1]) + text[1:] + s[i+len(text):]
	}
	return s
}

// statistics prints iputils' closing block.
func (pr *pingPrinter) statistics(st *ping.Statistics) {
	if pr.o.json {
		pr.jsonSummary(st)
		return
	}
	pr.w.WriteString(statisticsText(pr.o.host, st, pr.timed, pr.o.flood || pr.o.adaptive || pr.o.effectiveInterval() == 0))
}

// statisticsText is iputils' finish(): a blank line, the counts, and the
// round-trip line (an empty line when nothing was timed).
func statisticsText(host string, st *ping.Statistics, timed, flood bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n--- %s ping statistics ---\n", host)
	fmt.Fprintf(&b, "%d packets transmitted, %d received", st.Transmitted, st.Received)
	if st.Duplicates > 0 {
		fmt.Fprintf(&b, ", +%d duplicates", st.Duplicates)
	}
	if st.Corrupted > 0 {
		fmt.Fprintf(&b, ", +%d corrupted", st.Corrupted)
	}
	if st.Errors > 0 {
		fmt.Fprintf(&b, ", +%d errors", st.Errors)
	}
	if st.Transmitted > 0 {
		loss := float32(st.Loss())
		fmt.Fprintf(&b, ", %s%% packet loss, time %dms", strconv.FormatFloat(float64(loss), 'g', 6, 64), (st.Time+500*time.Microsecond)/time.Millisecond)
	}
	b.WriteByte('\n')
	comma := ""
	if st.Received > 0 && timed && st.Timed {
		fmt.Fprintf(&b, "rtt min/avg/max/mdev = %s/%s/%s/%s ms", ms(st.Min), ms(st.Avg), ms(st.Max), ms(st.Mdev))
		comma = ", "
	}
	if st.Pipe > 1 {
		fmt.Fprintf(&b, "%spipe %d", comma, st.Pipe)
		comma = ", "
	}
	if st.Received > 0 && flood && st.Transmitted > 1 {
		ipg := st.Time.Microseconds() / int64(st.Transmitted-1)
		fmt.Fprintf(&b, "%sipg/ewma %d.%03d/%s ms", comma, ipg/1000, ipg%1000, ms(st.EWMA))
	}
	b.WriteByte('\n')
	return b.String()
}

// The --json lines (the README lists their fields). Times are numbers:
// "ts" in seconds since 1970 with microseconds, durations in milliseconds.
type jsonStart struct {
	Type   string   `json:"type"` // "start"
	TS     jsonTime `json:"ts"`
	Host   string   `json:"host"`
	Addr   string   `json:"addr"`
	Size   int      `json:"size"`
	Socket string   `json:"socket"`
	ID     int      `json:"id"`
	MTU    int      `json:"mtu,omitempty"` // the route's path MTU
}

type jsonEvent struct {
	Type        string   `json:"type"` // "reply", "timeout", "error", "send_error"
	TS          jsonTime `json:"ts"`
	Seq         int      `json:"seq"`
	From        string   `json:"from,omitempty"`
	Bytes       int      `json:"bytes,omitempty"`
	TTL         *int     `json:"ttl,omitempty"`
	TimeMS      *float64 `json:"time_ms,omitempty"`
	Dup         bool     `json:"dup,omitempty"`
	Late        bool     `json:"late,omitempty"`
	BadChecksum bool     `json:"bad_checksum,omitempty"`
	WrongByte   *int     `json:"wrong_byte,omitempty"`
	ICMP        *[2]int  `json:"icmp,omitempty"` // type, code
	MTU         int      `json:"mtu,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

type jsonSummary struct {
	Type        string   `json:"type"` // "summary"
	TS          jsonTime `json:"ts"`
	Host        string   `json:"host"`
	Transmitted int      `json:"transmitted"`
	Received    int      `json:"received"`
	Duplicates  int      `json:"duplicates"`
	Corrupted   int      `json:"corrupted"`
	Errors      int      `json:"errors"`
	Timeouts    int      `json:"timeouts"`
	Loss        float64  `json:"loss_percent"`
	TimeMS      int64    `json:"time_ms"`
	RTT         *jsonRTT `json:"rtt,omitempty"`
}

type jsonRTT struct {
	Min  float64 `json:"min_ms"`
	Avg  float64 `json:"avg_ms"`
	Max  float64 `json:"max_ms"`
	Mdev float64 `json:"mdev_ms"`
	EWMA float64 `json:"ewma_ms"`
}

// jsonTime marshals as seconds since 1970 with six decimals, exactly (a
// float64 would print 1796278657.7209158).
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return fmt.Appendf(nil, "%d.%06d", tt.Unix(), tt.Nanosecond()/1000), nil
}

func msFloat(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// mtuOf is the MTU an error carries: the next-hop MTU of "fragmentation
// needed" or "packet too big", or the path MTU of a local EMSGSIZE.
func mtuOf(e *ping.Event) int {
	switch {
	case e.Kind == ping.EventError && !e.IPv6 && e.Type == 3 && e.Code == 4,
		e.Kind == ping.EventError && e.IPv6 && e.Type == 2:
		return int(e.Info)
	case e.Kind == ping.EventSendError:
		var m interface{ MTU() int }
		if errors.As(e.Err, &m) {
			return m.MTU()
		}
	}
	return 0
}

func (pr *pingPrinter) jsonEvent(e *ping.Event) {
	j := jsonEvent{Seq: int(e.Seq), TS: jsonTime(e.Time)}
	switch e.Kind {
	case ping.EventReply:
		j.Type, j.From, j.Bytes, j.Dup, j.Late, j.BadChecksum = "reply", e.From.String(), e.Size, e.Dup, e.Late, e.BadChecksum
		if e.TTL >= 0 {
			ttl := e.TTL
			j.TTL = &ttl
		}
		if e.Timed {
			t := msFloat(e.RTT)
			j.TimeMS = &t
		}
		if e.Mismatch >= 0 {
			i := e.Mismatch
			j.WrongByte = &i
		}
	case ping.EventTimeout:
		j.Type = "timeout"
	case ping.EventError:
		j.Type, j.From, j.ICMP, j.Reason, j.MTU = "error", e.From.String(), &[2]int{int(e.Type), int(e.Code)}, e.Reason(), mtuOf(e)
	case ping.EventSendError:
		j.Type, j.Reason, j.MTU = "send_error", cError(e.Err), mtuOf(e)
	default:
		return
	}
	pr.json(j)
}

func (pr *pingPrinter) jsonSummary(st *ping.Statistics) {
	j := jsonSummary{Type: "summary", TS: jsonTime(time.Now()), Host: pr.o.host, Transmitted: st.Transmitted, Received: st.Received,
		Duplicates: st.Duplicates, Corrupted: st.Corrupted, Errors: st.Errors, Timeouts: st.Timeouts, Loss: st.Loss(),
		TimeMS: int64((st.Time + 500*time.Microsecond) / time.Millisecond)}
	if st.Received > 0 && st.Timed {
		j.RTT = &jsonRTT{msFloat(st.Min), msFloat(st.Avg), msFloat(st.Max), msFloat(st.Mdev), msFloat(st.EWMA)}
	}
	pr.json(j)
}

func (pr *pingPrinter) json(v any) {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	pr.w.Write(b)
	pr.w.WriteByte('\n')
}
