package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rawsock/rawsock/internal/socktest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/ping"
)

func TestParsePingArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want pingOpts
		err  string
	}{
		{[]string{"127.0.0.1"}, pingOpts{host: "127.0.0.1"}, ""},
		{[]string{"-c3", "-qn", "h"}, pingOpts{count: 3, quiet: true, numeric: true, host: "h"}, ""},
		{[]string{"-qc", "3", "h"}, pingOpts{count: 3, quiet: true, host: "h"}, ""},
		{[]string{"h", "-c", "3", "-i", "0.2", "-W", "1.5", "-w", "4"}, pingOpts{count: 3, interval: 200 * time.Millisecond, intervalSet: true, timeout: 1500 * time.Millisecond, deadline: 4, host: "h"}, ""},
		{[]string{"-f", "-s", "0", "-t", "1", "-6", "-I", "eth0", "--json", "h"}, pingOpts{flood: true, size: 0, sizeSet: true, ttl: 1, ttlSet: true, family: 6, iface: "eth0", json: true, host: "h"}, ""},
		{[]string{"-DOUAabv", "-l3", "-e", "77", "-Q", "0x10", "-M", "do", "-p", "ff0", "h"}, pingOpts{stamps: true, pending: true, user: true, adaptive: true, audible: true, broadcast: true, verbose: true, preload: 3, id: 77, tos: 16, pmtu: ping.PMTUDiscDo, pattern: "\xff\x00", host: "h"}, ""},
		{[]string{"-M", "dont", "-Q", "184", "-p", "123", "h"}, pingOpts{pmtu: ping.PMTUDiscDont, tos: 184, pattern: "\x12\x03", host: "h"}, ""},
		{[]string{"-V"}, pingOpts{version: true}, ""},
		{[]string{"--", "-h"}, pingOpts{host: "-h"}, ""},
		{[]string{"-4", "-6", "h"}, pingOpts{}, "only one -4 or -6 option may be specified"},
		{[]string{"-c"}, pingOpts{}, "option requires an argument -- 'c'"},
		{[]string{"-z", "h"}, pingOpts{}, "invalid option -- 'z'"},
		{[]string{"--bogus", "h"}, pingOpts{}, "unrecognized option '--bogus'"},
		{[]string{"-c", "0", "h"}, pingOpts{}, "invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"},
		{[]string{"-c", "x", "h"}, pingOpts{}, "invalid argument: 'x'"},
		{[]string{"-t", "256", "h"}, pingOpts{}, "invalid argument: '256': out of range: 0 <= value <= 255"},
		{[]string{"-i", "-1", "h"}, pingOpts{}, "bad timing interval: -1"},
		{[]string{"-W", "x", "h"}, pingOpts{}, "bad linger time: x"},
		{[]string{"-c", "3"}, pingOpts{}, "usage error: Destination address required"},
		{[]string{"a", "b"}, pingOpts{}, `only one destination, not ["a" "b"]`},
		{[]string{"-M", "probe", "h"}, pingOpts{}, "invalid -M argument: probe"},
		{[]string{"-Q", "300", "h"}, pingOpts{}, "the decimal value of TOS bits must be in range 0-255: 300"},
		{[]string{"-Q", "x", "h"}, pingOpts{}, "bad TOS value: x"},
		{[]string{"-p", "ffzz", "h"}, pingOpts{}, "patterns must be specified as hex digits: zz"},
		{[]string{"-l", "70000", "h"}, pingOpts{}, "invalid argument: '70000': out of range: 1 <= value <= 65536"},
		{[]string{"-e", "70000", "h"}, pingOpts{}, "invalid argument: '70000': out of range: 0 <= value <= 65535"},
	} {
		got, err := parsePingArgs(tc.args)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case *got != tc.want:
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, *got, tc.want)
		}
	}
	if _, err := parsePingArgs([]string{"-h"}); err != errUsage {
		t.Errorf("-h: %v, want the usage", err)
	}
}

// TestPingConfig checks how the options map onto the pinger's Config, as
// iputils reads them: -f or -i 0 flood, -f -i N keeps the interval, -s 0
// sends no data, -I takes an address or an interface.
func TestPingConfig(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want ping.Config
	}{
		{[]string{"h"}, ping.Config{}},
		{[]string{"-f", "h"}, ping.Config{Flood: true}},
		{[]string{"-i", "0", "h"}, ping.Config{Flood: true}},
		{[]string{"-f", "-i", "0.5", "h"}, ping.Config{Interval: 500 * time.Millisecond}},
		{[]string{"-s", "0", "-c", "2", "-w", "3", "-W", "0.5", "-t", "9", "h"}, ping.Config{Size: ping.EmptyPayload, Count: 2, Deadline: 3 * time.Second, Timeout: 500 * time.Millisecond, TTL: 9}},
		{[]string{"-s", "100", "-I", "10.0.0.1", "h"}, ping.Config{Size: 100, Source: netip.MustParseAddr("10.0.0.1")}},
		{[]string{"-I", "veth0", "h"}, ping.Config{Interface: "veth0"}},
	} {
		o, err := parsePingArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.config(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}

// TestPingPrinterOptions checks how the options map onto the text
// Printer: names unless -n, a literal address or a flood; ipg/ewma in the
// statistics for -f, -A and -i 0, as iputils.
func TestPingPrinterOptions(t *testing.T) {
	type fields struct{ names, quiet, flood, ipg, verbose, audible, stamps, pending bool }
	for _, tc := range []struct {
		args    []string
		numeric bool
		want    fields
	}{
		{[]string{"h"}, false, fields{names: true}},
		{[]string{"h"}, true, fields{}},
		{[]string{"-n", "h"}, false, fields{}},
		{[]string{"-f", "h"}, false, fields{flood: true, ipg: true}},
		{[]string{"-i", "0", "h"}, false, fields{names: true, ipg: true}},
		{[]string{"-A", "-q", "h"}, false, fields{names: true, quiet: true, ipg: true}},
		{[]string{"-vaDO", "h"}, true, fields{verbose: true, audible: true, stamps: true, pending: true}},
	} {
		o, err := parsePingArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		pr := o.printer(tc.numeric)
		got := fields{pr.Names, pr.Quiet, pr.Flood, pr.IPG, pr.Verbose, pr.Audible, pr.Stamps, pr.Pending}
		if got != tc.want || pr.Host != "h" {
			t.Errorf("%q, numeric %v: %+v (host %q), want %+v", tc.args, tc.numeric, got, pr.Host, tc.want)
		}
	}
	o, _ := parsePingArgs([]string{"-I", "lo", "h"})
	if pr := o.printer(false); pr.Interface != "lo" {
		t.Errorf("-I lo: Interface %q", pr.Interface)
	}
}

// pingChild starts "rawsock ping args" as a child process (this test
// binary acting as the command), as root.
func pingChild(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"ping"}, args...)...)
	cmd.Env = append(append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// TestPingLoopback runs the command on 127.0.0.1 and ::1 (-c 3 -i 0.2) and
// checks every line of its output.
func TestPingLoopback(t *testing.T) {
	socktest.NeedRaw(t)
	for _, tc := range []struct{ dst, header string }{
		{"127.0.0.1", `PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\.`},
		{"::1", `PING ::1\(::1\) 56 data bytes`},
	} {
		t.Run(tc.dst, func(t *testing.T) {
			cmd, stdout, stderr := pingChild(t, nil, "-c", "3", "-i", "0.2", "-w", "10", tc.dst)
			err := cmd.Run()
			if err != nil {
				t.Fatalf("%v\nstderr: %s\nstdout:\n%s", err, stderr, stdout)
			}
			d := regexp.QuoteMeta(tc.dst)
			re := regexp.MustCompile(`^` + tc.header + `
64 bytes from ` + d + `: icmp_seq=1 ttl=64 time=\d+\.\d+ ms
64 bytes from ` + d + `: icmp_seq=2 ttl=64 time=\d+\.\d+ ms
64 bytes from ` + d + `: icmp_seq=3 ttl=64 time=\d+\.\d+ ms

--- ` + d + ` ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time \d+ms
rtt min/avg/max/mdev = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms
$`)
			if !re.MatchString(stdout.String()) || stderr.Len() != 0 {
				t.Errorf("output:\n%s\nstderr: %s", stdout, stderr)
			}
		})
	}
}

// TestPingExitStatus checks iputils' exit status in child processes: 0
// when a reply came, 1 when -c and -w are both given and fewer than -c
// replies came by the deadline, 2 on errors.
func TestPingExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		raw    bool
	}{
		{"replies", []string{"-c", "1", "-w", "5", "127.0.0.1"}, 0, "", true},
		{"fewer replies than -c by -w", []string{"-c", "5", "-w", "1", "-i", "0.3", "127.0.0.1"}, 1, "", true},
		{"bad option", []string{"-z", "127.0.0.1"}, 2, "ping: invalid option -- 'z'\nusage: rawsock ping", false},
		{"unknown host", []string{"-c", "1", "no-such-host.invalid"}, 2, "ping: no-such-host.invalid: Name or service not known\n", false},
		{"wrong family", []string{"-6", "-c", "1", "127.0.0.1"}, 2, "ping: 127.0.0.1: Address family for hostname not supported\n", false},
		{"size too large", []string{"-s", "70000", "-c", "1", "127.0.0.1"}, 2, "ping: invalid size 70000: out of range: 0 <= value <= 65507\n", false},
		{"IPv6 size too large", []string{"-s", "65528", "-c", "1", "::1"}, 2, "ping: invalid size 65528: out of range: 0 <= value <= 65527\n", false},
		// iputils: a bad value is one line (exit 1 for a number, 2 else),
		// -h the usage with status 2, -V the version with 0.
		{"bad number", []string{"-c", "x", "127.0.0.1"}, 1, "ping: invalid argument: 'x'\n$", false},
		{"number out of range", []string{"-t", "256", "127.0.0.1"}, 1, "ping: invalid argument: '256': out of range: 0 <= value <= 255\n$", false},
		{"bad -M", []string{"-M", "x", "127.0.0.1"}, 2, "ping: invalid -M argument: x\n$", false},
		{"-h", []string{"-h"}, 2, "usage: rawsock ping", false},
		{"-V", []string{"-V"}, 0, "$", false},
		{"no destination", []string{"-c", "1"}, 1, "ping: usage error: Destination address required\n$", false},
		{"ttl 0", []string{"-t", "0", "-c", "1", "127.0.0.1"}, 2, "ping: cannot set unicast time-to-live: Invalid argument\n$", true},
		{"interface unknown", []string{"-I", "nosuchdev0", "-c", "1", "127.0.0.1"}, 2, "ping: SO_BINDTODEVICE nosuchdev0: No such device\n$", true},
		{"unknown host, -4", []string{"-4", "-c", "1", "nosuch.invalid"}, 2, "ping: nosuch.invalid: Name or service not known\n$", false},
		{"unknown zone", []string{"-c", "1", "fe80::1%nosuch0"}, 2, "ping: fe80::1%nosuch0: Name or service not known\n$", false},
		{"inet_aton form, -6", []string{"-6", "-c", "1", "127.1"}, 2, "ping: 127.1: Address family for hostname not supported\n$", false},
		{"broadcast without -b", []string{"-c", "1", "127.255.255.255"}, 2, "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n$", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.raw {
				socktest.NeedRaw(t)
			}
			cmd, stdout, stderr := pingChild(t, nil, tc.args...)
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			want, exact := strings.CutSuffix(tc.stderr, "$") // "$": all of it
			if code != tc.code || !strings.HasPrefix(stderr.String(), want) || exact && stderr.String() != want {
				t.Errorf("exit %d, stderr %q; want %d, %q\nstdout:\n%s", code, stderr, tc.code, tc.stderr, stdout)
			}
		})
	}
}

// TestPingJSON checks the --json lines: start, one per reply, summary.
func TestPingJSON(t *testing.T) {
	socktest.NeedRaw(t)
	cmd, stdout, stderr := pingChild(t, nil, "--json", "-c", "2", "-i", "0.2", "-w", "10", "127.0.0.1")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		types = append(types, m["type"].(string))
		switch m["type"] {
		case "start":
			if m["mtu"] != 65535.0 || m["ts"] == nil {
				t.Errorf("start %s: want the IPv4 route's mtu on lo, 65535, and a ts", line)
			}
		case "reply":
			if m["from"] != "127.0.0.1" || m["ttl"] != 64.0 || m["bytes"] != 64.0 || m["time_ms"] == nil {
				t.Errorf("reply %s", line)
			}
		case "summary":
			if m["transmitted"] != 2.0 || m["received"] != 2.0 || m["loss_percent"] != 0.0 || m["rtt"] == nil {
				t.Errorf("summary %s", line)
			}
		}
	}
	if strings.Join(types, " ") != "start reply reply summary" {
		t.Errorf("line types %q, want start reply reply summary", types)
	}
}

// waitLines reads r until want lines matching re have come, or fails.
func waitLines(t *testing.T, out *socktest.SyncBuffer, re *regexp.Regexp, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(re.FindAllString(out.String(), -1)) < want {
		if time.Now().After(deadline) {
			t.Fatalf("no %d lines matching %v in 10 s:\n%s", want, re, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPingInterrupt sends SIGINT to an endless ping: it prints the
// statistics and exits 0, as iputils does on Ctrl-C.
func TestPingInterrupt(t *testing.T) {
	socktest.NeedRaw(t)
	cmd, _, stderr := pingChild(t, nil, "-i", "0.1", "-w", "20", "127.0.0.1")
	var out socktest.SyncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLines(t, &out, regexp.MustCompile(`(?m)^64 bytes from`), 2)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s\n%s", err, stderr, out.String())
	}
	if !regexp.MustCompile(`(?m)^\d+ packets transmitted, \d+ received, 0% packet loss, time \d+ms\nrtt min/avg/max/mdev = `).MatchString(out.String()) {
		t.Errorf("no statistics after SIGINT:\n%s", out.String())
	}
}

// readProcStatus reads the fields of /proc/PID/status (or of a thread's).
func readProcStatus(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m, nil
}

// TestPingDropsPrivileges runs the command as root and reads
// /proc/PID/status of the running child, every thread of it, after its
// first reply: root is gone (nobody, or SUDO_UID/SUDO_GID) and so is every
// capability, while the raw socket opened before still works.
func TestPingDropsPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test is that root gives itself up")
	}
	socktest.NeedRaw(t)
	for _, tc := range []struct {
		name string
		env  []string
		id   string
	}{
		{"nobody", []string{"SUDO_UID=", "SUDO_GID="}, "65534"},
		{"sudo user", []string{"SUDO_UID=4321", "SUDO_GID=4322"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, gid := "65534", "65534"
			if tc.id == "" {
				uid, gid = "4321", "4322"
			}
			cmd, _, stderr := pingChild(t, tc.env, "-c", "4", "-i", "0.2", "-w", "10", "127.0.0.1")
			var out socktest.SyncBuffer
			cmd.Stdout = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			waitLines(t, &out, regexp.MustCompile(`(?m)^64 bytes from 127\.0\.0\.1: icmp_seq=1 `), 1)
			tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/*/status")
			if len(tasks) == 0 {
				t.Fatal("no threads in /proc")
			}
			for _, f := range append([]string{"/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status"}, tasks...) {
				st, err := readProcStatus(f)
				if err != nil {
					continue // a thread that ended
				}
				want := map[string]string{
					"Uid": strings.Repeat(uid+" ", 3) + uid, "Gid": strings.Repeat(gid+" ", 3) + gid, "Groups": "",
					"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapInh": "0000000000000000", "CapAmb": "0000000000000000",
				}
				for k, v := range want {
					if st[k] != v {
						t.Errorf("%s: %s %q, want %q", f, k, st[k], v)
					}
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("%v: %s", err, stderr)
			}
			if !strings.Contains(out.String(), "4 packets transmitted, 4 received") {
				t.Errorf("the pings after the drop did not all come back:\n%s", out.String())
			}
		})
	}
}

// TestPingUnprivileged runs the command as nobody: a flood, or an interval
// below 2 ms, is refused as iputils refuses it; and the ping itself works
// on the datagram socket when this host's ping_group_range admits nobody,
// or fails with the one line that says what to do.
func TestPingUnprivileged(t *testing.T) {
	run := func(args ...string) (stdout, stderr string, code int) {
		return runUnprivileged(t, append([]string{"ping"}, args...)...)
	}
	for _, args := range [][]string{{"-f", "-c", "1", "127.0.0.1"}, {"-i", "0.001", "-c", "1", "127.0.0.1"}, {"-i", "0", "-c", "1", "127.0.0.1"}} {
		if _, stderr, code := run(args...); code != 2 || stderr != "ping: cannot flood; minimal interval allowed for user is 2ms\n" {
			t.Errorf("%q as nobody: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, stderr, code := run("-l", "4", "-c", "1", "127.0.0.1"); code != 2 || stderr != "ping: cannot set preload to value greater than 3: 4\n" {
		t.Errorf("-l 4 as nobody: exit %d, stderr %q", code, stderr)
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Skipf("cannot read ping_group_range: %v", err)
	}
	var lo, hi int64
	fmt.Sscan(string(b), &lo, &hi)
	stdout, stderr, code := run("-c", "2", "-i", "0.2", "-w", "10", "127.0.0.1")
	if lo <= 65534 && 65534 <= hi {
		if code != 0 || !strings.Contains(stdout, "2 packets transmitted, 2 received") {
			t.Errorf("nobody, inside ping_group_range %q: exit %d\n%s%s", strings.TrimSpace(string(b)), code, stdout, stderr)
		}
		return
	}
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "ping: socket: Operation not permitted") ||
		!strings.Contains(stderr, `sysctl -w net.ipv4.ping_group_range="0 2147483647"`) || !strings.Contains(stderr, "setcap cap_net_raw+ep") {
		t.Errorf("nobody, outside ping_group_range %q: exit %d, stderr %q", strings.TrimSpace(string(b)), code, stderr)
	}
}

// floodRun is one flood's figures, read from its statistics.
type floodRun struct {
	pps      float64 // requests per second over ping's own "time"
	min, avg float64 // microseconds
}

var floodStats = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received, 0% packet loss, time (\d+)ms\nrtt min/avg/max/mdev = (\d+)\.(\d{3})/(\d+)\.(\d{3})/`)

// runFlood runs one flood ping with its output in a file (the dot display
// costs what a file write costs, the same for both) and reads its
// statistics.
func runFlood(b *testing.B, name string, args ...string) floodRun {
	f, err := os.CreateTemp("", "rawsock-flood-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %q: %v", name, args, err)
	}
	out, _ := os.ReadFile(f.Name())
	m := floodStats.FindSubmatch(out)
	if m == nil {
		b.Fatalf("%s: no statistics in the %d bytes of output", name, len(out))
	}
	n := func(i int) float64 { v, _ := strconv.ParseFloat(string(m[i]), 64); return v }
	return floodRun{pps: n(1) / (n(3) / 1000), min: n(4)*1000 + n(5), avg: n(6)*1000 + n(7)}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := range s { // insertion sort: a handful of rounds
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// BenchmarkPingFloodVsIputils runs iputils "ping -f -c N 127.0.0.1" and
// "rawsock ping -f -c N 127.0.0.1" side by side, alternating which goes
// first each round, with the dot display ("f") and without it ("fq", -q),
// and reports the medians: requests per second, min and avg round trip of
// each, rawsock's rate over iputils' (pps-ratio, of the medians) and the
// median of each round's ratio (round-ratio, steadier on a shared machine:
// both programs of a round meet the same load). Run it as root with
// iputils-ping installed, pinned to one CPU as the README's table is:
//
//	go test -c -o /tmp/cmd.test ./cmd/rawsock && go build -o /tmp/rawsock-bin ./cmd/rawsock &&
//	RAWSOCK_BIN=/tmp/rawsock-bin RAWSOCK_PING_FLOOD_COUNT=20000 taskset -c 0 \
//		/tmp/cmd.test -test.run '^$' -test.bench PingFloodVsIputils -test.benchtime 21x
//
// RAWSOCK_PING_FLOOD_COUNT sets N (default 100000); RAWSOCK_BIN a built
// rawsock binary to time instead of this test binary acting as one.
func BenchmarkPingFloodVsIputils(b *testing.B) {
	iputils, err := exec.LookPath("ping")
	if err != nil {
		b.Skip("iputils ping is not installed (apt-get install iputils-ping)")
	}
	if os.Geteuid() != 0 {
		b.Skip("a flood needs root, for both")
	}
	self, _ := os.Executable()
	bin, pre := self, []string{"ping"}
	if p := os.Getenv("RAWSOCK_BIN"); p != "" {
		bin = p
	}
	count := "100000"
	if c := os.Getenv("RAWSOCK_PING_FLOOD_COUNT"); c != "" {
		count = c
	}
	for _, mode := range []struct{ name, flags string }{{"f", "-f"}, {"fq", "-fq"}} {
		b.Run(mode.name, func(b *testing.B) {
			args := []string{mode.flags, "-c", count, "-w", "120", "127.0.0.1"}
			var ours, theirs [3][]float64
			var ratios []float64
			for i := 0; i < b.N; i++ {
				var r [2]floodRun
				for k := range 2 {
					if (i+k)%2 == 0 {
						r[0] = runFlood(b, bin, append(pre, args...)...)
					} else {
						r[1] = runFlood(b, iputils, args...)
					}
				}
				for j, v := range [3]float64{r[0].pps, r[0].min, r[0].avg} {
					ours[j] = append(ours[j], v)
				}
				for j, v := range [3]float64{r[1].pps, r[1].min, r[1].avg} {
					theirs[j] = append(theirs[j], v)
				}
				ratios = append(ratios, r[0].pps/r[1].pps)
			}
			b.ReportMetric(median(ours[0]), "rawsock-pps")
			b.ReportMetric(median(theirs[0]), "iputils-pps")
			b.ReportMetric(median(ours[0])/median(theirs[0]), "pps-ratio")
			b.ReportMetric(median(ratios), "round-ratio")
			b.ReportMetric(median(ours[1]), "rawsock-min-µs")
			b.ReportMetric(median(theirs[1]), "iputils-min-µs")
			b.ReportMetric(median(ours[2]), "rawsock-avg-µs")
			b.ReportMetric(median(theirs[2]), "iputils-avg-µs")
			b.ReportMetric(0, "ns/op")
		})
	}
}
