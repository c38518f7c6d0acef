package ping

import (
	"bytes"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The printers' output, compared with iputils' for the same events.

func TestFormatRTT(t *testing.T) {
	us := time.Microsecond
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{45 * us, "0.045"},
		{45*us + 999*time.Nanosecond, "0.045"}, // iputils works in whole microseconds
		{999 * us, "0.999"},
		{1000 * us, "1.00"},
		{1234 * us, "1.23"},
		{1235 * us, "1.24"},
		{9994 * us, "9.99"},
		{9995 * us, "10.0"}, // the 10000-5 boundary
		{12345 * us, "12.3"},
		{99949 * us, "99.9"},
		{99950 * us, "100"}, // the 100000-50 boundary
		{123456 * us, "123"},
		{1500 * time.Millisecond, "1500"},
	} {
		if got := formatRTT(tc.d); got != tc.want {
			t.Errorf("formatRTT(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestStatisticsText compares the closing block with iputils' for the same
// figures; the first three are real iputils 20221126 runs.
func TestStatisticsText(t *testing.T) {
	us := time.Microsecond
	for _, tc := range []struct {
		name  string
		host  string
		st    Statistics
		timed bool
		flood bool
		want  string
	}{
		{"loopback", "127.0.0.1", Statistics{Transmitted: 3, Received: 3, Timed: true, Min: 24 * us, Avg: 32 * us, Max: 41 * us, Mdev: 7 * us, Time: 456 * time.Millisecond}, true, false,
			"\n--- 127.0.0.1 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 456ms\nrtt min/avg/max/mdev = 0.024/0.032/0.041/0.007 ms\n"},
		{"errors and no reply", "10.250.0.1", Statistics{Transmitted: 1, Errors: 1}, true, false,
			"\n--- 10.250.0.1 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n\n"},
		{"flood", "127.0.0.1", Statistics{Transmitted: 100000, Received: 100000, Timed: true, Min: 1 * us, Avg: 1 * us, Max: 87 * us, Mdev: 1 * us, EWMA: 1 * us, Pipe: 2, Time: 1138 * time.Millisecond}, true, true,
			"\n--- 127.0.0.1 ping statistics ---\n100000 packets transmitted, 100000 received, 0% packet loss, time 1138ms\nrtt min/avg/max/mdev = 0.001/0.001/0.087/0.001 ms, pipe 2, ipg/ewma 0.011/0.001 ms\n"},
		{"untimed (-s 8)", "127.0.0.1", Statistics{Transmitted: 2, Received: 2, Time: 206 * time.Millisecond}, false, false,
			"\n--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 206ms\n\n"},
		{"loss and duplicates", "b.example", Statistics{Transmitted: 3, Received: 2, Duplicates: 2, Timed: true, Min: 1500 * us, Avg: 2 * time.Millisecond, Max: 2500 * us, Mdev: 500 * us, Time: 2000400 * us}, true, false,
			"\n--- b.example ping statistics ---\n3 packets transmitted, 2 received, +2 duplicates, 33.3333% packet loss, time 2000ms\nrtt min/avg/max/mdev = 1.500/2.000/2.500/0.500 ms\n"},
		{"time rounds half up", "h", Statistics{Transmitted: 2, Received: 1, Timed: true, Min: us, Avg: us, Max: us, Time: 1500 * us}, true, false,
			"\n--- h ping statistics ---\n2 packets transmitted, 1 received, 50% packet loss, time 2ms\nrtt min/avg/max/mdev = 0.001/0.001/0.001/0.000 ms\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := statisticsText(tc.host, &tc.st, tc.timed, tc.flood); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestPrintLines checks each line a reply, error or failed send prints,
// and the flood's marks.
func TestPrintLines(t *testing.T) {
	lo4, lo6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	router := netip.MustParseAddr("10.0.2.2")
	us := time.Microsecond
	for _, tc := range []struct {
		name string
		dst  netip.Addr
		size int
		e    Event
		want string
	}{
		{"reply", lo4, 56, Event{Kind: EventReply, Seq: 1, From: lo4, Size: 64, TTL: 64, Timed: true, RTT: 45 * us}, "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms"},
		{"reply v6", lo6, 56, Event{Kind: EventReply, Seq: 2, From: lo6, Size: 64, TTL: 64, Timed: true, RTT: 12345 * us, IPv6: true}, "64 bytes from ::1: icmp_seq=2 ttl=64 time=12.3 ms"},
		{"duplicate", lo4, 56, Event{Kind: EventReply, Seq: 3, From: lo4, Size: 64, TTL: 63, Timed: true, RTT: 123456 * us, Dup: true}, "64 bytes from 127.0.0.1: icmp_seq=3 ttl=63 time=123 ms (DUP!)"},
		{"untimed, no TTL", lo4, 8, Event{Kind: EventReply, Seq: 1, From: lo4, Size: 16, TTL: -1}, "16 bytes from 127.0.0.1: icmp_seq=1"},
		{"truncated", lo4, 56, Event{Kind: EventReply, Seq: 1, From: lo4, Size: 40, TTL: 64, Timed: true, RTT: us}, "40 bytes from 127.0.0.1: icmp_seq=1 ttl=64 (truncated)"},
		{"different address", lo4, 56, Event{Kind: EventReply, Seq: 1, From: router, Size: 64, TTL: 64, Timed: true, RTT: 2 * us}, "64 bytes from 10.0.2.2: icmp_seq=1 ttl=64 time=0.002 ms (DIFFERENT ADDRESS!)"},
		{"unreachable", netip.MustParseAddr("10.9.0.1"), 56, Event{Kind: EventError, Seq: 1, From: router, Type: 3, Code: 1}, "From 10.0.2.2 icmp_seq=1 Destination Host Unreachable"},
		{"ttl exceeded", netip.MustParseAddr("10.9.0.1"), 56, Event{Kind: EventError, Seq: 4, From: router, Type: 11}, "From 10.0.2.2 icmp_seq=4 Time to live exceeded"},
		{"v6 no route", lo6, 56, Event{Kind: EventError, Seq: 1, From: netip.MustParseAddr("fd00::2"), Type: 1, IPv6: true}, "From fd00::2 icmp_seq=1 Destination unreachable: No route"},
		{"send error", lo4, 56, Event{Kind: EventSendError, Seq: 1, Err: os.NewSyscallError("sendto", unix.ENETUNREACH)}, "ping: sendto: Network is unreachable"},
		{"local error, message too long", lo4, 56, Event{Kind: EventSendError, Seq: 1, Err: mtuErr{}}, "ping: local error: message too long, mtu=1500"},
		{"sent prints nothing", lo4, 56, Event{Kind: EventSent, Seq: 1}, ""},
		{"timeout prints nothing", lo4, 56, Event{Kind: EventTimeout, Seq: 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := &Printer{Dst: tc.dst, Size: tc.size}
			if got := pr.Line(&tc.e); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	for kind, want := range map[EventKind]string{EventSent: ".", EventReply: "\b \b", EventError: "\bE", EventSendError: "E", EventTimeout: ""} {
		if got := floodMark(&Event{Kind: kind}); got != want {
			t.Errorf("flood mark of %v: %q, want %q", kind, got, want)
		}
	}
}

// mtuErr is the library's local EMSGSIZE error as the command sees it.
type mtuErr struct{}

func (mtuErr) Error() string { return "local error: message too long, mtu=1500" }
func (mtuErr) Unwrap() error { return unix.EMSGSIZE }
func (mtuErr) MTU() int      { return 1500 }

// TestSendErrorToStderr checks that a failed send is reported on standard
// error, as iputils' error(3) does, and a reply on standard output.
func TestSendErrorToStderr(t *testing.T) {
	var out, errOut bytes.Buffer
	lo := netip.MustParseAddr("127.0.0.1")
	pr := &Printer{W: &out, Err: &errOut, Dst: lo, Size: 56}
	pr.Event(&Event{Kind: EventSendError, Seq: 1, Err: os.NewSyscallError("sendto", unix.EHOSTUNREACH)})
	pr.Event(&Event{Kind: EventReply, Seq: 2, From: lo, Size: 64, TTL: 64})
	if errOut.String() != "ping: sendto: No route to host\n" || out.String() != "64 bytes from 127.0.0.1: icmp_seq=2 ttl=64\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}

func TestPingHeader(t *testing.T) {
	for _, tc := range []struct {
		host, iface string
		dst, src    string
		size        int
		want        string
	}{
		{"127.0.0.1", "", "127.0.0.1", "127.0.0.1", 56, "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n"},
		{"localhost", "", "127.0.0.1", "127.0.0.1", 8, "PING localhost (127.0.0.1) 8(36) bytes of data.\n"},
		{"127.0.0.1", "lo", "127.0.0.1", "127.0.0.1", 56, "PING 127.0.0.1 (127.0.0.1) from 127.0.0.1 lo: 56(84) bytes of data.\n"},
		{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", 56, "PING 127.0.0.1 (127.0.0.1) from 127.0.0.1 : 56(84) bytes of data.\n"},
		{"::1", "", "::1", "::1", 56, "PING ::1(::1) 56 data bytes\n"},
	} {
		var b bytes.Buffer
		pr := &Printer{W: &b, Host: tc.host, Interface: tc.iface, Dst: netip.MustParseAddr(tc.dst), Size: tc.size}
		pr.Header(netip.MustParseAddr(tc.src))
		if b.String() != tc.want {
			t.Errorf("got  %q\nwant %q", b.String(), tc.want)
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
		pr   *Printer
		dst  netip.Addr
		e    Event
		want string
	}{
		{"verbose", &Printer{Verbose: true}, lo, Event{Kind: EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 27 * us, Mismatch: -1}, "64 bytes from 127.0.0.1: icmp_seq=1 ident=4242 ttl=64 time=0.027 ms"},
		{"audible", &Printer{Audible: true}, lo, Event{Kind: EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 25 * us, Mismatch: -1}, "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.025 ms\a"},
		{"bad checksum", &Printer{}, lo, Event{Kind: EventReply, Seq: 2, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 30 * us, BadChecksum: true, Mismatch: -1}, "64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.030 ms (BAD CHECKSUM!)"},
		{"link-local", &Printer{}, ll, Event{Kind: EventReply, Seq: 1, From: ll, Size: 64, TTL: 64, Timed: true, RTT: 60 * us, Mismatch: -1, IPv6: true}, "64 bytes from fe80::b%eth0: icmp_seq=1 ttl=64 time=0.060 ms"},
		{"link-local, numeric zone", &Printer{}, ll, Event{Kind: EventReply, Seq: 1, From: ll.WithZone("2"), Size: 64, TTL: 64, Timed: true, RTT: 60 * us, Mismatch: -1, IPv6: true}, "64 bytes from fe80::b%2: icmp_seq=1 ttl=64 time=0.060 ms"},
		{"wrong data", &Printer{}, lo, Event{Kind: EventReply, Seq: 1, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 28 * us, Mismatch: 20, Data: wrong},
			"64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.028 ms\nwrong data byte #20 should be 0x14 but was 0xeb\n" +
				"#16\t10 11 12 13 eb 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f \n" +
				"#48\t30 31 32 33 34 35 36 37 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := tc.pr
			pr.Dst, pr.Size, pr.ID, pr.Payload = tc.dst, 56, 4242, payload
			if got := pr.Line(&tc.e); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	var flood bytes.Buffer
	fpr := &Printer{W: &flood, Flood: true, Audible: true, Dst: lo, Size: 56}
	fpr.Event(&Event{Kind: EventSent, Seq: 1})
	fpr.Event(&Event{Kind: EventReply, Seq: 1, From: lo, Size: 64, Mismatch: -1})
	fpr.out().Flush()
	if flood.String() != ".\b \b\a" {
		t.Errorf("-f -a: %q, want iputils' \".\\b \\b\\a\"", flood.String())
	}
	if got := floodMark(&Event{Kind: EventReply, BadChecksum: true}); got != "\bC" {
		t.Errorf("flood mark of a bad checksum: %q, want \"\\bC\"", got)
	}
	if got := stamp(time.Unix(1796278657, 720916999)); got != "[1796278657.720916] " {
		t.Errorf("stamp: %q", got)
	}
	st := Statistics{Transmitted: 3, Received: 2, Corrupted: 1}
	if got := statisticsText("h", &st, true, false); !strings.Contains(got, "3 packets transmitted, 2 received, +1 corrupted, 33.3333% packet loss") {
		t.Errorf("statistics: %q", got)
	}
}

// TestStatusLine compares the SIGQUIT line with iputils' for the same
// figures (a real iputils 20221126 run: 4 replies of 36, 51, 59 and 49 µs).
func TestStatusLine(t *testing.T) {
	us := time.Microsecond
	st := Statistics{Transmitted: 4, Received: 4, Timed: true, Min: 36 * us, Avg: 48 * us, EWMA: 41 * us, Max: 59 * us}
	if got, want := statusLine(&st, true), "\r4/4 packets, 0% loss, min/avg/ewma/max = 0.036/0.048/0.041/0.059 ms\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	st = Statistics{Transmitted: 3, Received: 1}
	if got, want := statusLine(&st, true), "\r1/3 packets, 66% loss\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPrinterRun feeds a run's events to a Printer: -O's report of an
// unanswered request (printed under -q too, as iputils does), the failed
// send on Err, and the closing block with ipg/ewma.
func TestPrinterRun(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	us := time.Microsecond
	events := []Event{
		{Kind: EventSent, Seq: 1},
		{Kind: EventSent, Seq: 2},
		{Kind: EventReply, Seq: 2, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 45 * us, Mismatch: -1},
		{Kind: EventSendError, Seq: 3, Err: os.NewSyscallError("sendto", unix.ENETUNREACH)},
		{Kind: EventTimeout, Seq: 1},
	}
	st := Statistics{Transmitted: 3, Received: 1, Errors: 1, Timed: true, Min: 45 * us, Avg: 45 * us, Max: 45 * us, EWMA: 45 * us, Time: 2 * time.Millisecond}
	for _, tc := range []struct {
		name           string
		pr             *Printer
		stdout, stderr string
	}{
		{"text", &Printer{Host: "lo4", Dst: lo, Size: 56, Timed: true},
			"64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.045 ms\n" +
				"\n--- lo4 ping statistics ---\n3 packets transmitted, 1 received, +1 errors, 66.6667% packet loss, time 2ms\nrtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms\n",
			"ping: sendto: Network is unreachable\n"},
		{"-O -q -A", &Printer{Host: "lo4", Dst: lo, Size: 56, Timed: true, Pending: true, Quiet: true, IPG: true},
			"no answer yet for icmp_seq=1\n" +
				"\n--- lo4 ping statistics ---\n3 packets transmitted, 1 received, +1 errors, 66.6667% packet loss, time 2ms\nrtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms, ipg/ewma 1.000/0.045 ms\n",
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			tc.pr.W, tc.pr.Err = &out, &errOut
			for i := range events {
				tc.pr.Event(&events[i])
			}
			tc.pr.Statistics(&st)
			if out.String() != tc.stdout || errOut.String() != tc.stderr {
				t.Errorf("stdout\n%q\nwant\n%q\nstderr %q, want %q", out.String(), tc.stdout, errOut.String(), tc.stderr)
			}
			errOut.Reset()
			tc.pr.Status(&st)
			if want := "\r1/3 packets, 66% loss, min/avg/ewma/max = 0.045/0.045/0.045/0.045 ms\n"; errOut.String() != want {
				t.Errorf("status %q, want %q", errOut.String(), want)
			}
		})
	}
}

// TestJSONPrinter checks the --json lines of a run, field by field.
func TestJSONPrinter(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	router := netip.MustParseAddr("10.0.2.2")
	at := time.Unix(1796278657, 720916999)
	us := time.Microsecond
	var out, errOut bytes.Buffer
	j := &JSONPrinter{W: &out, Err: &errOut, Host: "localhost"}
	if err := j.Start(&Pinger{cfg: Config{Dst: lo}, size: 56, kind: SocketRaw, id: 77, mtu: 65535}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{
		{Kind: EventSent, Seq: 1, Time: at},
		{Kind: EventReply, Seq: 1, Time: at, From: lo, Size: 64, TTL: 64, Timed: true, RTT: 45 * us, Dup: true, Mismatch: 20},
		{Kind: EventReply, Seq: 2, Time: at, From: lo, Size: 16, TTL: -1, Mismatch: -1},
		{Kind: EventTimeout, Seq: 3, Time: at},
		{Kind: EventError, Seq: 4, Time: at, From: router, Type: 3, Code: 4, Info: 1400},
		{Kind: EventSendError, Seq: 5, Time: at, Err: mtuErr{}},
	} {
		j.Event(&e)
	}
	st := Statistics{Transmitted: 5, Received: 2, Duplicates: 1, Errors: 1, Timeouts: 1, Timed: true, Min: 45 * us, Avg: 45 * us, Max: 45 * us, EWMA: 45 * us, Time: 4*time.Second + 500*us}
	j.Summary(&st)
	lines := strings.Split(out.String(), "\n")
	want := []string{
		`^\{"type":"start","ts":\d+\.\d{6},"host":"localhost","addr":"127.0.0.1","size":56,"socket":"SOCK_RAW","id":77,"mtu":65535\}$`,
		`^\{"type":"reply","ts":1796278657\.720916,"seq":1,"from":"127\.0\.0\.1","bytes":64,"ttl":64,"time_ms":0\.045,"dup":true,"wrong_byte":20\}$`,
		`^\{"type":"reply","ts":1796278657\.720916,"seq":2,"from":"127\.0\.0\.1","bytes":16\}$`,
		`^\{"type":"timeout","ts":1796278657\.720916,"seq":3\}$`,
		`^\{"type":"error","ts":1796278657\.720916,"seq":4,"from":"10\.0\.2\.2","icmp":\[3,4\],"mtu":1400,"reason":"Frag needed and DF set \(mtu = 1400\)"\}$`,
		`^\{"type":"send_error","ts":1796278657\.720916,"seq":5,"mtu":1500,"reason":"local error: message too long, mtu=1500"\}$`,
		`^\{"type":"summary","ts":\d+\.\d{6},"host":"localhost","transmitted":5,"received":2,"duplicates":1,"corrupted":0,"errors":1,"timeouts":1,"loss_percent":60,"time_ms":4001,"rtt":\{"min_ms":0\.045,"avg_ms":0\.045,"max_ms":0\.045,"mdev_ms":0,"ewma_ms":0\.045\}\}$`,
		`^$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i := range want {
		if !regexp.MustCompile(want[i]).MatchString(lines[i]) {
			t.Errorf("line %d:\n%s\nwant it to match\n%s", i+1, lines[i], want[i])
		}
	}
	j.Status(&st)
	if want := "\r2/5 packets, 60% loss, min/avg/ewma/max = 0.045/0.045/0.045/0.045 ms\n"; errOut.String() != want {
		t.Errorf("status %q, want %q", errOut.String(), want)
	}
}
