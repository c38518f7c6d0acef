package traceroute

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sync"
	"testing"
	"time"
)

// fakeNet is a transport with no sockets: answer says what comes back for
// each probe and after how long (ok false: nothing).
type fakeNet struct {
	answer func(seq, ttl int) (r reply, after time.Duration, ok bool)
	tooBig int               // send refuses probes longer (the local link's MTU)
	mtu    func(ttl int) int // the path MTU to hop ttl: longer probes get a frag needed from hop ttl-1

	mu    sync.Mutex
	out   chan<- reply
	sends []fakeSend
	wg    sync.WaitGroup
	done  chan struct{}
}

type fakeSend struct {
	seq, ttl, size int
	at             time.Time
}

func (f *fakeNet) send(seq, ttl, size int) error {
	f.mu.Lock()
	f.sends = append(f.sends, fakeSend{seq, ttl, size, time.Now()})
	f.mu.Unlock()
	if f.tooBig > 0 && size > f.tooBig {
		return errTooBig
	}
	r, after, ok := f.answer(seq, ttl)
	if f.mtu != nil {
		if mtu := f.mtu(ttl); mtu > 0 && size > mtu {
			r, after, ok = reply{from: testHop(ttl - 1), kind: Unreachable, typ: 3, code: 4, mtu: mtu, final: true}, time.Millisecond, true
		}
	}
	if !ok {
		return nil
	}
	r.seq = seq
	f.wg.Add(1)
	time.AfterFunc(after, func() {
		defer f.wg.Done()
		r.at = time.Now()
		select {
		case f.out <- r:
		case <-f.done:
		}
	})
	return nil
}

func (f *fakeNet) start(out chan<- reply) { f.out, f.done = out, make(chan struct{}) }
func (f *fakeNet) close() error           { close(f.done); f.wg.Wait(); return nil }
func (f *fakeNet) socket() string         { return "fake" }

func (f *fakeNet) sent() []fakeSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeSend(nil), f.sends...)
}

var (
	testDst = netip.MustParseAddr("192.0.2.9")
	testHop = func(ttl int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(ttl), 1}) }
)

// line answers like a path of hops routers, then the destination.
func line(hops int) func(seq, ttl int) (reply, time.Duration, bool) {
	return func(seq, ttl int) (reply, time.Duration, bool) {
		if ttl <= hops {
			return reply{from: testHop(ttl), kind: TimeExceeded, typ: 11}, time.Millisecond, true
		}
		return reply{from: testDst, kind: PortUnreachable, typ: 3, code: 3, final: true}, time.Millisecond, true
	}
}

// runFake runs a trace over f and returns its result and the hops onHop saw.
func runFake(t *testing.T, ctx context.Context, cfg Config, f *fakeNet) (*Result, []Hop, error) {
	t.Helper()
	cfg.Dst = testDst
	if cfg.Here == 0 && cfg.Near == 0 {
		// A fixed wait: the adaptive one's milliseconds a loaded
		// machine can outlast; the tests of it set the factors.
		cfg.Here, cfg.Near = Off, Off
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tr := &Tracer{cfg: cfg, tr: f, mtu: f.tooBig}
	defer tr.Close()
	var seen []Hop
	res, err := tr.Run(ctx, func(h *Hop) { seen = append(seen, *h) })
	return res, seen, err
}

// TestEngineStopsAtDestination: the hops come in order, one per TTL, and
// the trace ends with the destination's hop. With no more probes in flight
// than a hop has, none is sent past that hop; with 16 in flight, the first
// burst goes out before any answer.
func TestEngineStopsAtDestination(t *testing.T) {
	for _, tc := range []struct{ sim, wantSends int }{{1, 12}, {2, 12}, {3, 12}, {16, -1}} {
		f := &fakeNet{answer: line(3)}
		res, seen, err := runFake(t, context.Background(), Config{SimProbes: tc.sim, MaxTTL: 10}, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hops) != 4 || len(seen) != 4 || !res.Reached() {
			t.Fatalf("sim %d: %d hops (%d seen), reached %v, want 4 hops ending at the destination", tc.sim, len(res.Hops), len(seen), res.Reached())
		}
		for i, h := range res.Hops {
			want := testHop(i + 1)
			if i == 3 {
				want = testDst
			}
			if h.TTL != i+1 || len(h.Probes) != 3 || h.Addrs()[0] != want || len(h.Addrs()) != 1 {
				t.Errorf("sim %d: hop %d: TTL %d, %d probes from %v, want TTL %d from %v", tc.sim, i, h.TTL, len(h.Probes), h.Addrs(), i+1, want)
			}
			if seen[i].TTL != h.TTL {
				t.Errorf("sim %d: onHop saw TTL %d as hop %d", tc.sim, seen[i].TTL, i)
			}
			for _, p := range h.Probes {
				if p.RTT <= 0 || p.RTT > time.Second || p.Sent.IsZero() {
					t.Errorf("sim %d: hop %d: probe %d sent %v, RTT %v", tc.sim, i, p.Seq, p.Sent, p.RTT)
				}
			}
		}
		if n := len(f.sent()); tc.wantSends < 0 && n < tc.sim || tc.wantSends >= 0 && n != tc.wantSends {
			t.Errorf("sim %d: %d probes sent, want %d", tc.sim, n, tc.wantSends)
		}
	}
}

// TestEngineBoundsProbesInFlight: with nothing answering, no more than
// SimProbes probes are out at once, so probe SimProbes+1 leaves only when
// the first has timed out; every probe comes back as NoAnswer.
func TestEngineBoundsProbesInFlight(t *testing.T) {
	const wait = 60 * time.Millisecond
	f := &fakeNet{answer: func(int, int) (reply, time.Duration, bool) { return reply{}, 0, false }}
	res, _, err := runFake(t, context.Background(), Config{SimProbes: 4, MaxTTL: 3, Wait: wait}, f)
	if err != nil {
		t.Fatal(err)
	}
	sends := f.sent()
	if len(sends) != 9 || len(res.Hops) != 3 {
		t.Fatalf("%d sends, %d hops: want 9 and 3", len(sends), len(res.Hops))
	}
	for i := 4; i < len(sends); i++ {
		if gap := sends[i].at.Sub(sends[i-4].at); gap < wait {
			t.Errorf("probe %d left %v after probe %d: more than 4 in flight", i, gap, i-4)
		}
	}
	for _, h := range res.Hops {
		for _, p := range h.Probes {
			if p.Answered() || p.From.IsValid() {
				t.Errorf("probe %d: %v from %v, want no answer", p.Seq, p.Kind, p.From)
			}
		}
	}
}

// TestEngineLateAndDuplicate: an answer after the wait is dropped (the
// probe stays '*'), a second answer to a probe does not change the first,
// and an answer naming no probe of the trace is ignored.
func TestEngineLateAndDuplicate(t *testing.T) {
	const wait = 50 * time.Millisecond
	f := &fakeNet{}
	f.answer = func(seq, ttl int) (reply, time.Duration, bool) {
		switch seq {
		case 0:
			// A duplicate of probe 0, from elsewhere, and a stray.
			f.out <- reply{seq: 0, from: testHop(9), kind: TimeExceeded, at: time.Now()}
			f.out <- reply{seq: 99, from: testHop(8), kind: PortUnreachable, final: true}
			return reply{from: testHop(1), kind: TimeExceeded}, 10 * time.Millisecond, true
		case 1:
			return reply{from: testHop(1), kind: TimeExceeded}, 3 * wait, true
		}
		return reply{from: testDst, kind: PortUnreachable, final: true}, time.Millisecond, true
	}
	res, _, err := runFake(t, context.Background(), Config{MaxTTL: 5, Wait: wait, Queries: 2}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 2 || !res.Reached() {
		t.Fatalf("%d hops, reached %v: want 2 ending at the destination", len(res.Hops), res.Reached())
	}
	p0, p1 := res.Hops[0].Probes[0], res.Hops[0].Probes[1]
	if p0.From != testHop(9) {
		t.Errorf("probe 0 from %v: want the first answer's %v", p0.From, testHop(9))
	}
	if p1.Answered() {
		t.Errorf("probe 1 answered (%v from %v) though its answer came after the wait", p1.Kind, p1.From)
	}
}

// TestEngineCancel: a cancelled context ends Run at once with its error
// and the hops so far.
func TestEngineCancel(t *testing.T) {
	f := &fakeNet{answer: func(seq, ttl int) (reply, time.Duration, bool) {
		if ttl == 1 {
			return reply{from: testHop(1), kind: TimeExceeded}, 0, true
		}
		return reply{}, 0, false
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, _, err := runFake(t, ctx, Config{Wait: time.Hour}, f)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run: %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v after its context ended", d)
	}
	if len(res.Hops) != 1 || res.Hops[0].Addrs()[0] != testHop(1) {
		t.Errorf("hops so far: %+v, want hop 1", res.Hops)
	}
}

// TestEngineReaderError: a reader that fails ends the trace with its error.
func TestEngineReaderError(t *testing.T) {
	boom := errors.New("recvmsg: boom")
	f := &fakeNet{}
	f.answer = func(seq, ttl int) (reply, time.Duration, bool) {
		return reply{err: boom}, 0, true
	}
	if _, _, err := runFake(t, context.Background(), Config{}, f); !errors.Is(err, boom) {
		t.Errorf("Run: %v, want %v", err, boom)
	}
}

// TestEngineFinalUnreachable: an unreachable ends the trace at its hop,
// with its mark, and the destination counts as not reached.
func TestEngineFinalUnreachable(t *testing.T) {
	f := &fakeNet{answer: func(seq, ttl int) (reply, time.Duration, bool) {
		if ttl < 2 {
			return reply{from: testHop(ttl), kind: TimeExceeded}, 0, true
		}
		k, a, final := classifyICMP(false, 3, 1, 0)
		return reply{from: testHop(ttl), kind: k, annotation: a, final: final, typ: 3, code: 1}, 0, true
	}}
	res, _, err := runFake(t, context.Background(), Config{}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 2 || res.Reached() || !res.Hops[1].Final() || res.Hops[1].Probes[2].Annotation != "!H" {
		t.Errorf("hops %+v: want 2, the last final with !H, not reached", res.Hops)
	}
}

func TestRunOnce(t *testing.T) {
	f := &fakeNet{answer: line(0)}
	cfg, _ := Config{Dst: testDst}.withDefaults()
	tr := &Tracer{cfg: cfg, tr: f}
	defer tr.Close()
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err == nil {
		t.Error("a second Run did not fail")
	}
}

// TestEngineSlowOnHop: an onHop slower than the wait (a name lookup) does
// not turn answers that arrived in time into '*': lateness is judged by
// arrival.
func TestEngineSlowOnHop(t *testing.T) {
	const wait = 40 * time.Millisecond
	f := &fakeNet{answer: line(3)}
	cfg, err := Config{Dst: testDst, Wait: wait, MaxTTL: 6}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tr := &Tracer{cfg: cfg, tr: f}
	defer tr.Close()
	res, err := tr.Run(context.Background(), func(h *Hop) { time.Sleep(3 * wait) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 4 || !res.Reached() {
		t.Fatalf("%d hops, reached %v: want 4 ending at the destination", len(res.Hops), res.Reached())
	}
	for _, h := range res.Hops {
		for _, p := range h.Probes {
			if !p.Answered() {
				t.Errorf("TTL %d probe %d: no answer, though it came within the wait", h.TTL, p.Seq)
			}
		}
	}
}

// silentAt answers like line(hops), but hop silent never answers.
func silentAt(hops, silent int) func(seq, ttl int) (reply, time.Duration, bool) {
	l := line(hops)
	return func(seq, ttl int) (reply, time.Duration, bool) {
		if ttl == silent {
			return reply{}, 0, false
		}
		return l(seq, ttl)
	}
}

// TestEngineTimeout: a probe's wait, as traceroute's get_timeout computes
// it: HERE times the first answer of its own hop, else NEAR times the first
// answer sent after it, each with a millisecond added, at most MAX; a zero
// factor skips its rule.
func TestEngineTimeout(t *testing.T) {
	const q = 3
	answeredIn := func(rtt time.Duration) Probe { return Probe{Kind: TimeExceeded, RTT: rtt} }
	for _, tc := range []struct {
		name       string
		wait       time.Duration
		here, near float64
		probes     []Probe // hops of q; the probe asked about is 3 (hop 2's first)
		done       []bool
		want       time.Duration
	}{
		{"nothing answered", 5 * time.Second, 3, 10, make([]Probe, 9), make([]bool, 9), 5 * time.Second},
		{"same hop", 5 * time.Second, 3, 10,
			[]Probe{{}, {}, {}, {}, answeredIn(4 * time.Millisecond), {}, answeredIn(time.Millisecond), {}, {}},
			[]bool{false, false, false, false, true, false, true, false, false}, 15 * time.Millisecond},
		{"next hop", 5 * time.Second, 3, 10,
			[]Probe{{}, {}, {}, {}, {}, {}, {}, answeredIn(2 * time.Millisecond), {}},
			[]bool{false, false, false, false, true, false, false, true, false}, 30 * time.Millisecond},
		{"an earlier hop does not count", 5 * time.Second, 3, 10,
			[]Probe{answeredIn(time.Millisecond), {}, {}, {}, {}, {}, {}, {}, {}},
			[]bool{true, false, false, false, false, false, false, false, false}, 5 * time.Second},
		{"capped by MAX", 20 * time.Millisecond, 3, 10,
			[]Probe{{}, {}, {}, {}, {}, {}, {}, answeredIn(2 * time.Millisecond), {}},
			[]bool{false, false, false, false, false, false, false, true, false}, 20 * time.Millisecond},
		{"HERE off", 5 * time.Second, 0, 10,
			[]Probe{{}, {}, {}, {}, answeredIn(4 * time.Millisecond), {}, {}, {}, {}},
			[]bool{false, false, false, false, true, false, false, false, false}, 50 * time.Millisecond},
		{"both off", 5 * time.Second, 0, 0,
			[]Probe{{}, {}, {}, {}, answeredIn(4 * time.Millisecond), {}, {}, {}, {}},
			[]bool{false, false, false, false, true, false, false, false, false}, 5 * time.Second},
		{"-w 0", 0, 3, 10,
			[]Probe{{}, {}, {}, {}, answeredIn(4 * time.Millisecond), {}, {}, {}, {}},
			[]bool{false, false, false, false, true, false, false, false, false}, 0},
	} {
		e := &engine{cfg: Config{Queries: q, Wait: tc.wait, Here: tc.here, Near: tc.near}, probes: tc.probes, done: tc.done, next: len(tc.probes)}
		if got := e.timeout(3); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestEngineAdaptiveWait: past a silent hop the trace does not wait MAX
// (an hour here): the silent probes wait NEAR times the round trip of the
// later hops' answers, as traceroute's -w MAX,HERE,NEAR does. Before
// adaptive waits the run took the hour (the context's minute ended it).
func TestEngineAdaptiveWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := &fakeNet{answer: silentAt(3, 2)}
	// Factors well above the defaults, that a loaded machine's late
	// timers cannot outlast: the silent probes wait about a second.
	res, _, err := runFake(t, ctx, Config{Wait: time.Hour, Here: 100, Near: 1000, MaxTTL: 10}, f)
	if err != nil {
		t.Fatalf("Run: %v (the silent hop waited for MAX)", err)
	}
	if len(res.Hops) != 4 || !res.Reached() {
		t.Fatalf("%d hops, reached %v: want 4 ending at the destination", len(res.Hops), res.Reached())
	}
	for _, p := range res.Hops[1].Probes {
		if p.Answered() {
			t.Errorf("the silent hop answered: %+v", p)
		}
	}
}

// TestEngineFixedWait: with both factors off (traceroute -w MAX), a
// silent probe waits the whole MAX.
func TestEngineFixedWait(t *testing.T) {
	const wait = 80 * time.Millisecond
	f := &fakeNet{answer: silentAt(3, 2)}
	start := time.Now()
	res, _, err := runFake(t, context.Background(), Config{Wait: wait, MaxTTL: 10, Queries: 1}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 4 || res.Hops[1].Probes[0].Answered() {
		t.Fatalf("%+v: want 4 hops, the second silent", res.Hops)
	}
	if d := time.Since(start); d < wait {
		t.Errorf("the trace took %v: the silent probe cannot have waited %v", d, wait)
	}
}

// TestEngineNoWait: with NoWait (traceroute -w 0) a path where nothing
// answers ends at once, every probe '*'.
func TestEngineNoWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := &fakeNet{answer: func(int, int) (reply, time.Duration, bool) { return reply{}, 0, false }}
	res, _, err := runFake(t, ctx, Config{Wait: NoWait, MaxTTL: 5}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 5 || len(f.sent()) != 15 {
		t.Errorf("%d hops, %d probes: want 5 and 15", len(res.Hops), len(f.sent()))
	}
}

// TestEngineSendInterval: no two probes leave closer than SendInterval
// (traceroute -z).
func TestEngineSendInterval(t *testing.T) {
	const gap = 15 * time.Millisecond
	f := &fakeNet{answer: line(1)}
	if _, _, err := runFake(t, context.Background(), Config{SendInterval: gap, MaxTTL: 5}, f); err != nil {
		t.Fatal(err)
	}
	sends := f.sent()
	if len(sends) != 6 {
		t.Fatalf("%d probes sent, want 6", len(sends))
	}
	for i := 1; i < len(sends); i++ {
		if d := sends[i].at.Sub(sends[i-1].at); d < gap {
			t.Errorf("probe %d left %v after the one before, want at least %v", i, d, gap)
		}
	}
}

// TestEngineDiscoverMTU: with DiscoverMTU a probe too big for the local
// link (the kernel refuses it) or for a link on the way (a frag needed
// comes back) is sent again at the MTU reported, which its Probe records
// and the Printer shows as traceroute --mtu does.
func TestEngineDiscoverMTU(t *testing.T) {
	f := &fakeNet{answer: line(3), tooBig: 1500, mtu: func(ttl int) int {
		switch {
		case ttl >= 4:
			return 1300
		case ttl >= 3:
			return 1400
		}
		return 0
	}}
	res, _, err := runFake(t, context.Background(), Config{DiscoverMTU: true, MaxTTL: 10}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 4 || !res.Reached() {
		t.Fatalf("%d hops, reached %v: want 4 ending at the destination", len(res.Hops), res.Reached())
	}
	p := &Printer{Numeric: true}
	want := []string{
		" 1  10.0.1.1  X ms F=1500  X ms  X ms\n",
		" 2  10.0.2.1  X ms  X ms  X ms\n",
		" 3  10.0.3.1  X ms F=1400  X ms  X ms\n",
		" 4  192.0.2.9  X ms F=1300  X ms  X ms\n",
	}
	for i, h := range res.Hops {
		if got := msRE.ReplaceAllString(p.Line(&h), "X ms"); got != want[i] {
			t.Errorf("hop %d: %q, want %q", i+1, got, want[i])
		}
	}
	var sizes []int
	for _, s := range f.sent() {
		sizes = append(sizes, s.size)
	}
	if fmt.Sprint(sizes) != "[65000 1500 1500 1500 1500 1500 1500 1500 1400 1400 1400 1400 1300 1300 1300]" {
		t.Errorf("probe sizes %v", sizes)
	}
}

// TestEngineLocalTooBig: without DiscoverMTU, a probe the kernel refuses
// as too big is answered by no one with !F-<mtu> and ends the trace, as
// traceroute -F prints it.
func TestEngineLocalTooBig(t *testing.T) {
	f := &fakeNet{answer: line(3), tooBig: 1500}
	res, _, err := runFake(t, context.Background(), Config{DontFragment: true, PacketLen: 1600}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hops) != 1 || res.Reached() {
		t.Fatalf("%+v: want one hop, not reached", res.Hops)
	}
	got := msRE.ReplaceAllString((&Printer{Numeric: true}).Line(&res.Hops[0]), "X ms")
	if want := " 1  *  X ms !F-1500 *  X ms !F-1500 *  X ms !F-1500\n"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

var msRE = regexp.MustCompile(`[0-9]+\.[0-9]{3} ms`)

// TestEngineRelocateFinal: as traceroute's check_expired, an unreachable
// answering the probes of hop 3, from the router whose time exceeded at
// hop 2 was silent, moves to hop 2 when its TTL as it arrived says it came
// from there (63: one hop back from a sender at 64, hop 1 answering at
// 64); the trace then ends at hop 2, each probe marked. A port unreachable
// (the destination's own answer, in order) does not move, nor does an
// unreachable whose TTL says it came from farther.
func TestEngineRelocateFinal(t *testing.T) {
	answer := func(finalTTL int, mark string) func(seq, ttl int) (reply, time.Duration, bool) {
		return func(seq, ttl int) (reply, time.Duration, bool) {
			switch ttl {
			case 1:
				return reply{from: testHop(1), kind: TimeExceeded, ttl: 64}, time.Millisecond, true
			case 2:
				return reply{}, 0, false // silent
			}
			k := PortUnreachable
			if mark != "" {
				k = Unreachable
			}
			return reply{from: testHop(2), kind: k, annotation: mark, final: true, ttl: finalTTL}, time.Millisecond, true
		}
	}
	for _, tc := range []struct {
		name     string
		finalTTL int
		mark     string
		want     []string
	}{
		{"moved", 63, "!F-1400", []string{" 1  10.0.1.1  X ms  X ms  X ms\n", " 2  10.0.2.1  X ms !F-1400  X ms !F-1400  X ms !F-1400\n"}},
		{"port unreachable stays", 63, "", []string{" 1  10.0.1.1  X ms  X ms  X ms\n", " 2  * * *\n", " 3  10.0.2.1  X ms  X ms  X ms\n"}},
		{"from farther", 62, "!H", []string{" 1  10.0.1.1  X ms  X ms  X ms\n", " 2  * * *\n", " 3  10.0.2.1  X ms !H  X ms !H  X ms !H\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The silent probes wait about 100 ms: NEAR 50 times hop
			// 3's round trip and the millisecond.
			res, _, err := runFake(t, context.Background(), Config{Wait: time.Minute, Here: 50, Near: 50, MaxTTL: 6}, &fakeNet{answer: answer(tc.finalTTL, tc.mark)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hops {
				got = append(got, msRE.ReplaceAllString((&Printer{Numeric: true}).Line(&h), "X ms"))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
