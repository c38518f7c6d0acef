package ping

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Printer writes a run as iputils ping 20221126 prints it:
//
//	PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
//	64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
//	From 10.0.2.2 icmp_seq=2 Destination Host Unreachable
//
//	--- 127.0.0.1 ping statistics ---
//	2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1001ms
//	rtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms
//
// Header writes the first line, Event each event's line as it happens
// (pass it to Pinger.Run), Statistics the closing block, and Status the
// line iputils prints on SIGQUIT. Standard output is buffered and flushed
// after each line, or, in a flood, at least every FloodGap; a failed send
// goes to Err, as iputils' error(3) does. Set the fields before the first
// call; Status may be called from another goroutine than the others.
type Printer struct {
	W   io.Writer // standard output
	Err io.Writer // standard error: failed sends and Status

	Host    string     // the destination as the user gave it
	Dst     netip.Addr // and as it was resolved
	Size    int        // data bytes per request: Pinger.Size
	Timed   bool       // requests carry their send time: Pinger.Timed
	ID      uint16     // the echo identifier (-v prints it): Pinger.ID
	Payload []byte     // the data of every request, for the wrong-data report: Pinger.Payload

	// Names looks reply addresses up in reverse, printing "name (addr)"
	// (iputils without -n, and not in a flood).
	Names bool
	// Interface is -I as given: the header then says "from SRC DEV: ",
	// DEV empty when it is an address.
	Interface string
	Quiet     bool // -q: the header and the statistics only
	Flood     bool // -f: a '.' per request, a backspace per reply
	IPG       bool // the statistics end with ipg/ewma: -f, -A, or -i 0
	Verbose   bool // -v: the identifier of each reply
	Audible   bool // -a: a bell with each reply
	Stamps    bool // -D: the time before each line
	Pending   bool // -O: report a request unanswered when the next leaves

	w       *bufio.Writer
	errMu   sync.Mutex
	cache   map[netip.Addr]string
	flush   time.Time // last flush in a flood
	replied []uint64  // -O: a bit per sequence number answered
}

func (pr *Printer) out() *bufio.Writer {
	if pr.w == nil {
		pr.w = bufio.NewWriterSize(pr.W, 64<<10)
	}
	return pr.w
}

// stderr writes s to Err; the SIGQUIT status comes from another goroutine
// than the run's failed sends.
func (pr *Printer) stderr(s string) {
	pr.errMu.Lock()
	io.WriteString(pr.Err, s)
	pr.errMu.Unlock()
}

// Header writes iputils' first line: "PING host (addr) 56(84) bytes of
// data." for IPv4, "PING host(addr) 56 data bytes" for IPv6; with
// Interface, "from SRC DEV: " before the sizes. src is the source address
// (Pinger.Source).
func (pr *Printer) Header(src netip.Addr) error {
	w := pr.out()
	from := ""
	if pr.Interface != "" {
		dev := ""
		if _, err := netip.ParseAddr(pr.Interface); err != nil {
			dev = pr.Interface
		}
		from = fmt.Sprintf("from %s %s: ", src, dev)
	}
	if pr.Dst.Is4() {
		fmt.Fprintf(w, "PING %s (%s) %s%d(%d) bytes of data.\n", pr.Host, pr.Dst, from, pr.Size, pr.Size+8+20)
	} else {
		fmt.Fprintf(w, "PING %s(%s) %s%d data bytes\n", pr.Host, pr.addr(pr.Dst), from, pr.Size)
	}
	return w.Flush()
}

// Event prints one event, as iputils does as it happens.
func (pr *Printer) Event(e *Event) {
	w := pr.out()
	if pr.Pending {
		pr.outstanding(e)
	}
	switch {
	case pr.Quiet:
		return
	case pr.Flood:
		w.WriteString(floodMark(e))
		if pr.Audible && e.Kind == EventReply {
			w.WriteByte('\a') // iputils rings after each reply's backspace
		}
		// A flood writes a few bytes per packet: buffer them, and show
		// them at least every 10 ms (by the event's own time: no clock
		// read per packet).
		if e.Time.Sub(pr.flush) >= FloodGap {
			w.Flush()
			pr.flush = e.Time
		}
		return
	default:
		line := pr.Line(e)
		if line == "" {
			return
		}
		if pr.Stamps {
			line = stamp(time.Now()) + line
		}
		if e.Kind == EventSendError {
			w.Flush()
			pr.stderr(line + "\n")
			return
		}
		w.WriteString(line)
		w.WriteByte('\n')
	}
	w.Flush()
}

// stamp is iputils' -D prefix: "[1733212345.123456] ".
func stamp(t time.Time) string {
	return fmt.Sprintf("[%d.%06d] ", t.Unix(), t.Nanosecond()/1000)
}

// outstanding is -O: before request N+1 leaves, iputils says so when
// request N has not been answered.
func (pr *Printer) outstanding(e *Event) {
	if pr.replied == nil {
		pr.replied = make([]uint64, 1<<16/64)
	}
	seq := e.Seq
	switch e.Kind {
	case EventReply:
		if !e.BadChecksum {
			pr.replied[seq>>6] |= 1 << (seq & 63)
		}
	case EventSent, EventSendError:
		pr.replied[seq>>6] &^= 1 << (seq & 63)
		prev := seq - 1
		// iputils says it under -q and -f too.
		if seq == 1 || pr.replied[prev>>6]&(1<<(prev&63)) != 0 {
			return
		}
		line := fmt.Sprintf("no answer yet for icmp_seq=%d\n", prev)
		if pr.Stamps {
			line = stamp(time.Now()) + line
		}
		pr.w.WriteString(line)
		pr.w.Flush()
	}
}

// floodMark is the flood's dot display: '.' per request, a backspace per
// reply, "\bE" per error, "E" per failed send.
func floodMark(e *Event) string {
	switch e.Kind {
	case EventSent:
		return "."
	case EventReply:
		if e.BadChecksum {
			return "\bC"
		}
		return "\b \b"
	case EventError:
		return "\bE"
	case EventSendError:
		return "E"
	}
	return ""
}

// Line returns the line iputils prints for e, without its newline, or ""
// (gather_statistics): a reply, an ICMP error, a failed send.
func (pr *Printer) Line(e *Event) string {
	switch e.Kind {
	case EventReply:
		var b strings.Builder
		fmt.Fprintf(&b, "%d bytes from %s: icmp_seq=%d", e.Size, pr.addr(e.From), e.Seq)
		if pr.Verbose {
			fmt.Fprintf(&b, " ident=%d", pr.ID)
		}
		if e.TTL >= 0 {
			fmt.Fprintf(&b, " ttl=%d", e.TTL)
		}
		if e.Size < pr.Size+8 {
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
		if e.From.WithZone("") != pr.Dst.WithZone("") {
			b.WriteString(" (DIFFERENT ADDRESS!)")
		}
		if e.Mismatch >= 0 && e.Mismatch < len(pr.Payload) {
			pr.wrongData(&b, e)
		}
		if pr.Audible {
			b.WriteByte('\a')
		}
		return b.String()
	case EventError:
		return fmt.Sprintf("From %s icmp_seq=%d %s", pr.addr(e.From), e.Seq, e.Reason())
	case EventSendError:
		return "ping: " + ErrorText(e.Err)
	}
	return ""
}

// wrongData is iputils' report of a reply whose data differs: the first
// byte that does, then the data from the timestamp on, 32 bytes a row.
func (pr *Printer) wrongData(b *strings.Builder, e *Event) {
	i := e.Mismatch
	fmt.Fprintf(b, "\nwrong data byte #%d should be 0x%x but was 0x%x", i, pr.Payload[i], e.Data[i])
	for i := TimestampLen; i < pr.Size && i < len(e.Data); i++ {
		if i%32 == TimestampLen {
			fmt.Fprintf(b, "\n#%d\t", i)
		}
		fmt.Fprintf(b, "%x ", e.Data[i])
	}
}

// addr prints an address as iputils' pr_addr: "name (addr)" when a
// reverse lookup finds a name and names are wanted, else the address.
func (pr *Printer) addr(a netip.Addr) string {
	if !pr.Names {
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

// ErrorText prints an error with C's capitalized strerror text, as
// iputils' error(3) does: "sendto: Network is unreachable". The local
// "message too long, mtu=N" error of a send keeps its own text, as
// iputils'.
func ErrorText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) || mtuOf(&Event{Kind: EventSendError, Err: err}) > 0 {
		return err.Error()
	}
	s := err.Error()
	text := errno.Error()
	if i := strings.LastIndex(s, text); i >= 0 && text != "" {
		s = s[:i] + strings.ToUpper(text[:1]) + text[1:] + s[i+len(text):]
	}
	return s
}

// mtuOf is the MTU an error carries: the next-hop MTU of "fragmentation
// needed" or "packet too big", or the path MTU of a local EMSGSIZE.
func mtuOf(e *Event) int {
	switch {
	case e.Kind == EventError && !e.IPv6 && e.Type == 3 && e.Code == 4,
		e.Kind == EventError && e.IPv6 && e.Type == 2:
		return int(e.Info)
	case e.Kind == EventSendError:
		var m interface{ MTU() int }
		if errors.As(e.Err, &m) {
			return m.MTU()
		}
	}
	return 0
}

// Statistics writes iputils' closing block (finish()).
func (pr *Printer) Statistics(st *Statistics) error {
	w := pr.out()
	w.WriteString(statisticsText(pr.Host, st, pr.Timed, pr.IPG))
	return w.Flush()
}

// statisticsText is iputils' finish(): a blank line, the counts, and the
// round-trip line (an empty line when nothing was timed).
func statisticsText(host string, st *Statistics, timed, flood bool) string {
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

// Status writes iputils' status(), the SIGQUIT line, on Err.
func (pr *Printer) Status(st *Statistics) {
	pr.stderr(statusLine(st, pr.Timed))
}

// statusLine is iputils' status(): "\r3/4 packets, 25% loss,
// min/avg/ewma/max = 0.036/0.048/0.041/0.059 ms".
func statusLine(st *Statistics, timed bool) string {
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
