package main

import (
	"bufio"
	"bytes"
	"net/netip"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/ping"
)

// TestInetAton checks the IPv4 forms inet_aton(3) reads, which iputils
// accepts through getaddrinfo, and some it refuses.
func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"127.1": "127.0.0.1", "0": "0.0.0.0", "2130706433": "127.0.0.1", "0x7f.1": "127.0.0.1",
		"0177.0.0.1": "127.0.0.1", "10.1.2": "10.1.0.2", "1.2.3.4": "1.2.3.4", "127.0.65535": "127.0.255.255",
		"127.0.0.1.5": "", "256.1.1.1": "", "1.256.1": "", "": "", "a.b": "", "1..2": "", "08": "", "0b1": "", "+1": "", "1_0": "", "4294967296": "",
	} {
		a, err := inetAton(in)
		switch {
		case want == "" && err == nil:
			t.Errorf("inetAton(%q) = %v, want an error", in, a)
		case want != "" && (err != nil || a.String() != want):
			t.Errorf("inetAton(%q) = %v, %v; want %s", in, a, err, want)
		}
	}
	for _, host := range []string{"127.1", "0", "2130706433"} {
		a, numeric, err := resolveTarget(host, 4)
		if err != nil || !numeric || !a.Is4() {
			t.Errorf("resolveTarget(%q, -4) = %v, %v, %v", host, a, numeric, err)
		}
	}
}

// TestPrintIputilsLines checks the reply lines of the options and reports
// added for iputils: -v ident, -a bell, BAD CHECKSUM, wrong data, a
// link-local reply (no DIFFERENT ADDRESS), the flood's C, -D's stamp.
func TestPrintIputilsLines(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	ll := netip.MustParseAddr("fe80::b%eth0")
	us := time.Microsecond
	payload := make([]byte, 56)
	for i := range payload {
		payload[i] = byte(i)
	}
	wrong := append([]byte(nil), payload...)
	wrong[20] = 0xeb
	for _, tc := range []struct {
		name string
		o    pingOpts
		dst  netip.Addr
		e    ping.Event
		want string
	}{
		{"verbose", pingOpts{verbose: true}, lo, ping.Event{Kind: ping.EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 27 * us, Mismatch: -1}, "64 bytes from 127.0.0.1: icmp_seq=1 ident=4242 ttl=64 time=0.027 ms"},
		{"audible", pingOpts{audible: true}, lo, ping.Event{Kind: ping.EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 25 * us, Mismatch: -1}, "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.025 ms\a"},
		{"bad checksum", pingOpts{}, lo, ping.Event{Kind: ping.EventReply, Seq: 2, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 30 * us, BadChecksum: true, Mismatch: -1}, "64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.030 ms (BAD CHECKSUM!)"},
		{"link-local", pingOpts{}, ll, ping.Event{Kind: ping.EventReply, Seq: 1, From: ll, Size: 64, TTL: 64, Timed: true, RTT: 60 * us, Mismatch: -1, IPv6: true}, "64 bytes from fe80::b%eth0: icmp_seq=1 ttl=64 time=0.060 ms"},
		{"link-local, numeric zone", pingOpts{}, ll, ping.Event{Kind: ping.EventReply, Seq: 1, From: ll.WithZone("2"), Size: 64, TTL: 64, Timed: true, RTT: 60 * us, Mismatch: -1, IPv6: true}, "64 bytes from fe80::b%2: icmp_seq=1 ttl=64 time=0.060 ms"},
		{"wrong data", pingOpts{}, lo, ping.Event{Kind: ping.EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 28 * us, Mismatch: 20, Data: wrong},
			"64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.028 ms\nwrong data byte #20 should be 0x14 but was 0xeb\n" +
				"#16\t10 11 12 13 eb 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f \n" +
				"#48\t30 31 32 33 34 35 36 37 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := &pingPrinter{o: &tc.o, dst: tc.dst, size: 56, id: 4242, payload: payload}
			if got := pr.line(&tc.e); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	var flood bytes.Buffer
	fpr := &pingPrinter{w: bufio.NewWriter(&flood), o: &pingOpts{flood: true, audible: true}, dst: lo, size: 56}
	fpr.event(&ping.Event{Kind: ping.EventSent, Seq: 1})
	fpr.event(&ping.Event{Kind: ping.EventReply, Seq: 1, From: lo, Size: 64, Mismatch: -1})
	fpr.w.Flush()
	if flood.String() != ".\b \b\a" {
		t.Errorf("-f -a: %q, want iputils' \".\\b \\b\\a\"", flood.String())
	}
	if got := floodMark(&ping.Event{Kind: ping.EventReply, BadChecksum: true}); got != "\bC" {
		t.Errorf("flood mark of a bad checksum: %q, want \"\\bC\"", got)
	}
	if got := stamp(time.Unix(1796278657, 720916999)); got != "[1796278657.720916] " {
		t.Errorf("stamp: %q", got)
	}
	st := ping.Statistics{Transmitted: 3, Received: 2, Corrupted: 1}
	if got := statisticsText("h", &st, true, false); !strings.Contains(got, "3 packets transmitted, 2 received, +1 corrupted, 33.3333% packet loss") {
		t.Errorf("statistics: %q", got)
	}
}

// TestStatusLine compares the SIGQUIT line with iputils' for the same
// figures (a real iputils 20221126 run: 4 replies of 36, 51, 59 and 49 µs).
func TestStatusLine(t *testing.T) {
	us := time.Microsecond
	st := ping.Statistics{Transmitted: 4, Received: 4, Timed: true, Min: 36 * us, Avg: 48 * us, EWMA: 41 * us, Max: 59 * us}
	if got, want := statusLine(&st, true), "\r4/4 packets, 0% loss, min/avg/ewma/max = 0.036/0.048/0.041/0.059 ms\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	st = ping.Statistics{Transmitted: 3, Received: 1}
	if got, want := statusLine(&st, true), "\r1/3 packets, 66% loss\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPingSignals sends SIGQUIT to a running ping: one status line on
// standard error, and it goes on (no goroutine dump, no exit); then
// SIGTERM, which ends it with the statistics, in text and in JSON.
func TestPingSignals(t *testing.T) {
	needRaw(t)
	for _, json := range []bool{false, true} {
		args := []string{"-i", "0.1", "-w", "20", "127.0.0.1"}
		reply, summary := `(?m)^64 bytes from`, `(?m)^\d+ packets transmitted, \d+ received, 0% packet loss`
		if json {
			args = append([]string{"--json"}, args...)
			reply, summary = `"type":"reply"`, `(?m)^\{"type":"summary".*"loss_percent":0,`
		}
		cmd, _, _ := pingChild(t, nil, args...)
		var out, errOut lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitLines(t, &out, regexp.MustCompile(reply), 2)
		cmd.Process.Signal(syscall.SIGQUIT)
		status := regexp.MustCompile(`^\r\d+/\d+ packets, 0% loss, min/avg/ewma/max = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms\n$`)
		waitLines(t, &errOut, regexp.MustCompile(`packets, `), 1)
		n := len(regexp.MustCompile(reply).FindAllString(out.String(), -1))
		waitLines(t, &out, regexp.MustCompile(reply), n+2) // still running
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("json %v: %v: %s\n%s", json, err, errOut.String(), out.String())
		}
		if !status.MatchString(errOut.String()) {
			t.Errorf("json %v: stderr %q, want one status line", json, errOut.String())
		}
		if !regexp.MustCompile(summary).MatchString(out.String()) {
			t.Errorf("json %v: no statistics after SIGTERM:\n%s", json, out.String())
		}
	}
}

// TestPingPattern runs -p: the PATTERN line first, and the replies match.
func TestPingPattern(t *testing.T) {
	needRaw(t)
	cmd, stdout, stderr := pingChild(t, nil, "-c", "1", "-p", "ff00", "-s", "40", "127.0.0.1")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !strings.HasPrefix(stdout.String(), "PATTERN: 0xff00\nPING 127.0.0.1 (127.0.0.1) 40(68) bytes of data.\n48 bytes from 127.0.0.1: icmp_seq=1 ") || strings.Contains(stdout.String(), "wrong data") {
		t.Errorf("output:\n%s", stdout)
	}
}

// TestPingAdaptive runs -A: iputils ends its statistics with ipg/ewma, as
// for a flood.
func TestPingAdaptive(t *testing.T) {
	needRaw(t)
	cmd, stdout, stderr := pingChild(t, nil, "-c", "3", "-A", "127.0.0.1")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !regexp.MustCompile(`(?m)^3 packets transmitted, 3 received, 0% packet loss, time \d+ms\nrtt min/avg/max/mdev = \S+ ms, ipg/ewma \d+\.\d{3}/\d+\.\d{3} ms$`).MatchString(stdout.String()) {
		t.Errorf("output:\n%s", stdout)
	}
}

// TestPingBroadcast asks for the loopback network's broadcast address
// with -b: iputils' warning on standard error (whether anything answers
// depends on net.ipv4.icmp_echo_ignore_broadcasts; nothing leaves lo).
func TestPingBroadcast(t *testing.T) {
	needRaw(t)
	cmd, stdout, stderr := pingChild(t, nil, "-b", "-c", "1", "-w", "1", "127.255.255.255")
	cmd.Run()
	if !strings.HasPrefix(stderr.String(), "WARNING: pinging broadcast address\n") || !strings.HasPrefix(stdout.String(), "PING 127.255.255.255 (127.255.255.255) 56(84) bytes of data.\n") {
		t.Errorf("stderr %q, stdout:\n%s", stderr, stdout)
	}
}
