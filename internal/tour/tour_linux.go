package tour

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// Options bound the tour in time. Zero values take the defaults.
type Options struct {
	CallTimeout time.Duration // each blocking call (SetTimeout on every socket)
	StepTimeout time.Duration // a whole step: past it its sockets are closed
}

func (o Options) withDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Second
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 10 * time.Second
	}
	return o
}

// tourStep is one section of the tour.
type tourStep struct {
	title   string
	about   string // a few lines for the learner, printed under the title
	trace   bool   // run with rawsock.SetTrace on the tour's output
	needRaw bool   // runs only with effective CAP_NET_RAW, else skipped with the reason
	run     func(s *stepRun) error
}

// tourSteps is the tour, in order. Later work adds its steps here; the raw
// ones (needRaw) go last.
var tourSteps = []tourStep{
	stepMatrix,
	stepPrivileges,
	stepTCP,
	stepUDP,
	stepSeqpacket,
	stepSCMRights,
	stepICMPEcho,
	stepHdrinclUDP,
	stepWire,
}

// Run prints the whole tour to w. It returns an error only when a step
// failed; skipped steps are not failures.
func Run(w io.Writer, opts Options) error {
	return runSteps(w, opts, tourSteps)
}

// errSkip marks a step that could not run here, with the reason.
type errSkip struct{ reason string }

func (e *errSkip) Error() string { return "skipped: " + e.reason }

func skip(format string, args ...any) error { return &errSkip{fmt.Sprintf(format, args...)} }

func runSteps(w io.Writer, opts Options, steps []tourStep) error {
	opts = opts.withDefaults()
	out := &syncWriter{w: w}
	priv := readPrivileges()
	var failed []string
	skipped := 0
	for i, st := range steps {
		fmt.Fprintf(out, "\n== %d. %s ==\n", i+1, st.title)
		if st.about != "" {
			fmt.Fprintln(out, strings.TrimSpace(st.about))
		}
		var err error
		if st.needRaw && !priv.netRaw {
			err = skip("%s", priv.rawReason())
		} else {
			err = runStep(out, opts, priv, st)
		}
		var sk *errSkip
		switch {
		case errors.As(err, &sk):
			skipped++
			fmt.Fprintf(out, "  skipped: %s\n", sk.reason)
		case err != nil:
			failed = append(failed, st.title)
			fmt.Fprintf(out, "  FAILED: %s\n", oneLine(err))
		}
	}
	fmt.Fprintf(out, "\n== Done: %d steps, %d ran, %d skipped, %d failed ==\n",
		len(steps), len(steps)-skipped-len(failed), skipped, len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d steps failed: %s", len(failed), len(steps), strings.Join(failed, "; "))
	}
	return nil
}

// runStep runs one step with its sockets tracked: they are closed when the
// step ends, or by the watchdog when the step outlives StepTimeout, which
// wakes any call still blocked in them.
func runStep(out io.Writer, opts Options, priv privileges, st tourStep) (err error) {
	s := &stepRun{w: out, opts: opts, priv: priv}
	if st.trace {
		// The trace is the package's global one: remember whether
		// RAWSOCK_TRACE had it on (to stderr) and put that back.
		wasOn := rawsock.Tracing()
		s.traceW = &prefixWriter{w: out, prefix: tracePrefix}
		rawsock.SetTrace(s.traceW)
		defer func() {
			if wasOn {
				rawsock.SetTrace(os.Stderr)
			} else {
				rawsock.SetTrace(nil)
			}
		}()
	}
	timedOut := make(chan struct{})
	watchdog := time.AfterFunc(opts.StepTimeout, func() {
		close(timedOut)
		s.closeAll()
	})
	defer func() {
		if watchdog.Stop() {
			s.closeAll()
			return
		}
		<-timedOut
		err = fmt.Errorf("step took longer than %v and was stopped: %w", opts.StepTimeout, err)
	}()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("step panicked: %v", r)
		}
	}()
	return st.run(s)
}

// tracePrefix indents the trace's syscall lines under the narration.
const tracePrefix = "      "

// stepRun is what a step works with.
type stepRun struct {
	w    io.Writer
	opts Options
	priv privileges

	traceW io.Writer // where the trace goes, for a step that pauses it

	mu      sync.Mutex
	closers []io.Closer
}

// say prints a narration line: who makes the call, and the Python line it
// ports. The trace lines of the call follow it.
func (s *stepRun) say(who, format string, args ...any) {
	fmt.Fprintf(s.w, "  %-8s %s\n", "["+who+"]", fmt.Sprintf(format, args...))
}

// result prints what an exchange produced.
func (s *stepRun) result(format string, args ...any) {
	fmt.Fprintf(s.w, "  => %s\n", fmt.Sprintf(format, args...))
}

// socket opens a socket with the per-call timeout set and tracks it.
func (s *stepRun) socket(family, typ, proto int) (*rawsock.Conn, error) {
	c, err := rawsock.Socket(family, typ, proto)
	if err != nil {
		return nil, err
	}
	return c, s.track(c)
}

// loopbackSocket opens a socket of type typ bound to ('127.0.0.1', 0) and
// returns it with the address the kernel gave it.
func (s *stepRun) loopbackSocket(typ int) (*rawsock.Conn, unix.Sockaddr, error) {
	c, err := s.socket(rawsock.AF_INET, typ, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Bind(loopback4()); err != nil {
		return nil, nil, err
	}
	addr, err := c.Getsockname()
	return c, addr, err
}

// track arranges for c to be closed with the step, and bounds its calls
// when it is a socket.
func (s *stepRun) track(c io.Closer) error {
	s.mu.Lock()
	s.closers = append(s.closers, c)
	s.mu.Unlock()
	if sc, ok := c.(*rawsock.Conn); ok {
		return sc.SetTimeout(s.opts.CallTimeout)
	}
	return nil
}

func (s *stepRun) closeAll() {
	s.mu.Lock()
	cs := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// oneLine keeps a failure to the one line the tour promises.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// syncWriter lets the narration and the trace (which may come from
// another goroutine) share one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// prefixWriter indents every line written to it.
type prefixWriter struct {
	w      io.Writer
	prefix string
	midLn  bool
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = p.buf[:0]
	for _, c := range b {
		if !p.midLn {
			p.buf = append(p.buf, p.prefix...)
			p.midLn = true
		}
		p.buf = append(p.buf, c)
		if c == '\n' {
			p.midLn = false
		}
	}
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, err
	}
	return len(b), nil
}
