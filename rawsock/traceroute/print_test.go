package traceroute

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func answered(from string, rtt float64, ann string) Probe {
	return Probe{Kind: TimeExceeded, From: netip.MustParseAddr(from), RTT: ms(rtt), Annotation: ann}
}

// TestPrinterLines checks lines against the classic traceroute's format
// (print_probe in traceroute.c): the address when it differs from the last
// answered probe of the hop, two spaces before each time, a space before
// each mark, " *" for silence.
func TestPrinterLines(t *testing.T) {
	silent := Probe{}
	for _, tc := range []struct {
		ttl    int
		probes []Probe
		want   string
	}{
		{1, []Probe{answered("10.0.1.2", 0.05, ""), answered("10.0.1.2", 0.031, ""), answered("10.0.1.2", 0.029, "")},
			" 1  10.0.1.2  0.050 ms  0.031 ms  0.029 ms\n"},
		{2, []Probe{silent, silent, silent}, " 2  * * *\n"},
		{3, []Probe{silent, answered("10.0.3.2", 1, ""), answered("10.0.3.2", 2.5, "")}, " 3  * 10.0.3.2  1.000 ms  2.500 ms\n"},
		{4, []Probe{answered("10.0.0.1", 1, ""), answered("10.0.0.2", 2, ""), answered("10.0.0.2", 3, "")},
			" 4  10.0.0.1  1.000 ms 10.0.0.2  2.000 ms  3.000 ms\n"},
		{5, []Probe{answered("10.0.0.1", 1, ""), silent, answered("10.0.0.1", 3, "")}, " 5  10.0.0.1  1.000 ms *  3.000 ms\n"},
		{12, []Probe{answered("10.0.3.1", 0.1, "!H"), answered("10.0.3.1", 0.2, "!H"), silent},
			"12  10.0.3.1  0.100 ms !H  0.200 ms !H *\n"},
		{7, []Probe{answered("fd00:0:0:3::1", 12.3456, "!X")}, " 7  fd00:0:0:3::1  12.346 ms !X\n"},
	} {
		p := &Printer{Numeric: true}
		if got := p.Line(&Hop{TTL: tc.ttl, Probes: tc.probes}); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

// TestPrinterNames: without -n each address is "name (address)", the
// address standing for the name when there is none.
func TestPrinterNames(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("10.0.2.2")
	n := &Names{cache: map[netip.Addr]string{a: "r1.example", b: ""}}
	var buf bytes.Buffer
	p := &Printer{W: &buf, Names: n}
	if err := p.Header("host.example", netip.MustParseAddr("10.0.9.9"), 30, 60); err != nil {
		t.Fatal(err)
	}
	h := &Hop{TTL: 1, Probes: []Probe{answered("10.0.1.2", 1, ""), answered("10.0.2.2", 2, "")}}
	if err := p.Hop(h); err != nil {
		t.Fatal(err)
	}
	want := "traceroute to host.example (10.0.9.9), 30 hops max, 60 byte packets\n" +
		" 1  r1.example (10.0.1.2)  1.000 ms 10.0.2.2 (10.0.2.2)  2.000 ms\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestNamesLookup looks up 127.0.0.1, which /etc/hosts names on any
// ordinary system, and checks the answer is remembered.
func TestNamesLookup(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	n := &Names{Timeout: 2 * time.Second}
	name := n.Lookup(lo)
	if name == "" {
		t.Skip("127.0.0.1 has no name here (no /etc/hosts entry)")
	}
	if strings.HasSuffix(name, ".") {
		t.Errorf("name %q keeps the root's dot", name)
	}
	n.mu.Lock()
	cached := n.cache[lo]
	n.mu.Unlock()
	if cached != name {
		t.Errorf("cache holds %q, lookup gave %q", cached, name)
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Dst: netip.MustParseAddr("::ffff:192.0.2.1")}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Dst != netip.MustParseAddr("192.0.2.1") || c.FirstTTL != 1 || c.MaxTTL != 30 || c.Queries != 3 || c.Wait != 5*time.Second ||
		c.Here != 3 || c.Near != 10 || c.SimProbes != 16 || c.Port != 33434 || c.PacketLen != 60 || c.DontFragment {
		t.Errorf("defaults: %+v", c)
	}
	// NoWait and Off are traceroute's zeros; DiscoverMTU implies -F -N 1.
	c, err = Config{Dst: netip.MustParseAddr("192.0.2.1"), Wait: NoWait, Here: Off, Near: 2, DiscoverMTU: true}.withDefaults()
	if err != nil || c.Wait != 0 || c.Here != 0 || c.Near != 2 || !c.DontFragment || c.SimProbes != 1 {
		t.Errorf("NoWait, Off, DiscoverMTU: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		cfg  Config
		port int
		plen int
	}{
		{Config{Dst: netip.MustParseAddr("::1")}, 33434, 80},
		{Config{Dst: netip.MustParseAddr("::1"), Method: TCP}, 80, 80},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: TCP}, 80, 60},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: ICMP}, 1, 60},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: ICMP, PacketLen: 28}, 1, 28},
		// As traceroute: too short is raised to the headers, and TCP
		// keeps its one length.
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), PacketLen: 10}, 33434, 28},
		{Config{Dst: netip.MustParseAddr("::1"), PacketLen: 47}, 33434, 48},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: TCP, PacketLen: 100}, 80, 60},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), DiscoverMTU: true}, 33434, 65000},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), DiscoverMTU: true, PacketLen: 1400}, 33434, 1400},
		{Config{Dst: netip.MustParseAddr("127.0.0.1"), Method: TCP, DiscoverMTU: true}, 80, 60},
	} {
		c, err := tc.cfg.withDefaults()
		if err != nil || c.Port != tc.port || c.PacketLen != tc.plen {
			t.Errorf("%+v: port %d, length %d, %v; want %d and %d", tc.cfg, c.Port, c.PacketLen, err, tc.port, tc.plen)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	d := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no destination address"},
		{Config{Dst: d, Src: netip.MustParseAddr("::1")}, "different families"},
		{Config{Dst: d, Method: 7}, "unknown method 7"},
		{Config{Dst: d, MaxTTL: 256}, "max hops 256: want 1 to 255"},
		{Config{Dst: d, MaxTTL: -1}, "max hops -1"},
		{Config{Dst: d, FirstTTL: 31}, "first hop 31: want 1 to the max hops, 30"},
		{Config{Dst: d, Queries: 11}, "11 probes per hop: want 1 to 10"},
		{Config{Dst: d, Wait: -time.Second}, "wait -1s"},
		{Config{Dst: d, Here: -2}, "here factor -2"},
		{Config{Dst: d, Near: -0.5}, "near factor -0.5"},
		{Config{Dst: d, SendInterval: -time.Millisecond}, "send interval -1ms"},
		{Config{Dst: d, SimProbes: -1}, "-1 simultaneous probes"},
		{Config{Dst: d, Port: 65500}, "port 65500: the 90 probes use ports up to 65589, past 65535"},
		{Config{Dst: d, Method: TCP, Port: 70000}, "port 70000: want 1 to 65535"},
		{Config{Dst: d, Method: ICMP, Port: -2}, "first sequence number -2"},
		{Config{Dst: d, PacketLen: 65001}, "packet length 65001: want at most 65000"},
		{Config{Dst: d, PacketLen: -1}, "packet length -1"},
		{Config{Dst: d, Socket: 9}, "unknown socket kind 9"},
	} {
		_, err := tc.cfg.withDefaults()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrConfig saying %q", tc.cfg, err, tc.want)
		}
		if _, err2 := New(tc.cfg); !errors.Is(err2, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", tc.cfg, err2)
		}
	}
}

func TestClassifyICMP(t *testing.T) {
	for _, tc := range []struct {
		v6        bool
		typ, code uint8
		kind      Kind
		mark      string
		final     bool
	}{
		{false, 11, 0, TimeExceeded, "", false},
		{false, 3, 3, PortUnreachable, "", true},
		{false, 3, 0, Unreachable, "!N", true},
		{false, 3, 1, Unreachable, "!H", true},
		{false, 3, 2, Unreachable, "!P", true},
		{false, 3, 4, Unreachable, "!F-1400", true}, // as traceroute: the MTU after the mark
		{false, 3, 5, Unreachable, "!S", true},
		{false, 3, 13, Unreachable, "!X", true},
		{false, 3, 10, Unreachable, "!X", true},
		{false, 3, 14, Unreachable, "!V", true},
		{false, 3, 15, Unreachable, "!C", true},
		{false, 3, 99, Unreachable, "!<99>", true},
		// As traceroute: every error but a time exceeded in transit
		// ends the trace.
		{false, 12, 0, OtherICMP, "!<12-0>", true},
		{false, 11, 1, OtherICMP, "!<11-1>", true},
		{true, 3, 1, OtherICMP, "!<3-1>", true},
		{true, 4, 0, OtherICMP, "!<4-0>", true},
		{true, 3, 0, TimeExceeded, "", false},
		{true, 1, 4, PortUnreachable, "", true},
		{true, 1, 0, Unreachable, "!N", true},
		{true, 1, 1, Unreachable, "!X", true},
		{true, 1, 3, Unreachable, "!H", true},
		{true, 1, 6, Unreachable, "!<6>", true},
		{true, 2, 0, Unreachable, "!F-1400", true},
	} {
		k, mark, final := classifyICMP(tc.v6, tc.typ, tc.code, 1400)
		if k != tc.kind || mark != tc.mark || final != tc.final {
			t.Errorf("v6 %v type %d code %d: %v %q final %v, want %v %q %v", tc.v6, tc.typ, tc.code, k, mark, final, tc.kind, tc.mark, tc.final)
		}
	}
}
