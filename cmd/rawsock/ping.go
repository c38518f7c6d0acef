package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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
		fmt.Fprintln(stderr, cError(err)) // "cannot set unicast time-to-live: Invalid argument"
		return 2
	}
	defer p.Close()
	if o.broadcast && isBroadcast(dst) && !o.quiet {
		fmt.Fprintln(stderr, "WARNING: pinging broadcast address")
	}
	if !dropPrivilegesOrExit("ping: ", stderr) {
		return 2
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
		if pr.o.audible && e.Kind == ping.EventReply {
			pr.w.WriteByte('\a') // iputils rings after each reply's backspace
		}
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
		// iputils says it under -q and -f too.
		if seq == 1 || pr.o.json || pr.replied[prev>>6]&(1<<(prev&63)) != 0 {
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
