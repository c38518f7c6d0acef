package main

import (
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/traceroute"
)

// TestTracerouteArgs: getopt's ways of writing options, as traceroute
// takes them.
func TestTracerouteArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want tracerouteOpts
	}{
		{[]string{"host"}, tracerouteOpts{host: "host"}},
		{[]string{"-nI", "-m5", "-q", "1", "host"}, tracerouteOpts{host: "host", numeric: true, cfg: traceroute.Config{Method: traceroute.ICMP, MaxTTL: 5, Queries: 1}}},
		{[]string{"host", "-T", "-p", "443", "-w0.5", "-f", "2", "-N", "4", "-6"}, tracerouteOpts{host: "host", family: 6,
			cfg: traceroute.Config{Method: traceroute.TCP, Port: 443, Wait: 500 * time.Millisecond, Here: traceroute.Off, Near: traceroute.Off, FirstTTL: 2, SimProbes: 4}}},
		// -w as traceroute's set_wait_specs reads it: MAX alone turns
		// the factors off, 0 is none, any one character separates.
		{[]string{"-w", "5,3,10", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{Wait: 5 * time.Second, Here: 3, Near: 10}}},
		{[]string{"-w", "2.5/0.5", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{Wait: 2500 * time.Millisecond, Here: 0.5, Near: traceroute.Off}}},
		{[]string{"-w", "0", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{Wait: traceroute.NoWait, Here: traceroute.Off, Near: traceroute.Off}}},
		{[]string{"-w", "1,0,2", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{Wait: time.Second, Here: traceroute.Off, Near: 2}}},
		// -z: seconds, or milliseconds from 10.
		{[]string{"-z", "0.2", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{SendInterval: 200 * time.Millisecond}}},
		{[]string{"-z", "50", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{SendInterval: 50 * time.Millisecond}}},
		{[]string{"-F", "-i", "eth1", "--mtu", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{DontFragment: true, Device: "eth1", DiscoverMTU: true}}},
		// traceroute's long forms, values joined.
		{[]string{"--icmp", "--dont-fragment", "--wait=1,2,3", "--max-hops=5", "--first=2", "--queries=1", "--sim-queries=4",
			"--port=7", "--source=10.0.0.1", "--interface=lo", "--sendwait=20", "host"}, tracerouteOpts{host: "host", src: "10.0.0.1",
			cfg: traceroute.Config{Method: traceroute.ICMP, DontFragment: true, Wait: time.Second, Here: 2, Near: 3, MaxTTL: 5, FirstTTL: 2,
				Queries: 1, SimProbes: 4, Port: 7, Device: "lo", SendInterval: 20 * time.Millisecond}}},
		{[]string{"--tcp", "host"}, tracerouteOpts{host: "host", cfg: traceroute.Config{Method: traceroute.TCP}}},
		{[]string{"-s", "10.0.0.1", "-4", "-U", "host", "100"}, tracerouteOpts{host: "host", family: 4, src: "10.0.0.1", cfg: traceroute.Config{Method: traceroute.UDPPort, PacketLen: 100}}},
		{[]string{"-n", "--", "-host"}, tracerouteOpts{host: "-host", numeric: true}},
	} {
		got, err := parseTracerouteArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, *got, tc.want)
		}
	}
}

// TestTracerouteBadInput: each mistake is one line naming it, exit 2, and
// nothing on stdout.
func TestTracerouteBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no host given"},
		{[]string{"-x", "127.0.0.1"}, "unknown option -x"},
		{[]string{"--bogus", "127.0.0.1"}, "unknown option --bogus"},
		{[]string{"127.0.0.1", "-m"}, "option -m needs a value"},
		{[]string{"-m", "x", "127.0.0.1"}, "-m x: want a number"},
		{[]string{"-m", "0", "127.0.0.1"}, "-m 0: want at least 1"},
		{[]string{"-m", "256", "127.0.0.1"}, "max hops 256: want 1 to 255"},
		{[]string{"-q", "11", "127.0.0.1"}, "11 probes per hop: want 1 to 10"},
		{[]string{"-w", "-1", "127.0.0.1"}, "-w -1: want MAX[,HERE[,NEAR]]"},
		{[]string{"-w", "5x", "127.0.0.1"}, "-w 5x: want MAX[,HERE[,NEAR]]"},
		{[]string{"-w", "1,2,3x", "127.0.0.1"}, "-w 1,2,3x: want"},
		{[]string{"-w", "1,-2", "127.0.0.1"}, "-w 1,-2: want"},
		{[]string{"-w", "abc", "127.0.0.1"}, "-w abc: want"},
		{[]string{"-w", "nan", "127.0.0.1"}, "-w nan: want"},
		{[]string{"-z", "-1", "127.0.0.1"}, "-z -1: want a number of seconds"},
		{[]string{"-z", "abc", "127.0.0.1"}, "-z abc: want"},
		{[]string{"-i", "nosuch0", "127.0.0.1"}, "interface nosuch0: setsockopt: no such device"},
		{[]string{"127.0.0.1", "70000"}, "packet length 70000: want at most 65000"},
		{[]string{"fe80::1%nosuch0"}, "fe80::1%nosuch0: Name or service not known"}, // as traceroute
		{[]string{"--max-hops", "3", "127.0.0.1"}, "option --max-hops needs a value: --max-hops=VALUE"},
		{[]string{"--max-hops=x", "127.0.0.1"}, "-m x: want a number"},
		{[]string{"--nosuch", "127.0.0.1"}, "unknown option --nosuch"},
		{[]string{"--mtu=1", "127.0.0.1"}, "option --mtu takes no value"},
		{[]string{"--icmp=1", "127.0.0.1"}, "option --icmp takes no value"},
		{[]string{"-f", "31", "127.0.0.1"}, "first hop 31"},
		{[]string{"-p", "65535", "127.0.0.1"}, "past 65535"},
		{[]string{"127.0.0.1", "big"}, `packetlen "big": want a number of bytes`},
		{[]string{"127.0.0.1", "60", "extra"}, "too many arguments"},
		{[]string{"-6", "127.0.0.1"}, "127.0.0.1: Address family for hostname not supported"},
		{[]string{"-s", "::1", "127.0.0.1"}, "-s ::1: Address family for hostname not supported"},
	} {
		stdout, stderr, code := runCmd(append([]string{"traceroute"}, tc.args...)...)
		if code != 2 {
			t.Errorf("%q: exit status %d, want 2", tc.args, code)
		}
		if !strings.HasPrefix(stderr, "rawsock traceroute: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: stderr %q, want one line containing %q", tc.args, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("%q: printed %q", tc.args, stdout)
		}
	}
	_, stderr, code := runCmd("traceroute", "-h")
	if code != 0 || !strings.Contains(stderr, "usage: rawsock traceroute [options] host [packetlen]") {
		t.Errorf("-h: exit %d, %q", code, stderr)
	}
}

// TestTracerouteLoopback traces 127.0.0.1 and ::1 through the command: the
// header and the one hop, as traceroute prints them. UDP needs no
// privilege; -I and -T are skipped without CAP_NET_RAW.
func TestTracerouteLoopback(t *testing.T) {
	for _, tc := range []struct {
		args []string
		raw  bool
		want string
	}{
		{[]string{"-n", "-w", "1", "127.0.0.1"}, false,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1(  \d+\.\d{3} ms){3}\n`},
		{[]string{"-n", "-q", "1", "-m", "5", "127.0.0.1", "100"}, false,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 5 hops max, 100 byte packets\n 1  127\.0\.0\.1  \d+\.\d{3} ms\n`},
		{[]string{"-n", "-q", "2", "::1"}, false,
			`traceroute to ::1 \(::1\), 30 hops max, 80 byte packets\n 1  ::1(  \d+\.\d{3} ms){2}\n`},
		{[]string{"-w", "1", "127.0.0.1"}, false,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  \S+ \(127\.0\.0\.1\)(  \d+\.\d{3} ms){3}\n`},
		{[]string{"-n", "-I", "127.0.0.1"}, true,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1(  \d+\.\d{3} ms){3}\n`},
		{[]string{"-nT", "127.0.0.1"}, true,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1(  \d+\.\d{3} ms){3}\n`},
		{[]string{"-6nI", "::1"}, true,
			`traceroute to ::1 \(::1\), 30 hops max, 80 byte packets\n 1  ::1(  \d+\.\d{3} ms){3}\n`},
		// As traceroute: a packetlen below the headers is raised to
		// them, and TCP probes keep their length.
		{[]string{"-n", "-q", "1", "127.0.0.1", "10"}, false,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 28 byte packets\n 1  127\.0\.0\.1  \d+\.\d{3} ms\n`},
		{[]string{"-nT", "-q", "1", "127.0.0.1", "100"}, true,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1  \d+\.\d{3} ms\n`},
		{[]string{"-n", "-q", "1", "-w", "3,3,10", "-z", "1", "-F", "-i", "lo", "127.0.0.1"}, false,
			`traceroute to 127\.0\.0\.1 \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1  \d+\.\d{3} ms\n`},
		{[]string{"-4", "-n", "-q", "1", "localhost"}, false,
			`traceroute to localhost \(127\.0\.0\.1\), 30 hops max, 60 byte packets\n 1  127\.0\.0\.1  \d+\.\d{3} ms\n`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if tc.raw {
				socktest.NeedRaw(t)
			}
			if strings.Contains(strings.Join(tc.args, " "), "::1") && ipv6Missing() {
				t.Skip("no IPv6 loopback here")
			}
			stdout, stderr, code := runCmd(append([]string{"traceroute"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit status %d: %s", code, stderr)
			}
			if !regexp.MustCompile(`^` + tc.want + `$`).MatchString(stdout) {
				t.Errorf("output:\n%s\nwant it to match\n%s", stdout, tc.want)
			}
		})
	}
}

// ipv6Missing reports whether this host has no ::1 to trace to.
func ipv6Missing() bool {
	_, err := traceroute.Source(netip.MustParseAddr("::1"))
	return err != nil
}

// TestTracerouteNoPrivilege: -T without CAP_NET_RAW is the one line with
// the privilege hint, exit 2, before the header is printed.
func TestTracerouteNoPrivilege(t *testing.T) {
	args := []string{"traceroute", "-n", "-T", "127.0.0.1"}
	var stdout, stderr string
	var code int
	if socktest.RawErr() != nil {
		stdout, stderr, code = runCmd(args...)
	} else {
		stdout, stderr, code = runUnprivileged(t, args...)
	}
	if code != 2 || stdout != "" {
		t.Errorf("exit status %d, stdout %q: want 2 and nothing", code, stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "rawsock traceroute: socket(AF_INET, SOCK_RAW, IPPROTO_TCP): operation not permitted") ||
		!strings.Contains(stderr, "setcap cap_net_raw+ep") {
		t.Errorf("stderr %q: want one line with the privilege hint", stderr)
	}
}
