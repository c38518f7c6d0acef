package traceroute

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"golang.org/x/sys/unix"
)

// testWait is each probe's wait in the tests: a namespace answers within
// microseconds, so a second is a wide margin and keeps silent hops short.
const testWait = time.Second

// listenPort is where host B of a line accepts TCP connections, for the
// SYN-ACK case; port 80 stays closed (RST).
const listenPort = 8080

// method is one way of tracing, as the tests run it.
type method struct {
	name   string
	m      Method
	socket SocketKind
	port   int
	want   Kind // what the destination answers
}

var methods = []method{
	{"udp", UDP, SocketAuto, 0, PortUnreachable},
	{"icmp-raw", ICMP, SocketRaw, 0, EchoReply},
	{"icmp-dgram", ICMP, SocketDgram, 0, EchoReply},
	{"tcp-closed", TCP, SocketAuto, 0, Reset},
	{"tcp-open", TCP, SocketAuto, listenPort, SynAck},
	{"udp-port", UDPPort, SocketAuto, 0, PortUnreachable},
}

// config is a trace to dst with a fixed wait (Here and Near Off): the tests
// that use it check what answers, and the adaptive wait, whose few
// milliseconds a loaded machine can outlast, is tested on its own.
func (m method) config(dst netip.Addr) Config {
	return Config{Dst: dst, Method: m.m, Socket: m.socket, Port: m.port, Wait: testWait, Here: Off, Near: Off, MaxTTL: 8}
}

// trace runs cfg from inside ns (where New opens the sockets) and returns
// the result, printed hop by hop into the log.
func trace(t *testing.T, ns *netns.Namespace, cfg Config) *Result {
	t.Helper()
	var tr *Tracer
	open := func() (err error) { tr, err = New(cfg); return err }
	var err error
	if ns != nil {
		err = ns.Do(open)
	} else {
		err = open()
	}
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer tr.Close()
	var out strings.Builder
	p := &Printer{W: &out, Numeric: true}
	p.Header(cfg.Dst.String(), cfg.Dst, tr.Config().MaxTTL, tr.PacketLen())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := tr.Run(ctx, func(h *Hop) { p.Hop(h) })
	t.Logf("%s:\n%s", tr.Socket(), out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// checkHops checks that hop i was answered by want[i] on every probe, with
// kind time exceeded up to the last, which answers last.
func checkHops(t *testing.T, res *Result, first int, want []netip.Addr, last Kind, mark string) {
	t.Helper()
	if len(res.Hops) != len(want) {
		t.Fatalf("%d hops, want %d: %v", len(res.Hops), len(want), want)
	}
	for i, h := range res.Hops {
		kind := TimeExceeded
		if i == len(want)-1 {
			kind = last
		}
		if h.TTL != first+i {
			t.Errorf("hop %d has TTL %d, want %d", i, h.TTL, first+i)
		}
		for _, p := range h.Probes {
			if p.From != want[i] || p.Kind != kind || p.Annotation != mark && kind == last || p.RTT <= 0 {
				t.Errorf("TTL %d probe %d: %v %q from %v in %v, want %v from %v", h.TTL, p.Seq, p.Kind, p.Annotation, p.From, p.RTT, kind, want[i])
			}
		}
	}
}

func hops(l *netns.Line, v4 bool) []netip.Addr {
	if v4 {
		return l.Hops4
	}
	return l.Hops6
}

func pick(v4 bool, a4, a6 netip.Addr) netip.Addr {
	if v4 {
		return a4
	}
	return a6
}

// newLine builds A — r1 — r2 — r3 — B, with a TCP listener in B on
// listenPort (both families) and ICMP datagram sockets allowed in A.
func newLine(t *testing.T) *netns.Line {
	t.Helper()
	l := netns.NewLine(t, 3)
	l.A.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	err := l.B.Do(func() error {
		c, err := rawsock.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		t.Cleanup(func() { c.Close() })
		if err := c.SetsockoptInt(unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
			return err
		}
		if err := c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(netip.IPv6Unspecified(), listenPort))); err != nil {
			return err
		}
		return c.Listen(16)
	})
	if err != nil {
		t.Fatalf("listener in B: %v", err)
	}
	return l
}

// TestLine traces A to B through three routers with every method, in both
// families: each router answers in order, then B, and the trace stops there.
func TestLine(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	for _, v4 := range []bool{true, false} {
		for _, m := range methods {
			t.Run(fmt.Sprintf("%s/ipv%d", m.name, map[bool]int{true: 4, false: 6}[v4]), func(t *testing.T) {
				dst := pick(v4, l.B.Addr4(), l.B.Addr6())
				res := trace(t, l.A, m.config(dst))
				checkHops(t, res, 1, hops(l, v4), m.want, "")
				if !res.Reached() {
					t.Error("the destination is not reached")
				}
			})
		}
	}
}

// TestFirstTTL starts at the second hop (traceroute -f 2).
func TestFirstTTL(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 3)
	cfg := methods[0].config(l.B.Addr4())
	cfg.FirstTTL, cfg.Queries = 2, 1
	checkHops(t, trace(t, l.A, cfg), 2, l.Hops4[1:], PortUnreachable, "")
}

// TestSilentHop: r2 drops the time exceeded it sends (an nftables rule on
// its output), so hop 2 is '*' on every probe and the trace goes on past it.
// Hop 2's probes wait NEAR times the round trip of hop 3's answers (about a
// second with NEAR 1000), not MAX (ten minutes here, which the trace's
// minute would not allow), as traceroute's adaptive wait does; before it
// the trace waited MAX.
func TestSilentHop(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 3)
	if err := netns.CheckNft(); err != nil {
		t.Skipf("no nft(8) to silence a router: %v", err)
	}
	l.Routers[1].Nft(`table inet rstest_silent {
	chain out {
		type filter hook output priority 0; policy accept;
		icmp type time-exceeded drop
		icmpv6 type time-exceeded drop
	}
}`)
	for _, v4 := range []bool{true, false} {
		for _, m := range []method{methods[0], methods[1], methods[3], methods[5]} {
			t.Run(fmt.Sprintf("%s/ipv%d", m.name, map[bool]int{true: 4, false: 6}[v4]), func(t *testing.T) {
				t.Parallel() // each waits a second on hop 2
				want := hops(l, v4)
				cfg := m.config(pick(v4, l.B.Addr4(), l.B.Addr6()))
				// Factors far above the defaults, so that a loaded
				// machine's slow hand-overs cannot outlast them, and
				// still a silent probe waits about a second, not MAX.
				cfg.Wait, cfg.Here, cfg.Near = 10*time.Minute, 100, 1000
				res := trace(t, l.A, cfg)
				if len(res.Hops) != 4 {
					t.Fatalf("%d hops, want 4", len(res.Hops))
				}
				for i, h := range res.Hops {
					for _, p := range h.Probes {
						switch {
						case i == 1 && p.Answered():
							t.Errorf("the silenced hop 2 answered: %v from %v", p.Kind, p.From)
						case i != 1 && p.From != want[i]:
							t.Errorf("hop %d: %v from %v, want %v", i+1, p.Kind, p.From, want[i])
						}
					}
				}
				line := (&Printer{Numeric: true}).Line(&res.Hops[1])
				if line != " 2  * * *\n" {
					t.Errorf("hop 2 prints %q, want \" 2  * * *\\n\"", line)
				}
			})
		}
	}
}

// TestUnreachable traces to addresses r3 routes as unreachable or
// prohibited: the trace ends at r3 with the mark on every probe, and the
// destination counts as not reached.
//
// r3 answers at most 5 probes from one source address at once, then one a
// second (see routeErrors), so each case sends from a source address of
// its own and keeps only one hop's probes in flight: r3 sees the 3 probes
// of its hop and answers them all.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 3)
	routeErrors(l)
	last4, last6 := l.Hops4[:3], l.Hops6[:3]
	type tc struct {
		name string
		dst  netip.Addr
		want []netip.Addr
		mark string
		m    method
		src  netip.Addr
	}
	var cases []tc
	for _, c := range []tc{
		{name: "unreachable4", dst: l.Unreachable4, want: last4, mark: "!H"},
		{name: "prohibited4", dst: l.Prohibited4, want: last4, mark: "!X"},
		{name: "unreachable6", dst: l.Unreachable6, want: last6, mark: "!N"},
		{name: "prohibited6", dst: l.Prohibited6, want: last6, mark: "!X"},
	} {
		for _, m := range []method{methods[0], methods[1], methods[3], methods[5]} {
			c.m, c.src = m, extraSource(t, l, c.dst.Is6(), len(cases)+1)
			cases = append(cases, c)
		}
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.m.name, func(t *testing.T) {
			cfg := c.m.config(c.dst)
			cfg.Src, cfg.SimProbes = c.src, cfg.Queries
			res := trace(t, l.A, cfg)
			checkHops(t, res, 1, c.want, Unreachable, c.mark)
			if res.Reached() {
				t.Error("an unreachable destination counts as reached")
			}
			line := (&Printer{Numeric: true}).Line(&res.Hops[2])
			if want := fmt.Sprintf(` 3  %s  `, c.want[2]); !strings.HasPrefix(line, want) || strings.Count(line, " ms "+c.mark) != 3 {
				t.Errorf("hop 3 prints %q: want %q, then 3 times with %s", line, want, c.mark)
			}
		})
	}
}

// extraSource gives A another address on its link to r1, host number 100+n,
// and returns it once r1 answers a probe from it: r1's first time exceeded
// to a new IPv6 address was seen lost now and then (not to rate limiting,
// which ICMPv6 errors are exempt from here), as if the address were not
// quite ready.
func extraSource(t *testing.T, l *netns.Line, v6 bool, n int) netip.Addr {
	t.Helper()
	link := l.Links[0]
	net := link.Net4
	if v6 {
		net = link.Net6
	}
	src := hostAddr(net, 100+n)
	l.A.IP("addr", "add", netip.PrefixFrom(src, net.Bits()).String(), "dev", link.AIf, "nodad")
	// As netns does for the link's own addresses: r1 knows the MAC at
	// once, so no answer waits on neighbour discovery.
	l.Routers[0].IP("neigh", "replace", src.String(), "lladdr", link.AMAC, "dev", link.BIf, "nud", "permanent")
	hop1 := link.Addr(l.Routers[0], !v6)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var tr *Tracer
		cfg := Config{Dst: l.B.Addr4(), Src: src, MaxTTL: 1, Queries: 1, Wait: 50 * time.Millisecond}
		if v6 {
			cfg.Dst = l.B.Addr6()
		}
		if err := l.A.Do(func() (err error) { tr, err = New(cfg); return err }); err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background(), nil)
		tr.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Hops[0].Probes[0].From == hop1 {
			return src
		}
		if time.Now().After(deadline) {
			t.Fatalf("r1 does not answer probes from the new address %v", src)
		}
	}
}

// routeErrors lets the last router of l answer for its unreachable and
// prohibited routes.
//
// Linux rate-limits those answers (ip_error) in a token bucket per source
// address, a burst of 5 then one a second (net.ipv4.route.error_cost and
// error_burst, which exist only in the initial namespace). ICMPv4 errors
// share that bucket: with net.ipv4.icmp_ratelimit 0, as netns sets it,
// each time exceeded the router sends empties it, so an unreachable less
// than a second after a trace through the router is never sent. An
// icmp_ratemask of 0 keeps ICMP errors out of the bucket.
func routeErrors(l *netns.Line) {
	l.Routers[len(l.Routers)-1].Sysctl("net.ipv4.icmp_ratemask", "0")
}

// hostAddr returns host number i of prefix p.
func hostAddr(p netip.Prefix, i int) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	b[len(b)-1] += byte(i)
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestConcurrentTraces runs traces of every method at once from A, two of
// each: raw sockets see each other's answers, and each trace must keep
// only its own.
func TestConcurrentTraces(t *testing.T) {
	t.Parallel()
	l := newLine(t)
	var wg sync.WaitGroup
	for i := range 2 {
		for _, m := range methods {
			for _, v4 := range []bool{true, false} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cfg := m.config(pick(v4, l.B.Addr4(), l.B.Addr6()))
					var tr *Tracer
					if err := l.A.Do(func() (err error) { tr, err = New(cfg); return err }); err != nil {
						t.Errorf("%s #%d: %v", m.name, i, err)
						return
					}
					defer tr.Close()
					res, err := tr.Run(context.Background(), nil)
					if err != nil {
						t.Errorf("%s #%d: %v", m.name, i, err)
						return
					}
					want := hops(l, v4)
					if len(res.Hops) != len(want) {
						t.Errorf("%s #%d ipv4 %v: %d hops, want %d", m.name, i, v4, len(res.Hops), len(want))
						return
					}
					for j, h := range res.Hops {
						for _, p := range h.Probes {
							if p.From != want[j] {
								t.Errorf("%s #%d: TTL %d probe %d: %v from %v, want %v", m.name, i, h.TTL, p.Seq, p.Kind, p.From, want[j])
							}
						}
					}
				}()
			}
		}
	}
	wg.Wait()
}

// TestLoopback traces 127.0.0.1 and ::1 from this process's namespace:
// one hop, the destination itself. The UDP method needs no privilege; the
// others are skipped, with the reason, without CAP_NET_RAW.
func TestLoopback(t *testing.T) {
	for _, dst := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")} {
		for _, m := range []method{methods[0], methods[1], methods[3], methods[5]} {
			t.Run(m.name+"/"+dst.String(), func(t *testing.T) {
				if dst.Is6() {
					socktest.SkipIfNoIPv6(t)
				}
				if m.m != UDP {
					socktest.NeedRaw(t)
				}
				res := trace(t, nil, m.config(dst))
				checkHops(t, res, 1, []netip.Addr{dst}, m.want, "")
			})
		}
	}
}

// TestNoPrivilege: without CAP_NET_RAW, the TCP method and the raw ICMP
// socket fail with the privilege hint; the ICMP method, when the ICMP
// datagram socket is refused too, says what would open either.
func TestNoPrivilege(t *testing.T) {
	if socktest.RawErr() == nil {
		t.Skip("this process has CAP_NET_RAW: the refusal cannot be seen here (the command's tests run it as nobody)")
	}
	lo := netip.MustParseAddr("127.0.0.1")
	for _, cfg := range []Config{{Dst: lo, Method: TCP}, {Dst: lo, Method: ICMP, Socket: SocketRaw}, {Dst: lo, Method: ICMP}} {
		tr, err := New(cfg)
		if err == nil {
			if cfg.Socket == SocketAuto && strings.Contains(tr.Socket(), "ping socket") {
				t.Logf("%v: net.ipv4.ping_group_range admits this process: %s", cfg.Method, tr.Socket())
			} else {
				t.Errorf("%v opened %s without CAP_NET_RAW", cfg.Method, tr.Socket())
			}
			tr.Close()
			continue
		}
		if strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "need CAP_NET_RAW") || !strings.Contains(err.Error(), "setcap cap_net_raw+ep") {
			t.Errorf("%v: %v, want one line with the privilege hint", cfg.Method, err)
		}
		if cfg.Method == ICMP && cfg.Socket == SocketAuto && !strings.Contains(err.Error(), "net.ipv4.ping_group_range") {
			t.Errorf("ICMP: %v, want the ping_group_range hint too", err)
		}
	}
}

// TestUDPAnswer: a service on B listening on the port of one probe answers
// it with data; that probe ends the trace as the destination's answer
// (read from the socket's data, beside its error queue), and the others of
// the hop get their port unreachable.
func TestUDPAnswer(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 3)
	const seq = 9 // the first probe of hop 4, B's
	var c *rawsock.Conn
	err := l.B.Do(func() (err error) {
		if c, err = rawsock.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0); err != nil {
			return err
		}
		return c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(l.B.Addr4(), DefaultUDPPort+seq)))
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // echo the first datagram back, then stop
		defer close(done)
		buf := make([]byte, 1500)
		n, from, err := c.Recvfrom(buf, 0)
		if err == nil {
			c.Sendto(buf[:n], 0, from)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	res := trace(t, l.A, methods[0].config(l.B.Addr4()))
	if len(res.Hops) != 4 {
		t.Fatalf("%d hops, want 4", len(res.Hops))
	}
	for i, p := range res.Hops[3].Probes {
		want := PortUnreachable
		if p.Seq == seq {
			want = UDPReply
		}
		if p.Kind != want || p.From != l.B.Addr4() || !p.Final {
			t.Errorf("hop 4 probe %d (seq %d): %v from %v, final %v; want %v from B", i, p.Seq, p.Kind, p.From, p.Final, want)
		}
	}
}

// TestCloseReleases: every method's sockets are closed by Close, after a
// run or without one.
func TestCloseReleases(t *testing.T) {
	socktest.NeedRaw(t)
	lo := netip.MustParseAddr("127.0.0.1")
	before := socktest.FDCount(t)
	for _, m := range []method{methods[0], methods[1], methods[3], methods[5]} {
		for _, run := range []bool{false, true} {
			tr, err := New(m.config(lo))
			if err != nil {
				t.Fatal(err)
			}
			if run {
				if _, err := tr.Run(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := tr.Close(); err != nil {
				t.Errorf("%s: Close: %v", m.name, err)
			}
			if err := tr.Close(); err != nil {
				t.Errorf("%s: second Close: %v", m.name, err)
			}
		}
	}
	if after := socktest.FDCount(t); after != before {
		t.Errorf("%d fds open after, %d before", after, before)
	}
}

// TestLinkLocal traces a link-local address across a veth pair, with its
// zone (fe80::…%eth0) or with the zone given by Device (traceroute -i),
// with every method: one hop, the peer, printed with the zone as
// traceroute prints it. Zones were refused before.
func TestLinkLocal(t *testing.T) {
	t.Parallel()
	tp := netns.New(t)
	a, b := tp.Host("a"), tp.Host("b")
	link := tp.Connect(a, b)
	a.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	var ll netip.Addr
	err := b.Do(func() error {
		ifi, err := net.InterfaceByName(link.BIf)
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return err
		}
		for _, ad := range addrs {
			if p, err := netip.ParsePrefix(ad.String()); err == nil && p.Addr().IsLinkLocalUnicast() {
				ll = p.Addr()
			}
		}
		return nil
	})
	if err != nil || !ll.IsValid() {
		t.Fatalf("no link-local address on B's %s: %v", link.BIf, err)
	}
	want := ll.WithZone(link.AIf)
	// As extraSource: the first answers between new IPv6 addresses were
	// seen lost now and then; begin once one comes.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var tr *Tracer
		cfg := Config{Dst: want, MaxTTL: 1, Queries: 1, Wait: 100 * time.Millisecond}
		if err := a.Do(func() (err error) { tr, err = New(cfg); return err }); err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background(), nil)
		tr.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Reached() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v does not answer", want)
		}
	}
	for _, m := range []method{methods[0], methods[1], methods[2], methods[3], methods[5]} {
		for _, byDevice := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/device=%v", m.name, byDevice), func(t *testing.T) {
				cfg := m.config(want)
				if byDevice {
					cfg.Dst, cfg.Device = ll, link.AIf
				}
				res := trace(t, a, cfg)
				checkHops(t, res, 1, []netip.Addr{want}, m.want, "")
				line := (&Printer{Numeric: true}).Line(&res.Hops[0])
				if !strings.HasPrefix(line, " 1  "+want.String()+"  ") {
					t.Errorf("prints %q, want the address with its zone, %s", line, want)
				}
			})
		}
	}
	// A zone by index is the same link, named.
	ifi := 0
	a.Do(func() error {
		i, err := net.InterfaceByName(link.AIf)
		if err == nil {
			ifi = i.Index
		}
		return err
	})
	var tr *Tracer
	if err := a.Do(func() (err error) { tr, err = New(Config{Dst: ll.WithZone(fmt.Sprint(ifi))}); return err }); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if got := tr.Config().Dst; got != want {
		t.Errorf("zone %d: destination %v, want %v", ifi, got, want)
	}
	if _, err := New(Config{Dst: ll.WithZone("nosuch0")}); err == nil || !strings.Contains(err.Error(), "zone nosuch0: no such network interface") {
		t.Errorf("unknown zone: %v", err)
	}
}

// TestMTUDiscovery: with links of MTU 1400 (r2 — r3) and 1300 (r3 — B),
// DiscoverMTU (traceroute --mtu) finds each: F=1500 on hop 1 (the local
// link refused the 65000-byte probe), F=1400 on hop 3 and F=1300 on hop 4
// (r2 and r3 answered "fragmentation needed"), the other probes plain; and
// DontFragment alone with probes bigger than the local link ends the trace
// at hop 1 with !F-1500, as traceroute -F prints it.
func TestMTUDiscovery(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 3)
	l.A.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	for i, mtu := range map[int]string{2: "1400", 3: "1300"} {
		lk := l.Links[i]
		lk.A.IP("link", "set", lk.AIf, "mtu", mtu)
		lk.B.IP("link", "set", lk.BIf, "mtu", mtu)
	}
	for _, v4 := range []bool{true, false} {
		for _, m := range []method{methods[0], methods[1], methods[2]} {
			t.Run(fmt.Sprintf("%s/ipv%d", m.name, map[bool]int{true: 4, false: 6}[v4]), func(t *testing.T) {
				cfg := m.config(pick(v4, l.B.Addr4(), l.B.Addr6()))
				cfg.DiscoverMTU = true
				res := trace(t, l.A, cfg)
				checkHops(t, res, 1, hops(l, v4), m.want, "")
				for i, h := range res.Hops {
					wantMTU := map[int]int{0: 1500, 2: 1400, 3: 1300}[i]
					for j, p := range h.Probes {
						if want := map[bool]int{true: wantMTU}[j == 0]; p.MTU != want {
							t.Errorf("hop %d probe %d: MTU %d, want %d", i+1, j, p.MTU, want)
						}
					}
				}
				cfg.DiscoverMTU, cfg.DontFragment, cfg.PacketLen = false, true, 1600
				res = trace(t, l.A, cfg)
				line := msRE.ReplaceAllString((&Printer{Numeric: true}).Line(&res.Hops[0]), "X ms")
				if want := " 1  *  X ms !F-1500 *  X ms !F-1500 *  X ms !F-1500\n"; len(res.Hops) != 1 || line != want {
					t.Errorf("-F 1600: %d hops, the first %q, want %q", len(res.Hops), line, want)
				}
			})
		}
	}
}

// TestDeviceSource: with Device (traceroute -i), the source of TCP probes,
// whose checksum covers it, is the one the route through that device
// gives. A reaches B through r1 (eth0, the preferred route) or r2 (eth1):
// -T -i eth1 goes through r2 and its SYN-ACK comes back there. Before, the
// source was looked up without the device (A's eth0 address), and the
// answers never came to the sockets bound to eth1.
func TestDeviceSource(t *testing.T) {
	t.Parallel()
	socktest.NeedRaw(t)
	tp := netns.New(t)
	a, b := tp.Host("a"), tp.Host("b")
	r1, r2 := tp.Router("r1"), tp.Router("r2")
	tp.Connect(a, r1)
	toB := tp.Connect(r1, b)
	viaR2 := tp.Connect(a, r2)
	tp.Connect(r2, b)
	tp.AutoRoute()
	dst := toB.B4
	a.IP("route", "add", toB.Net4.String(), "via", viaR2.B4.String(), "dev", viaR2.AIf, "metric", "500")
	cfg := methods[3].config(dst) // TCP, to a closed port: RST
	cfg.Device = viaR2.AIf
	var tr *Tracer
	if err := a.Do(func() (err error) { tr, err = New(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if tr.Source() != viaR2.A4 {
		t.Errorf("source %v, want %v, A's address on %s", tr.Source(), viaR2.A4, viaR2.AIf)
	}
	checkHops(t, trace(t, a, cfg), 1, []netip.Addr{viaR2.B4, dst}, Reset, "")
}

// TestUDPPortAnswer: UDPPort probes all go to one port (53 here, where B
// answers every datagram): each hop-4 probe's answer, data from B, comes
// back on that probe's own socket, which names it.
func TestUDPPortAnswer(t *testing.T) {
	t.Parallel()
	l := netns.NewLine(t, 3)
	var c *rawsock.Conn
	err := l.B.Do(func() (err error) {
		if c, err = rawsock.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0); err != nil {
			return err
		}
		return c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(l.B.Addr4(), DefaultUDPPortPort)))
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // echo datagrams back, at most 10, until closed
		defer close(done)
		buf := make([]byte, 1500)
		for range 10 {
			n, from, err := c.Recvfrom(buf, 0)
			if err != nil {
				return
			}
			c.Sendto(buf[:n], 0, from)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	res := trace(t, l.A, methods[5].config(l.B.Addr4()))
	checkHops(t, res, 1, l.Hops4, UDPReply, "")
}
