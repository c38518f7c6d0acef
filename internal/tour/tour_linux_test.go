package tour

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/tour/tourtest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

func TestTour(t *testing.T) {
	var buf bytes.Buffer
	err := Run(&buf, Options{CallTimeout: 5 * time.Second, StepTimeout: 20 * time.Second})
	out := buf.String()
	if err != nil {
		t.Errorf("tour: %v", err)
	}
	defer func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("tour output:\n%s", out)
		}
	}()
	if strings.Contains(out, "FAILED") {
		t.Errorf("a step failed")
	}
	if rawsock.Tracing() && os.Getenv("RAWSOCK_TRACE") == "" {
		t.Errorf("the tour left the trace on")
	}

	// The matrix and the privileges section.
	tourtest.MustMatch(t, out,
		`(?m)^  AF_INET +0 +TCP +UDP +SCTP +ICMP +RAW$`,
		`(?m)^  SOCK_STREAM +ok +ok +EPROTONOSUPPORT `,
		`(?m)^  AF_UNIX +0$`,
		`CAP_NET_RAW: (NOT )?effective \(CapEff [0-9a-f]{16} in /proc/self/status`,
		`(?m)^    to grant it without root: .*sudo setcap cap_net_raw\+ep \./rawsock-bin && \./rawsock-bin tour$`,
		`(?m)^    to admit every group: sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"$`,
		`ping_group_range: "\d+ \d+" admits`,
	)

	// TCP: the tutorial's exchange, each call traced under its Python line.
	tcp := tourtest.Section(t, out, "TCP: the tutorial's timestamp exchange")
	tourtest.MustMatch(t, tcp,
		`(?m)^  \[server\] tcpSerSock = socket\(AF_INET, SOCK_STREAM\)\n      socket\(AF_INET, SOCK_STREAM\|SOCK_CLOEXEC\|SOCK_NONBLOCK, IPPROTO_IP\) = \d+$`,
		`(?m)^      bind\(\d+, \{AF_INET, 127\.0\.0\.1:0\}\) = 0$`,
		`(?m)^      listen\(\d+, 5\) = 0$`,
		`(?m)^      connect\(\d+, \{AF_INET, 127\.0\.0\.1:\d+\}\) = `,
		`(?m)^      accept4\(\d+\) = \d+ \{AF_INET, 127\.0\.0\.1:\d+\}$`,
		`(?m)^      sendto\(\d+, 5\) = 5$`,
		`(?m)^      recvfrom\(\d+, 1024\) = 5$`,
		`(?m)^      sendto\(\d+, 29\) = 29$`,
		`(?m)^      recvfrom\(\d+, 1024\) = 29$`,
		`(?m)^      recvfrom\(\d+, 1024\) = 0$`,
	)
	tourtest.CheckTimestampReply(t, tcp, "hello")

	udp := tourtest.Section(t, out, "UDP: the same exchange in datagrams")
	tourtest.MustMatch(t, udp,
		`(?m)^      socket\(AF_INET, SOCK_DGRAM\|SOCK_CLOEXEC\|SOCK_NONBLOCK, IPPROTO_IP\) = \d+$`,
		`(?m)^      sendto\(\d+, 9, \{AF_INET, 127\.0\.0\.1:\d+\}\) = 9$`,
		`(?m)^      recvfrom\(\d+, 1024\) = 9 \{AF_INET, 127\.0\.0\.1:\d+\}$`,
		`server got "hello udp" from 127\.0\.0\.1:\d+`,
		`(?m)^      recvfrom\(\d+, 1024\) = 33 \{AF_INET, 127\.0\.0\.1:\d+\}$`,
	)
	tourtest.CheckTimestampReply(t, udp, "hello udp")

	// SEQPACKET: two sends, two messages, in two recvs.
	seq := tourtest.Section(t, out, "AF_UNIX SOCK_SEQPACKET: message boundaries kept")
	tourtest.MustMatch(t, seq,
		`(?m)^      socket\(AF_UNIX, SOCK_SEQPACKET\|SOCK_CLOEXEC\|SOCK_NONBLOCK, 0\) = \d+$`,
		`(?m)^      recvfrom\(\d+, 1024\) = 5\n  => SOCK_SEQPACKET recv 1: "first"\n      recvfrom\(\d+, 1024\) = 6\n  => SOCK_SEQPACKET recv 2: "second"$`,
		`(?m)^      recvmsg\(\d+, 8, oob 0, MSG_CMSG_CLOEXEC\) = 8 \[MSG_TRUNC`,
		`SOCK_SEQPACKET recvmsg got "a longer" with MSG_TRUNC`,
		`SOCK_STREAM: 2 sends, \d recv: "firstsecond"`,
	)

	// SCM_RIGHTS: the pipe's contents read through the fd that came over
	// the socket.
	scm := tourtest.Section(t, out, "socketpair and SCM_RIGHTS: passing an open fd")
	m := tourtest.MustMatch(t, scm,
		`(?m)^      sendmsg\(\d+, 2, oob 24\) = 2$`,
		`(?m)^      recvmsg\(\d+, 1024, oob 24, MSG_CMSG_CLOEXEC\) = 2 cmsg 24`,
		`=> b got "fd" and \[SOL_SOCKET/SCM_RIGHTS \(4 bytes\)\]: fd (\d+), the kernel's copy of fd (\d+)`,
	)
	if m != nil && m[1] == m[2] {
		t.Errorf("the received fd %s has the sent fd's number: it cannot be the kernel's copy", m[1])
	}
	tourtest.MustMatch(t, scm, `=> read "this was written into a pipe; its read end went through the socket"`)

	raw := tourtest.Section(t, out, "Raw socket: ICMP echo to 127.0.0.1")
	if err := rawErr(); err != nil {
		t.Logf("no raw sockets here (%v): checking that the raw step says why it is skipped", err)
		tourtest.MustMatch(t, raw, `(?m)^  skipped: this process has no effective CAP_NET_RAW \(CapEff [0-9a-f]{16}, bit 13 clear; uid \d+\): run as root, or: .*setcap cap_net_raw\+ep`)
	} else if _, on := echoIgnoreAll(); on {
		tourtest.MustMatch(t, raw, `(?m)^  skipped: net.ipv4.icmp_echo_ignore_all is`)
	} else {
		tourtest.MustMatch(t, raw,
			`(?m)^      socket\(AF_INET, SOCK_RAW\|SOCK_CLOEXEC\|SOCK_NONBLOCK, IPPROTO_ICMP\) = \d+$`,
			`(?m)^      sendto\(\d+, \d+, \{AF_INET, 127\.0\.0\.1:0\}\) = \d+$`,
			`=> IPv4 127\.0\.0\.1 > 127\.0\.0\.1 ttl=\d+, 20-byte header, then ICMP echo reply id=\d+ seq=1`,
			`=> echo reply from 127\.0\.0\.1: icmp_seq=1 ttl=\d+ time=\d+\.\d{3} ms`,
		)
	}
	tourtest.MustMatch(t, out, `(?m)^== Done: 9 steps, \d ran, [0123] skipped, 0 failed ==$`)
}

// rawErr is the kernel's answer to a raw socket: nil when one opens. The
// tour decides from CapEff; the tests check that against this.
func rawErr() error { return openErr(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_ICMP) }

// TestTourMatrixMatchesKernel checks each cell of the matrix against a
// socket(2) made straight through x/sys/unix.
func TestTourMatrixMatchesKernel(t *testing.T) {
	cells := probeMatrix()
	n := 0
	for _, f := range matrixFamilies {
		n += len(matrixTypes) * len(f.protos)
	}
	if len(cells) != n {
		t.Fatalf("%d cells, want %d", len(cells), n)
	}
	for _, c := range cells {
		var want unix.Errno
		fd, err := unix.Socket(c.family, c.typ|unix.SOCK_CLOEXEC, c.proto)
		if err == nil {
			unix.Close(fd)
		} else {
			want = err.(unix.Errno)
		}
		var got unix.Errno
		if c.err != nil && !errors.As(c.err, &got) {
			t.Errorf("%s: error %v carries no errno", tripleName(c), c.err)
		}
		if got != want {
			t.Errorf("%s: matrix says %q, the kernel says %q", tripleName(c), c.text(), cellText(want))
		}
	}
	// Cells every Linux kernel agrees on.
	for _, want := range []struct {
		family, typ, proto int
		text               string
	}{
		{unix.AF_INET, unix.SOCK_STREAM, 0, "ok"},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP, "EPROTONOSUPPORT"},
		{unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP, "ok"},
		{unix.AF_UNIX, unix.SOCK_SEQPACKET, 0, "ok"},
		{unix.AF_UNIX, unix.SOCK_RAW, 0, "ok*"}, // AF_UNIX makes it SOCK_DGRAM
		{unix.AF_UNIX, unix.SOCK_RDM, 0, "ESOCKTNOSUPPORT"},
	} {
		found := false
		for _, c := range cells {
			if c.family == want.family && c.typ == want.typ && c.proto == want.proto {
				found = true
				if c.text() != want.text {
					t.Errorf("%s: %q, want %q", tripleName(c), c.text(), want.text)
				}
			}
		}
		if !found {
			t.Errorf("matrix lacks socket(%d, %d, %d)", want.family, want.typ, want.proto)
		}
	}
}

func tripleName(c matrixCell) string {
	return fmt.Sprintf("socket(%s, %s, %s)", rawsock.FamilyName(c.family), rawsock.TypeName(c.typ), rawsock.ProtoName(c.family, c.proto))
}

func cellText(errno unix.Errno) string {
	if errno == 0 {
		return "ok"
	}
	return unix.ErrnoName(errno)
}

// TestRunStepsFailures checks that a failing, a panicking and a hanging
// step each cost one line and the tour goes on, and that the result says
// which failed.
func TestRunStepsFailures(t *testing.T) {
	var blockedErr error
	steps := []tourStep{
		{title: "fails", run: func(s *stepRun) error {
			_, err := s.socket(rawsock.AF_INET, rawsock.SOCK_SEQPACKET, 0)
			return err
		}},
		{title: "panics", run: func(s *stepRun) error { panic("oops") }},
		{title: "hangs", run: func(s *stepRun) error {
			a, _, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			s.track(a)
			a.SetTimeout(0) // wait without limit: only the step's watchdog ends it
			_, blockedErr = a.Recv(make([]byte, 1), 0)
			return blockedErr
		}},
		{title: "skips", run: func(s *stepRun) error { return skip("not here") }},
		{title: "raw", needRaw: true, run: func(s *stepRun) error {
			s.result("raw ran")
			return nil
		}},
		{title: "works", run: func(s *stepRun) error {
			s.result("still running")
			return nil
		}},
	}
	var buf bytes.Buffer
	start := time.Now()
	err := runSteps(&buf, Options{CallTimeout: time.Hour, StepTimeout: 200 * time.Millisecond}, steps)
	out := buf.String()
	t.Logf("output:\n%s", out)
	if err == nil || !strings.Contains(err.Error(), "3 of 6 steps failed: fails; panics; hangs") {
		t.Errorf("runSteps error %v, want the three failed steps named", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("the hanging step was not stopped")
	}
	if !errors.Is(blockedErr, net.ErrClosed) {
		t.Errorf("the blocked recv ended with %v, want net.ErrClosed (closed by the watchdog)", blockedErr)
	}
	tourtest.MustMatch(t, out,
		`(?m)^== 1\. fails ==\n  FAILED: socket\(AF_INET, SOCK_SEQPACKET, 0\): socket type not supported$`,
		`(?m)^== 2\. panics ==\n  FAILED: step panicked: oops$`,
		`(?m)^== 3\. hangs ==\n  FAILED: step took longer than 200ms and was stopped: recvfrom: use of closed network connection$`,
		`(?m)^== 4\. skips ==\n  skipped: not here$`,
		`(?m)^== 6\. works ==\n  => still running$`,
	)
	if readPrivileges().netRaw {
		tourtest.MustMatch(t, out, `(?m)^== 5\. raw ==\n  => raw ran$`)
	} else {
		tourtest.MustMatch(t, out, `(?m)^== 5\. raw ==\n  skipped: this process has no effective CAP_NET_RAW`)
	}
	tourtest.MustMatch(t, out, `(?m)^== Done: 6 steps, [12] ran, [12] skipped, 3 failed ==$`)
}

func TestReadCapEff(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		status string
		mask   uint64
		err    string
	}{
		{"Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n", 0x1fffeffffff, ""},
		{"CapEff:\t0000000000002000\n", 1 << unix.CAP_NET_RAW, ""},
		{"CapEff:\tzz\n", 0, `CapEff "zz"`},
		{"Name:\tx\n", 0, "no CapEff line"},
	} {
		p := filepath.Join(dir, "status")
		if err := os.WriteFile(p, []byte(tc.status), 0o600); err != nil {
			t.Fatal(err)
		}
		mask, err := readCapEff(p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one saying %q", tc.status, err, tc.err)
			}
			continue
		}
		if err != nil || mask != tc.mask {
			t.Errorf("%q: %x, %v; want %x", tc.status, mask, err, tc.mask)
		}
	}
	if _, err := readCapEff(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestPingGroupRange(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "range")
	for _, tc := range []struct {
		text   string
		lo, hi int
		bad    bool
	}{
		{"1\t0\n", 1, 0, false},
		{"0\t2147483647\n", 0, 2147483647, false},
		{"100 200", 100, 200, false},
		{"1", 0, 0, true},
		{"a b", 0, 0, true},
	} {
		os.WriteFile(p, []byte(tc.text), 0o600)
		lo, hi, err := readPingGroupRange(p)
		if (err != nil) != tc.bad || lo != tc.lo || hi != tc.hi {
			t.Errorf("%q: %d %d %v", tc.text, lo, hi, err)
		}
	}
	for _, tc := range []struct {
		lo, hi, egid int
		groups       []int
		want         int
	}{
		{1, 0, 0, nil, -1}, // the default admits nobody, not even root
		{0, 2147483647, 65534, nil, 65534},
		{100, 200, 1000, []int{5, 150, 160}, 150},
		{100, 200, 150, []int{160}, 150}, // the egid comes first, as in ping_init_sock
		{100, 200, 1000, []int{5}, -1},
	} {
		if got := groupInRange(tc.lo, tc.hi, tc.egid, tc.groups); got != tc.want {
			t.Errorf("groupInRange(%d, %d, %d, %v) = %d, want %d", tc.lo, tc.hi, tc.egid, tc.groups, got, tc.want)
		}
	}
}

func TestCtimeLayout(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2016, 9, 13, 19, 11, 20, 0, time.UTC), "Tue Sep 13 19:11:20 2016"}, // the tutorial's
		{time.Date(2016, 9, 3, 9, 1, 2, 0, time.UTC), "Sat Sep  3 09:01:02 2016"},     // C pads the day with a space
	} {
		if got := tc.t.Format(ctimeLayout); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestPrefixWriter(t *testing.T) {
	var buf bytes.Buffer
	p := &prefixWriter{w: &buf, prefix: "> "}
	for _, s := range []string{"one\ntw", "o\n", "", "three\nfour\n"} {
		if n, err := p.Write([]byte(s)); n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if want := "> one\n> two\n> three\n> four\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
