package ping

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"golang.org/x/sys/unix"
)

// envChild makes the test binary a small pinger, for tests that need
// another uid or namespace: RAWSOCK_PING_CHILD="DST COUNT SOCKET" pings
// and prints one line, "kind=SOCK_DGRAM transmitted=2 received=2", or
// "error: ..." and exits.
const envChild = "RAWSOCK_PING_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(envChild); v != "" {
		os.Exit(child(v))
	}
	code := m.Run()
	removeTempDirs()
	os.Exit(code)
}

func child(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 3 {
		fmt.Println("error: bad", envChild, spec)
		return 2
	}
	count, _ := strconv.Atoi(f[1])
	kind := map[string]SocketKind{"auto": SocketAuto, "dgram": SocketDgram, "raw": SocketRaw}[f[2]]
	p, err := New(Config{Dst: netip.MustParseAddr(f[0]), Count: count, Interval: 50 * time.Millisecond, Timeout: 2 * time.Second, Deadline: 10 * time.Second, Socket: kind})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	st, err := p.Run(context.Background(), nil)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Printf("kind=%s uid=%d transmitted=%d received=%d ignored=%d\n", p.SocketKind(), os.Getuid(), st.Transmitted, st.Received, st.Ignored)
	return 0
}

// runChild runs the child pinger as nobody inside ns (or here when ns is
// nil) and returns its line.
func runChild(t *testing.T, ns *netns.Namespace, spec string) string {
	t.Helper()
	cmd := socktest.NobodyCommand(t, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+spec)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var err error
	if ns != nil {
		err = ns.Start(cmd)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return strings.TrimSpace(out.String())
}

// openIn opens a pinger inside ns (its sockets belong to ns for good), or
// here when ns is nil.
func openIn(t *testing.T, ns *netns.Namespace, cfg Config) *Pinger {
	t.Helper()
	var p *Pinger
	open := func() (err error) {
		p, err = New(cfg)
		return err
	}
	var err error
	if ns != nil {
		err = ns.Do(open)
	} else {
		err = open()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pingNS returns a host namespace whose ping_group_range admits every
// group, so that datagram ICMP sockets open in it.
func pingNS(t *testing.T) *netns.Namespace {
	t.Helper()
	ns := netns.New(t).Host("h")
	ns.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	return ns
}

// rawNS returns a namespace of its own for a raw-socket test, where root
// can make one: a raw socket on the host's loopback also sees the ICMP of
// every other test running at once (errors pass the filter, to be matched,
// and are counted as ignored). Under setcap alone it returns nil and the
// test runs on the host's loopback.
func rawNS(t *testing.T) *netns.Namespace {
	t.Helper()
	if netns.Check() != nil {
		return nil
	}
	return netns.New(t).Host("raw")
}

// record collects events (copies of them).
type record struct {
	mu     sync.Mutex
	events []Event
}

func (r *record) add(e *Event) {
	r.mu.Lock()
	r.events = append(r.events, *e)
	r.mu.Unlock()
}

func (r *record) kind(k EventKind) []Event {
	var out []Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// TestLoopback pings 127.0.0.1 and ::1 three times at -i 0.2 on both
// sockets: every request answered once, in order, with the TTL and size
// iputils shows, timed, and nothing foreign counted.
func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		dst  string
		kind SocketKind
	}{
		{"127.0.0.1", SocketRaw}, {"::1", SocketRaw}, {"127.0.0.1", SocketDgram}, {"::1", SocketDgram},
	} {
		t.Run(tc.dst+"/"+tc.kind.String(), func(t *testing.T) {
			var ns *netns.Namespace
			if tc.kind == SocketRaw {
				socktest.NeedRaw(t)
				ns = rawNS(t)
			} else {
				ns = pingNS(t)
			}
			if tc.dst == "::1" && ns == nil {
				socktest.SkipIfNoIPv6(t)
			}
			dst := netip.MustParseAddr(tc.dst)
			p := openIn(t, ns, Config{Dst: dst, Count: 3, Interval: 200 * time.Millisecond, Timeout: 2 * time.Second, Deadline: 10 * time.Second, Socket: tc.kind})
			if p.SocketKind() != tc.kind {
				t.Fatalf("socket %v, want %v", p.SocketKind(), tc.kind)
			}
			var r record
			st, err := p.Run(context.Background(), r.add)
			if err != nil {
				t.Fatal(err)
			}
			if st.Transmitted != 3 || st.Received != 3 || st.Duplicates != 0 || st.Errors != 0 || st.Timeouts != 0 || st.Ignored != 0 {
				t.Errorf("statistics %+v, want 3 sent, 3 received, nothing else", st)
			}
			replies := r.kind(EventReply)
			if len(replies) != 3 || len(r.kind(EventSent)) != 3 {
				t.Fatalf("events %+v, want 3 sent and 3 replies", r.events)
			}
			for i, e := range replies {
				if int(e.Seq) != i+1 || e.From != dst || e.TTL != 64 || e.Size != 64 || !e.Timed || e.RTT <= 0 || e.Dup || e.Late {
					t.Errorf("reply %d: %+v, want icmp_seq=%d from %v ttl=64, 64 bytes, timed", i, e, i+1, dst)
				}
			}
			if !st.Timed || st.Min > st.Avg+time.Microsecond || st.Avg > st.Max || st.Min <= 0 {
				t.Errorf("rtt min/avg/max %v/%v/%v", st.Min, st.Avg, st.Max)
			}
			// The schedule, not the machine's speed: 3 requests 0.2 s apart
			// cannot span less than 0.4 s.
			if st.Time < 400*time.Millisecond {
				t.Errorf("time %v, want at least 400ms for -c 3 -i 0.2", st.Time)
			}
		})
	}
}

// TestDgramID checks that a datagram pinger's identifier is its local port,
// the one Linux writes into its requests.
func TestDgramID(t *testing.T) {
	ns := pingNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 1, Socket: SocketDgram})
	sa, err := p.sys.c.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	if port := sa.(*unix.SockaddrInet4).Port; port != int(p.ID()) || port == 0 {
		t.Errorf("ID %d, local port %d", p.ID(), port)
	}
	q := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 1, Socket: SocketDgram, ID: 4242})
	if q.ID() != 4242 {
		t.Errorf("Config.ID 4242 gave ID %d", q.ID())
	}
}

// TestConcurrentPingers runs two pingers to 127.0.0.1 at once, B started
// while A is running and stopped after A ends, so B's replies reach A's
// socket throughout: each must count exactly its own. On raw sockets the
// BPF filter keeps B's replies out of A entirely (Ignored 0); without it
// they reach A and are only ignored, which proves the filter is what
// keeps them out. A flood attaches its filter at the first packet not its
// own, as iputils does: it ignores a few, those queued before the filter.
// Datagram sockets get that from the kernel's port match.
func TestConcurrentPingers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  SocketKind
		noBPF bool
		flood bool // A floods: its Run has the fd off the poller (direct_linux.go)
	}{
		{"raw", SocketRaw, false, false}, {"raw without BPF", SocketRaw, true, false},
		{"raw flood", SocketRaw, false, true}, {"dgram", SocketDgram, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ns *netns.Namespace
			if tc.kind == SocketRaw {
				socktest.NeedRaw(t)
				ns = rawNS(t)
			} else {
				ns = pingNS(t)
			}
			dst := netip.MustParseAddr("127.0.0.1")
			n := 300
			if tc.flood {
				n = 20000 // about 150 ms, over a hundred of B's replies
			}
			cfgA := Config{Dst: dst, Count: n, Interval: time.Millisecond, Flood: tc.flood, Timeout: 5 * time.Second, WaitAll: true, Socket: tc.kind} // no deadline: with one, Count would count replies
			cfgB := Config{Dst: dst, Interval: time.Millisecond, Timeout: 2 * time.Second, Deadline: 30 * time.Second, Socket: tc.kind}
			if tc.kind == SocketRaw { // distinct identifiers, not left to chance
				cfgA.ID, cfgB.ID = 1000, 2000
			}
			a, b := openIn(t, ns, cfgA), openIn(t, ns, cfgB)
			a.noBPF = tc.noBPF
			if tc.noBPF { // the filter is installed at open: reopen A without it
				a.Close()
				a = &Pinger{cfg: cfgA, noBPF: true}
				if err := a.check(); err != nil {
					t.Fatal(err)
				}
				open := a.open
				if ns != nil {
					open = func() error { return ns.Do(a.open) }
				}
				if err := open(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { a.Close() })
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := make(chan struct{})
			var once sync.Once
			var bst Statistics
			var berr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				bst, berr = b.Run(ctx, func(e *Event) {
					if e.Kind == EventReply {
						once.Do(func() { close(first) })
					}
				})
			}()
			select {
			case <-first:
			case <-time.After(10 * time.Second):
				t.Fatal("pinger B got no reply in 10 s")
			}
			ast, err := a.Run(context.Background(), nil)
			cancel()
			<-done
			if err != nil || berr != nil {
				t.Fatal(err, berr)
			}
			if ast.Transmitted != n || ast.Received != n || ast.Duplicates != 0 || ast.Errors != 0 {
				t.Errorf("A: %+v, want %d sent and received, no duplicates", ast, n)
			}
			// The last may be in flight at cancel. Beside a flood in the same
			// process, B's goroutine may not have read its last few replies
			// yet when A ends (on one CPU, dozens): not counted here.
			if !tc.flood && bst.Received != bst.Transmitted && bst.Received != bst.Transmitted-1 {
				t.Errorf("B: %+v, want every request answered", bst)
			}
			if bst.Duplicates != 0 || bst.Transmitted < 10 {
				t.Errorf("B: %+v, want no duplicates and a run that overlapped A's", bst)
			}
			switch {
			case tc.noBPF:
				if ast.Ignored == 0 {
					t.Errorf("A without its BPF filter ignored nothing of B's %d replies: the test does not overlap the two", bst.Received)
				}
				if k := filterLen(t, a); k != 0 {
					t.Errorf("A opened without its BPF filter has a %d-instruction filter", k)
				}
			case tc.flood:
				if ast.Ignored == 0 {
					t.Errorf("flooding A ignored none of B's replies: the test does not overlap the two")
				}
				if k := filterLen(t, a); k == 0 {
					t.Errorf("flooding A saw %d foreign packets and attached no BPF filter", ast.Ignored)
				}
				if bst.Ignored != 0 {
					t.Errorf("B ignored %d of the flood's replies: its filter was not on from the start", bst.Ignored)
				}
			case ast.Ignored != 0 || bst.Ignored != 0:
				t.Errorf("foreign packets reached the pingers: A ignored %d, B %d", ast.Ignored, bst.Ignored)
			}
			t.Logf("A %d/%d ignored %d; B %d/%d ignored %d", ast.Received, ast.Transmitted, ast.Ignored, bst.Received, bst.Transmitted, bst.Ignored)
		})
	}
}

// TestSocketChoice checks iputils' choice inside namespaces whose
// ping_group_range this test sets: root gets the datagram socket when its
// group is inside the range and the raw one when not; nobody gets the
// datagram socket when the range admits it, and the one-line error when
// neither socket is allowed.
func TestSocketChoice(t *testing.T) {
	socktest.NeedRaw(t)
	tp := netns.New(t)
	open, closed := tp.Host("open"), tp.Host("closed")
	open.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	closed.Sysctl("net.ipv4.ping_group_range", "1 0")
	for _, tc := range []struct {
		ns   *netns.Namespace
		dst  string
		want SocketKind
	}{
		{open, "127.0.0.1", SocketDgram}, {open, "::1", SocketDgram},
		{closed, "127.0.0.1", SocketRaw}, {closed, "::1", SocketRaw},
	} {
		p := openIn(t, tc.ns, Config{Dst: netip.MustParseAddr(tc.dst), Count: 1})
		if p.SocketKind() != tc.want {
			t.Errorf("root in %s, %s: %v, want %v", tc.ns.Label, tc.dst, p.SocketKind(), tc.want)
		}
	}
	err := closed.Do(func() error {
		_, err := New(Config{Dst: netip.MustParseAddr("127.0.0.1"), Socket: SocketDgram})
		return err
	})
	if !errors.Is(err, unix.EACCES) {
		t.Errorf("SocketDgram outside the range: %v, want EACCES", err)
	}

	if got := runChild(t, open, "127.0.0.1 2 auto"); !strings.HasPrefix(got, "kind=SOCK_DGRAM uid=65534 transmitted=2 received=2 ") {
		t.Errorf("nobody, range open: %q, want two replies on SOCK_DGRAM", got)
	}
	got := runChild(t, closed, "127.0.0.1 2 auto")
	for _, want := range []string{"error: ping: socket: Operation not permitted", `sysctl -w net.ipv4.ping_group_range="0 2147483647"`, "setcap cap_net_raw+ep", "or run as root"} {
		if !strings.Contains(got, want) || strings.Count(got, "\n") != 0 {
			t.Errorf("nobody, range closed: %q, want one line containing %q", got, want)
		}
	}
}

func TestNoSocketError(t *testing.T) {
	err := error(&noSocketError{exe: "/usr/local/bin/rawsock"})
	if !errors.Is(err, ErrNoSocket) || !errors.Is(err, unix.EPERM) {
		t.Errorf("%v does not match ErrNoSocket and EPERM", err)
	}
}

// TestConfigErrors checks that bad configurations fail in New with a line
// that names the cause, before any socket is opened.
func TestConfigErrors(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no destination address"},
		{Config{Dst: lo, Size: 70000}, "invalid size 70000: out of range: 0 <= value <= 65507"},
		{Config{Dst: netip.MustParseAddr("::1"), Size: 65528}, "invalid size 65528: out of range: 0 <= value <= 65527"},
		{Config{Dst: lo, TOS: 256}, "the decimal value of TOS bits must be in range 0-255: 256"},
		{Config{Dst: lo, Preload: 65537}, "invalid preload 65537"},
		{Config{Dst: lo, TTL: 300}, "invalid TTL 300"},
		{Config{Dst: lo, ID: 70000}, "invalid identifier 70000"},
		{Config{Dst: lo, Count: -1}, "negative count"},
		{Config{Dst: lo, Source: netip.MustParseAddr("::1")}, "is not of the family of 127.0.0.1"},
	} {
		p, err := New(tc.cfg)
		if err == nil {
			p.Close()
			t.Errorf("New(%+v) succeeded, want %q", tc.cfg, tc.want)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestCancel ends an endless run with its context, as Ctrl-C does.
func TestCancel(t *testing.T) {
	socktest.NeedRaw(t)
	p := openIn(t, nil, Config{Dst: netip.MustParseAddr("127.0.0.1"), Interval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var replies int
	st, err := p.Run(ctx, func(e *Event) {
		if e.Kind == EventReply {
			if replies++; replies == 3 {
				cancel()
			}
		}
	})
	if err != nil || st.Received != 3 || st.Transmitted != 3 {
		t.Errorf("cancelled after 3 replies: %+v, %v", st, err)
	}
	if _, err := p.Run(context.Background(), nil); err == nil {
		t.Error("a second Run succeeded")
	}
}

// TestAllocs guards the hot path: a request sent, its reply received,
// parsed, counted and reported allocate nothing, on both sockets.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are skipped in -short mode")
	}
	for _, tc := range []struct {
		kind   SocketKind
		direct bool // a flood's Run takes a raw socket off the poller (direct_linux.go)
	}{{SocketRaw, true}, {SocketRaw, false}, {SocketDgram, false}} {
		kind := tc.kind
		name := kind.String()
		if tc.direct {
			name += "-direct"
		}
		t.Run(name, func(t *testing.T) {
			var ns *netns.Namespace
			if kind == SocketRaw {
				socktest.NeedRaw(t)
			} else {
				ns = pingNS(t)
			}
			p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Flood: true, Socket: kind})
			p.initState(time.Now())
			if tc.direct {
				if err := p.sys.goDirect(); err != nil {
					t.Fatal(err)
				}
				defer p.sys.endDirect()
			}
			replies := 0
			fn := func(e *Event) {
				if e.Kind == EventReply {
					replies++
				}
			}
			step := func() {
				p.send(fn)
				for want := replies + 1; replies < want; {
					n, err := p.recv(time.Now())
					if err != nil || n == 0 {
						t.Fatal(n, err)
					}
					for i := range n {
						p.handle(&p.sys.msgs[i])
						p.flush(fn)
					}
				}
			}
			step() // the first call sets up what is reused
			if a := testing.AllocsPerRun(500, step); a != 0 {
				t.Errorf("%v allocations per request and reply, want 0", a)
			}
		})
	}
}

// filterLen is the number of instructions of the BPF filter on p's socket:
// getsockopt(SO_GET_FILTER) with no buffer returns it in the length.
func filterLen(t *testing.T, p *Pinger) int {
	t.Helper()
	fd := p.sys.c.Fileno()
	if p.sys.direct {
		fd = p.sys.d.fd
	}
	var l uint32
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_GET_FILTER, 0, uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		t.Fatalf("getsockopt(SO_GET_FILTER): %v", e)
	}
	return int(l)
}

// TestFloodFilterWaitsForForeignPacket: a raw flood alone on its host
// attaches no BPF filter, as iputils' does not, so it does not run one on
// every reply; the first packet not its own attaches it (see
// TestConcurrentPingers). Any other pinger has it from the open.
func TestFloodFilterWaitsForForeignPacket(t *testing.T) {
	socktest.NeedRaw(t)
	ns := rawNS(t)
	cfg := Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 2000, Flood: true, Timeout: 5 * time.Second, Socket: SocketRaw}
	p := openIn(t, ns, cfg)
	st, err := p.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != cfg.Count || st.Ignored != 0 {
		t.Fatalf("%+v, want %d replies and nothing foreign in a namespace of its own", st, cfg.Count)
	}
	if k := filterLen(t, p); k != 0 {
		t.Errorf("a flood that saw only its own replies attached a %d-instruction BPF filter", k)
	}
	cfg.Flood = false
	if k := filterLen(t, openIn(t, ns, cfg)); k == 0 {
		t.Errorf("a pinger that is not a flood opened without its BPF filter")
	}
}
