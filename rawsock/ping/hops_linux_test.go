package ping

import (
	"context"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/internal/netns"
)

// kinds runs f for each socket; the datagram runs open the range in ns.
func kinds(t *testing.T, ns *netns.Namespace, f func(t *testing.T, kind SocketKind)) {
	ns.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	for _, k := range []SocketKind{SocketRaw, SocketDgram} {
		t.Run(k.String(), func(t *testing.T) { f(t, k) })
	}
}

// TestICMPErrors pings across a router that answers with ICMP errors: an
// address it routes as unreachable, and B with a TTL of 1. Each request
// gets its error, from the router, with iputils' words, on both sockets
// (as data on the raw one, through the error queue on the datagram one).
func TestICMPErrors(t *testing.T) {
	l := netns.NewLine(t, 2)
	kinds(t, l.A, func(t *testing.T, kind SocketKind) {
		for _, tc := range []struct {
			name      string
			dst, from netip.Addr
			ttl       int
			typ, code uint8
			reason    string
		}{
			// The last router answers for the unreachable prefixes, from
			// its address toward A.
			{"unreachable v4", l.Unreachable4, l.Hops4[1], 0, 3, 1, "Destination Host Unreachable"},
			{"unreachable v6", l.Unreachable6, l.Hops6[1], 0, 1, 0, "Destination unreachable: No route"},
			{"ttl v4", l.B.Addr4(), l.Hops4[0], 1, 11, 0, "Time to live exceeded"},
			{"ttl v6", l.B.Addr6(), l.Hops6[0], 1, 3, 0, "Time exceeded: Hop limit"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// No deadline: under one, as in iputils, the first error ends
				// the run. Count and Timeout bound it.
				p := openIn(t, l.A, Config{Dst: tc.dst, Count: 2, Interval: 100 * time.Millisecond, TTL: tc.ttl, Timeout: 2 * time.Second, Socket: kind})
				var r record
				st, err := p.Run(context.Background(), r.add)
				if err != nil {
					t.Fatal(err)
				}
				if st.Transmitted != 2 || st.Errors != 2 || st.Received != 0 || st.Timeouts != 0 {
					t.Errorf("statistics %+v, want 2 sent, 2 errors", st)
				}
				errs := r.kind(EventError)
				if len(errs) != 2 {
					t.Fatalf("events %+v, want 2 errors", r.events)
				}
				for i, e := range errs {
					if int(e.Seq) != i+1 || e.From != tc.from || e.Type != tc.typ || e.Code != tc.code || e.Reason() != tc.reason {
						t.Errorf("error %d: seq %d from %v type %d code %d %q, want seq %d from %v type %d code %d %q",
							i, e.Seq, e.From, e.Type, e.Code, e.Reason(), i+1, tc.from, tc.typ, tc.code, tc.reason)
					}
				}
			})
		}
	})
}

// TestLoss pings through a router that drops 30% of echo requests: the
// loss is exactly what the rule dropped, the only loss on the path, and
// each dropped request is reported by its own Timeout. WaitAll lets every
// request settle before the run ends (iputils' two round trips could cut
// off a reply that a loaded machine delays).
func TestLoss(t *testing.T) {
	l := netns.NewLine(t, 1)
	kinds(t, l.A, func(t *testing.T, kind SocketKind) {
		rule := l.Routers[0].Loss(30, "icmp type echo-request")
		defer rule.Delete()
		p := openIn(t, l.A, Config{Dst: l.B.Addr4(), Count: 100, Interval: 10 * time.Millisecond, Timeout: 2 * time.Second, WaitAll: true, Socket: kind})
		var r record
		st, err := p.Run(context.Background(), r.add)
		if err != nil {
			t.Fatal(err)
		}
		matched, dropped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v; rule matched %d, dropped %d", st, matched, dropped)
		if matched != uint64(st.Transmitted) || st.Transmitted != 100 {
			t.Errorf("the rule matched %d requests, %d were sent (want 100)", matched, st.Transmitted)
		}
		if lost := uint64(st.Transmitted - st.Received); lost != dropped {
			t.Errorf("transmitted - received = %d, the rule dropped %d\n%s", lost, dropped, rule)
		}
		if want := float64(dropped) * 100 / float64(st.Transmitted); st.Loss() != want {
			t.Errorf("loss %v%%, want %v%%", st.Loss(), want)
		}
		// Binomial(100, 0.3): sd 4.6%; 20 points is over four sd.
		if f := float64(dropped) / float64(st.Transmitted); f < 0.1 || f > 0.5 {
			t.Errorf("dropped %.0f%%, want about 30%%", 100*f)
		}
		if uint64(st.Timeouts) != dropped || len(r.kind(EventTimeout)) != int(dropped) || st.Duplicates != 0 || st.Errors != 0 || st.Ignored != 0 {
			t.Errorf("statistics %+v: want a timeout per drop, no duplicates, errors or foreign packets", st)
		}
	})
}

// TestDup pings through a router that duplicates every echo reply: each
// request is answered twice, the second flagged Dup, and the duplicates
// count is what the rule duplicated.
func TestDup(t *testing.T) {
	l := netns.NewLine(t, 1)
	kinds(t, l.A, func(t *testing.T, kind SocketKind) {
		rule := l.Routers[0].Dup("icmp type echo-reply", l.A.Addr4())
		defer rule.Delete()
		// No count: the run ends at the deadline, 200 ms after the last
		// request, so the last duplicate is read too (with -c ping stops
		// at the last first reply, as iputils does).
		p := openIn(t, l.A, Config{Dst: l.B.Addr4(), Interval: 200 * time.Millisecond, Timeout: time.Second, Deadline: time.Second, Socket: kind})
		var r record
		st, err := p.Run(context.Background(), r.add)
		if err != nil {
			t.Fatal(err)
		}
		_, duped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		if st.Transmitted < 4 || st.Received != st.Transmitted || st.Duplicates != st.Received || uint64(st.Duplicates) != duped {
			t.Errorf("statistics %+v, rule duplicated %d: want every request answered twice", st, duped)
		}
		seen := map[uint16]int{}
		for _, e := range r.kind(EventReply) {
			if e.Dup != (seen[e.Seq] == 1) {
				t.Errorf("reply %d to seq %d: Dup %v", seen[e.Seq]+1, e.Seq, e.Dup)
			}
			seen[e.Seq]++
		}
	})
}

// TestTimeouts pings B through a router that drops every request (a
// blackhole route): each request gets its Timeout event once
// Config.Timeout has passed since it left, and the run ends when the last
// one has timed out.
func TestTimeouts(t *testing.T) {
	l := netns.NewLine(t, 1)
	l.Routers[0].RouteType("blackhole", netip.PrefixFrom(l.B.Addr4(), 32))
	const timeout = 300 * time.Millisecond
	p := openIn(t, l.A, Config{Dst: l.B.Addr4(), Count: 3, Interval: 100 * time.Millisecond, Timeout: timeout}) // no deadline: with one, Count would wait for replies
	var r record
	st, err := p.Run(context.Background(), r.add)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transmitted != 3 || st.Received != 0 || st.Timeouts != 3 {
		t.Errorf("statistics %+v, want 3 sent, 3 timeouts", st)
	}
	sent := map[uint16]time.Time{}
	for _, e := range r.events {
		switch e.Kind {
		case EventSent:
			sent[e.Seq] = e.Time
		case EventTimeout:
			if d := e.Time.Sub(sent[e.Seq]); d < timeout {
				t.Errorf("seq %d timed out %v after it left, before the %v timeout", e.Seq, d, timeout)
			}
		}
	}
	if n := len(r.kind(EventTimeout)); n != 3 {
		t.Errorf("%d timeout events, want 3", n)
	}
}

// TestUnprivilegedAcrossHops runs the pinger as nobody in A, whose
// ping_group_range is open, toward B two hops away.
func TestUnprivilegedAcrossHops(t *testing.T) {
	l := netns.NewLine(t, 2)
	l.A.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	for _, dst := range []netip.Addr{l.B.Addr4(), l.B.Addr6()} {
		if got := runChild(t, l.A, dst.String()+" 3 auto"); !strings.HasPrefix(got, "kind=SOCK_DGRAM uid=65534 transmitted=3 received=3 ignored=0") {
			t.Errorf("nobody in A pinging %v: %q, want three replies on SOCK_DGRAM", dst, got)
		}
	}
}

// TestCommandAcrossHops runs "rawsock ping" itself in A, as a user would:
// the unreachable lines, the loss figure against the rule's counter, and
// the (DUP!) lines against the duplicates count.
func TestCommandAcrossHops(t *testing.T) {
	l := netns.NewLine(t, 1)
	bin := rawsockBinary(t, true)
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := l.A.Command(bin, append([]string{"ping"}, args...)...)
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	stats := regexp.MustCompile(`(?m)^(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?, ([\d.]+)% packet loss, time \d+ms$`)
	parse := func(out string) (tx, rx, dup, errs int, loss string) {
		m := stats.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no statistics line in:\n%s", out)
		}
		atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
		return atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), m[5]
	}

	t.Run("unreachable", func(t *testing.T) {
		// No -w here: under a deadline iputils stops at the first error.
		// -c and -W bound the run.
		out, code := run("-c", "2", "-i", "0.2", "-W", "1", l.Unreachable4.String())
		from := l.Links[0].B4 // r1, toward A
		for _, want := range []string{
			"PING " + l.Unreachable4.String() + " (" + l.Unreachable4.String() + ") 56(84) bytes of data.\n",
			"From " + from.String() + " icmp_seq=1 Destination Host Unreachable\n",
			"From " + from.String() + " icmp_seq=2 Destination Host Unreachable\n",
			"\n--- " + l.Unreachable4.String() + " ping statistics ---\n2 packets transmitted, 0 received, +2 errors, 100% packet loss, time ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if code != 1 {
			t.Errorf("exit status %d, want 1 (no reply)", code)
		}
	})
	t.Run("loss", func(t *testing.T) {
		rule := l.Routers[0].Loss(30, "icmp type echo-request")
		defer rule.Delete()
		// With -w, -c counts replies: sending goes on until 60 came, and
		// ends on the 60th (a request in flight then would count as lost:
		// 20 ms between requests leaves room for a slow reply).
		out, code := run("-q", "-c", "60", "-w", "20", "-i", "0.02", "-W", "1", l.B.Addr4().String())
		_, dropped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		tx, rx, _, _, loss := parse(out)
		want := strconv.FormatFloat(float64(float32(float64(dropped)*100/float64(tx))), 'g', 6, 64)
		if rx != 60 || uint64(tx-rx) != dropped || loss != want || code != 0 {
			t.Errorf("%d transmitted, %d received, %s%% loss, exit %d; the rule dropped %d (%s%%):\n%s", tx, rx, loss, code, dropped, want, out)
		}
	})
	t.Run("dup", func(t *testing.T) {
		rule := l.Routers[0].Dup("icmp type echo-reply", l.A.Addr4())
		defer rule.Delete()
		out, code := run("-w", "1", "-i", "0.2", "-n", l.B.Addr4().String())
		_, duped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		tx, rx, dup, _, _ := parse(out)
		dupLines := regexp.MustCompile(`(?m)^64 bytes from `+regexp.QuoteMeta(l.B.Addr4().String())+`: icmp_seq=\d+ ttl=63 time=[\d.]+ ms \(DUP!\)$`).FindAllString(out, -1)
		if dup == 0 || uint64(dup) != duped || len(dupLines) != dup || rx != tx || code != 0 {
			t.Errorf("%d (DUP!) lines, +%d duplicates, %d/%d received, exit %d; the rule duplicated %d:\n%s", len(dupLines), dup, rx, tx, code, duped, out)
		}
	})
}

// TestTimeoutsAtEnd pings through a router that drops half the requests,
// with the default 10 s timeout and no WaitAll: the run ends at iputils'
// linger, long before any request's own timeout, and every dropped request
// must still end in a Timeout event (the --json "timeout" lines and the
// summary's "timeouts" count), so that each request gets exactly one
// Reply, Error or Timeout.
func TestTimeoutsAtEnd(t *testing.T) {
	l := netns.NewLine(t, 1)
	kinds(t, l.A, func(t *testing.T, kind SocketKind) {
		rule := l.Routers[0].Loss(50, "icmp type echo-request")
		defer rule.Delete()
		p := openIn(t, l.A, Config{Dst: l.B.Addr4(), Count: 40, Interval: 10 * time.Millisecond, Socket: kind})
		var r record
		st, err := p.Run(context.Background(), r.add)
		if err != nil {
			t.Fatal(err)
		}
		_, dropped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		if dropped == 0 || dropped == 40 {
			t.Skipf("the rule dropped %d of 40: nothing to compare", dropped)
		}
		ends := map[uint16]int{}
		for _, e := range r.events {
			if e.Kind == EventReply || e.Kind == EventTimeout || e.Kind == EventError {
				ends[e.Seq]++
			}
		}
		for seq := uint16(1); seq <= 40; seq++ {
			if ends[seq] != 1 {
				t.Errorf("seq %d ended in %d events, want 1", seq, ends[seq])
			}
		}
		// The run may end before a reply that is only late: the loss is
		// what the statistics say, and each lost request timed out.
		if lost := st.Transmitted - st.Received; st.Timeouts != lost || uint64(lost) < dropped {
			t.Errorf("statistics %+v: %d timeouts, want one per lost request (%d; the rule dropped %d)", st, st.Timeouts, lost, dropped)
		}
	})
}

// TestLingerAfterTimeout is "ping -c 2 -i 0.2 -W 0.000001": every request
// times out at once, yet, as in iputils, the run waits its linger (at
// least the interval once a reply came) after the last request, so both
// replies count (late), and nothing is lost.
func TestLingerAfterTimeout(t *testing.T) {
	ns := pingNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 2, Interval: 200 * time.Millisecond, Timeout: time.Nanosecond, Socket: SocketDgram})
	var r record
	st, err := p.Run(context.Background(), r.add)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transmitted != 2 || st.Received != 2 || st.Loss() != 0 {
		t.Errorf("statistics %+v: want 2 sent, 2 received, 0%% loss", st)
	}
}
