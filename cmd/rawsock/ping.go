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
  -W <timeout>   seconds to wait for each reply (default 10)
  -w <deadline>  seconds before ping exits, whatever was sent or received
  -f             flood: a request as soon as the last is answered, or 100 a
                 second; prints '.' per request and a backspace per reply (root)
  -q             quiet: only the first line and the statistics
  -n             numeric: no reverse lookup of reply addresses
  -4, -6         IPv4 only, IPv6 only
  -I <iface|addr> send out of an interface (SO_BINDTODEVICE) or from an address
  --json         one JSON object per line instead of the text: first
                 {"type":"start","host","addr","size","socket","id"}; then per event
                 "reply" (seq, from, bytes, ttl, time_ms, dup, late), "timeout" (seq),
                 "error" (seq, from, icmp: [type, code], reason), "send_error" (seq,
                 reason); last "summary" (transmitted, received, duplicates, errors,
                 timeouts, loss_percent, time_ms, rtt: {min_ms, avg_ms, max_ms, mdev_ms})

The socket is the unprivileged ICMP one when net.ipv4.ping_group_range admits
your group, else a raw socket (root or CAP_NET_RAW); after opening it, ping
gives up root (to SUDO_UID or nobody) and every capability. Ctrl-C stops it
and prints the statistics.

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
	timeout     time.Duration
	deadline    int
	flood       bool
	quiet       bool
	numeric     bool
	family      int // 0, 4 or 6
	iface       string
	json        bool
	host        string
}

// errUsage asks for the usage text after the message.
var errUsage = errors.New("usage")

// pingValueOpts are the options that take a value.
const pingValueOpts = "cisItWw"

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
		return fmt.Errorf("unrecognized option '%s'", a)
	}
	rest, err := getopt(args, pingValueOpts, "option requires an argument -- '%c'", long, func(c byte, val string) error {
		switch {
		case c == 'h' || c == '?':
			return errUsage
		case strings.IndexByte(pingValueOpts, c) >= 0:
			return o.value(c, val)
		}
		return o.flag(c)
	})
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return nil, errors.New("usage error: Destination address required")
	}
	if len(rest) > 1 {
		return nil, fmt.Errorf("only one destination, not %q", rest)
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
	case '4', '6':
		f := int(c - '0')
		if o.family != 0 && o.family != f {
			return errors.New("only one -4 or -6 option may be specified")
		}
		o.family = f
	default:
		return fmt.Errorf("invalid option -- '%c'", c)
	}
	return nil
}

func (o *pingOpts) value(c byte, v string) error {
	switch c {
	case 'c':
		n, err := intArg(v, 1, math.MaxInt64)
		o.count = n
		return err
	case 's':
		n, err := intArg(v, 0, math.MaxInt32)
		o.size, o.sizeSet = n, true
		return err
	case 't':
		n, err := intArg(v, 0, 255)
		o.ttl = n
		return err
	case 'w':
		n, err := intArg(v, 0, math.MaxInt32)
		o.deadline = n
		return err
	case 'i':
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > math.MaxInt32/1000 || math.IsNaN(f) {
			return fmt.Errorf("bad timing interval: %s", v)
		}
		o.interval, o.intervalSet = time.Duration(f*1000)*time.Millisecond, true
	case 'W':
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > math.MaxUint32/1e6 || math.IsNaN(f) {
			return fmt.Errorf("bad linger time: %s", v)
		}
		o.timeout = time.Duration(f * float64(time.Second))
	case 'I':
		o.iface = v
	}
	return nil
}

func intArg(v string, lo, hi int) (int, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid argument: '%s'", v)
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, fmt.Errorf("invalid argument: '%s': out of range: %d <= value <= %d", v, lo, hi)
	}
	return int(n), nil
}

// config turns the options into the pinger's Config (Dst aside).
func (o *pingOpts) config() ping.Config {
	cfg := ping.Config{Count: o.count, TTL: o.ttl, Timeout: o.timeout}
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

func runPing(args []string, stdout, stderr io.Writer) int {
	o, err := parsePingArgs(args)
	if err != nil {
		if err != errUsage {
			fmt.Fprintf(stderr, "ping: %v\n", err)
		}
		fmt.Fprint(stderr, pingUsage)
		if err == errUsage {
			return 0
		}
		return 2
	}
	// iputils: a user other than root may not go below 2 ms (so no flood).
	if os.Getuid() != 0 && o.effectiveInterval() < ping.MinUserInterval {
		fmt.Fprintf(stderr, "ping: cannot flood; minimal interval allowed for user is %dms\n", ping.MinUserInterval.Milliseconds())
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
	p, err := ping.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer p.Close()
	if err := ping.DropPrivileges(); err != nil {
		if !errors.Is(err, ping.ErrCapsRemain) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintf(stderr, "ping: warning: %v\n", strings.TrimPrefix(err.Error(), "ping: "))
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	pr := &pingPrinter{w: out, errw: stderr, o: o, dst: dst, names: !numeric && !o.numeric && !o.flood, size: p.Size(), timed: p.Timed()}
	if o.json {
		pr.json(jsonStart{Type: "start", Host: o.host, Addr: dst.String(), Size: p.Size(), Socket: p.SocketKind().String(), ID: int(p.ID())})
	} else {
		pr.headerLine(p.Source())
	}
	out.Flush()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
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

// resolveTarget parses or looks up host; numeric reports a literal
// address, which iputils never looks up in reverse either.
func resolveTarget(host string, family int) (addr netip.Addr, numeric bool, err error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if family == 4 && !a.Is4() || family == 6 && !a.Is6() {
			return netip.Addr{}, false, fmt.Errorf("%s: Address family for hostname not supported", host)
		}
		return a, true, nil
	}
	network := "ip"
	if family != 0 {
		network = "ip" + strconv.Itoa(family)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil || len(addrs) == 0 {
		var de *net.DNSError
		if errors.As(err, &de) && !de.IsNotFound {
			return netip.Addr{}, false, fmt.Errorf("%s: Temporary failure in name resolution", host)
		}
		if family != 0 {
			return netip.Addr{}, false, fmt.Errorf("%s: Address family for hostname not supported", host)
		}
		return netip.Addr{}, false, fmt.Errorf("%s: Name or service not known", host)
	}
	for _, a := range addrs { // IPv4 first, as this system's getaddrinfo orders them
		if a.Unmap().Is4() {
			return a.Unmap(), false, nil
		}
	}
	return addrs[0], false, nil
}

// pingPrinter writes what iputils ping prints, or JSON lines.
type pingPrinter struct {
	w     *bufio.Writer
	errw  io.Writer // a failed send goes here, as iputils' error(3) does
	o     *pingOpts
	dst   netip.Addr
	names bool // reverse-resolve reply addresses
	size  int  // data bytes per request
	timed bool
	cache map[netip.Addr]string
	flush time.Time // last flush in a flood
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
		if e.Kind == ping.EventSendError {
			pr.w.Flush()
			fmt.Fprintln(pr.errw, line)
			return
		}
		pr.w.WriteString(line)
		pr.w.WriteByte('\n')
	}
	pr.w.Flush()
}

// floodMark is the flood's dot display: '.' per request, a backspace per
// reply, "\bE" per error, "E" per failed send.
func floodMark(e *ping.Event) string {
	switch e.Kind {
	case ping.EventSent:
		return "."
	case ping.EventReply:
		return "\b \b"
	case ping.EventError:
		return "\bE"
	case ping.EventSendError:
		return "E"
	}
	return ""
}

// line is the line iputils prints for e, or "".
func (pr *pingPrinter) line(e *ping.Event) string {
	switch e.Kind {
	case ping.EventReply:
		var b strings.Builder
		fmt.Fprintf(&b, "%d bytes from %s: icmp_seq=%d", e.Size, pr.addr(e.From), e.Seq)
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
		if e.From != pr.dst {
			b.WriteString(" (DIFFERENT ADDRESS!)")
		}
		return b.String()
	case ping.EventError:
		return fmt.Sprintf("From %s icmp_seq=%d %s", pr.addr(e.From), e.Seq, e.Reason())
	case ping.EventSendError:
		return "ping: " + cError(e.Err)
	}
	return ""
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
	if !errors.As(err, &errno) {
		return err.Error()
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
	pr.w.WriteString(statisticsText(pr.o.host, st, pr.timed, pr.o.flood || pr.o.effectiveInterval() == 0))
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

// The --json lines. Times are in milliseconds, as numbers.
type jsonStart struct {
	Type   string `json:"type"` // "start"
	Host   string `json:"host"`
	Addr   string `json:"addr"`
	Size   int    `json:"size"`
	Socket string `json:"socket"`
	ID     int    `json:"id"`
}

type jsonEvent struct {
	Type   string   `json:"type"` // "reply", "timeout", "error", "send_error"
	Seq    int      `json:"seq"`
	From   string   `json:"from,omitempty"`
	Bytes  int      `json:"bytes,omitempty"`
	TTL    *int     `json:"ttl,omitempty"`
	TimeMS *float64 `json:"time_ms,omitempty"`
	Dup    bool     `json:"dup,omitempty"`
	Late   bool     `json:"late,omitempty"`
	ICMP   *[2]int  `json:"icmp,omitempty"` // type, code
	Reason string   `json:"reason,omitempty"`
}

type jsonSummary struct {
	Type        string   `json:"type"` // "summary"
	Host        string   `json:"host"`
	Transmitted int      `json:"transmitted"`
	Received    int      `json:"received"`
	Duplicates  int      `json:"duplicates"`
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
}

func msFloat(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (pr *pingPrinter) jsonEvent(e *ping.Event) {
	j := jsonEvent{Seq: int(e.Seq)}
	switch e.Kind {
	case ping.EventReply:
		j.Type, j.From, j.Bytes, j.Dup, j.Late = "reply", e.From.String(), e.Size, e.Dup, e.Late
		if e.TTL >= 0 {
			ttl := e.TTL
			j.TTL = &ttl
		}
		if e.Timed {
			t := msFloat(e.RTT)
			j.TimeMS = &t
		}
	case ping.EventTimeout:
		j.Type = "timeout"
	case ping.EventError:
		j.Type, j.From, j.ICMP, j.Reason = "error", e.From.String(), &[2]int{int(e.Type), int(e.Code)}, e.Reason()
	case ping.EventSendError:
		j.Type, j.Reason = "send_error", cError(e.Err)
	default:
		return
	}
	pr.json(j)
}

func (pr *pingPrinter) jsonSummary(st *ping.Statistics) {
	j := jsonSummary{Type: "summary", Host: pr.o.host, Transmitted: st.Transmitted, Received: st.Received,
		Duplicates: st.Duplicates, Errors: st.Errors, Timeouts: st.Timeouts, Loss: st.Loss(),
		TimeMS: int64((st.Time + 500*time.Microsecond) / time.Millisecond)}
	if st.Received > 0 && st.Timed {
		j.RTT = &jsonRTT{msFloat(st.Min), msFloat(st.Avg), msFloat(st.Max), msFloat(st.Mdev)}
	}
	pr.json(j)
}

func (pr *pingPrinter) json(v any) {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	pr.w.Write(b)
	pr.w.WriteByte('\n')
}
