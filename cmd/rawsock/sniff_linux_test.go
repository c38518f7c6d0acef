package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/capture"
)

func TestSniffArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want sniffOpts
		err  string
	}{
		{[]string{"-i", "lo", "-c", "5", "icmp"}, sniffOpts{iface: "lo", count: 5, expr: "icmp"}, ""},
		{[]string{"-c5", "-nX", "udp", "and", "port", "53"}, sniffOpts{count: 5, hex: true, expr: "udp and port 53"}, ""},
		{[]string{"udp", "-v", "-ilo", "and", "(port 53", "or", "port 54)"}, sniffOpts{iface: "lo", verbose: true, expr: "udp and (port 53 or port 54)"}, ""},
		{[]string{"-w", "f.pcap", "-d"}, sniffOpts{wfile: "f.pcap", dump: true}, ""},
		{[]string{"-r", "f.pcap", "--", "-x"}, sniffOpts{rfile: "f.pcap", expr: "-x"}, ""},
		{[]string{"-c", "0"}, sniffOpts{}, "invalid packet count 0"},
		{[]string{"-c", "x"}, sniffOpts{}, "invalid packet count x"},
		{[]string{"-z"}, sniffOpts{}, "invalid option -- 'z'"},
		{[]string{"--zz"}, sniffOpts{}, "unrecognized option '--zz'"},
		{[]string{"-i"}, sniffOpts{}, "option requires an argument -- 'i'"},
		{[]string{"-r", "f", "-i", "lo"}, sniffOpts{}, "-r and -i"},
	} {
		o, err := parseSniffArgs(tc.args)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case *o != tc.want:
			t.Errorf("%q: %+v, want %+v", tc.args, *o, tc.want)
		}
	}
}

// TestSniffBadInput: each mistake is one line naming its cause (the bad
// expression also shows a caret under its token), and exit status 2.
func TestSniffBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pcap")
	writePcap(t, good, 3)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"truncated.pcap": whole[:len(whole)-10],
		"header.pcap":    whole[:10],
		"text.pcap":      []byte("this is not a capture file at all\n"),
		"caplen.pcap":    append(append([]byte{}, whole[:24+8]...), 0xff, 0xff, 0, 0, 60, 0, 0, 0), // caplen > len
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		args  []string
		raw   bool   // the case needs CAP_NET_RAW to get as far as its error
		lines int    // lines on stderr
		want  string // in stderr
	}{
		{"bad option", []string{"-q"}, false, 2, "invalid option -- 'q'"},
		{"bad expression", []string{"-d", "udp", "and", "(port", "53", "or"}, false, 3, "\n  udp and (port 53 or\n"},
		{"unknown word", []string{"-r", good, "tcp", "and", "foo"}, false, 3, "foo"},
		{"no such file", []string{"-r", filepath.Join(dir, "none.pcap")}, false, 1, "no such file or directory"},
		{"truncated record", []string{"-r", filepath.Join(dir, "truncated.pcap")}, false, 2, "truncated"},
		{"truncated header", []string{"-r", filepath.Join(dir, "header.pcap")}, false, 1, "truncated"},
		{"not pcap", []string{"-r", filepath.Join(dir, "text.pcap")}, false, 1, "magic"},
		{"caplen over len", []string{"-r", filepath.Join(dir, "caplen.pcap")}, false, 2, "caplen"},
		{"unwritable -w", []string{"-w", filepath.Join(dir, "no", "dir.pcap")}, true, 1, "no such file or directory"},
		{"unknown interface", []string{"-i", "nosuch0", "-c", "1"}, true, 1, "nosuch0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.raw {
				socktest.NeedRaw(t)
			}
			stdout, stderr, code := runCmd(append([]string{"sniff"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			// A file read before its fault still prints the line for it.
			if strings.Count(stderr, "\n") != tc.lines || !strings.Contains(stderr, tc.want) || !strings.HasPrefix(stderr, "rawsock sniff: ") && !strings.HasPrefix(stderr, "reading from file") {
				t.Errorf("stderr %q: want %d line(s) with %q", stderr, tc.lines, tc.want)
			}
			if tc.name == "truncated record" && strings.Count(stdout, "\n") != 2 {
				t.Errorf("the two whole records before the cut were not printed: %q", stdout)
			}
		})
	}
}

// writePcap writes n UDP packets to a pcap file with the package's Writer.
func writePcap(t *testing.T, path string, n int) [][]byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewWriter(f, capture.DefaultSnaplen, capture.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for i := range n {
		frame := udpFrame(uint16(5000+i), []byte("hello"))
		ci := capture.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
	return frames
}

// udpFrame is an Ethernet frame holding a UDP datagram from
// 127.0.0.1.40000 to 127.0.0.1.dport.
func udpFrame(dport uint16, payload []byte) []byte {
	s := &sendSpec{src: lo4, dst: lo4, ttl: 64, proto: 17, sport: 40000, dport: dport, payload: payload}
	ip, err := s.build()
	if err != nil {
		panic(err)
	}
	eth := make([]byte, 14, 14+len(ip))
	eth[12] = 0x08
	return append(eth, ip...)
}

// TestSniffUnprivileged: without CAP_NET_RAW the command says what it
// needs and exits 2; reading a file needs nothing.
func TestSniffUnprivileged(t *testing.T) {
	args := []string{"sniff", "-i", "lo", "-c", "1"}
	var stderr string
	var code int
	if socktest.RawErr() != nil {
		_, stderr, code = runCmd(args...) // this process has no CAP_NET_RAW
	} else {
		_, stderr, code = runUnprivileged(t, args...)
	}
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "CAP_NET_RAW") {
		t.Errorf("exit %d, stderr %q; want 2 and one line with the CAP_NET_RAW hint", code, stderr)
	}
}

// TestSniffReadFile: -r prints every record through the printer, and the
// filter, run in user space, picks the same records tcpdump -r does.
func TestSniffReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "udp.pcap")
	writePcap(t, path, 4)
	for _, tc := range []struct {
		expr []string
		want []string // destination ports printed
	}{
		{nil, []string{"5000", "5001", "5002", "5003"}},
		{[]string{"udp", "and", "dst", "port", "5002"}, []string{"5002"}},
		{[]string{"not", "port", "5000", "and", "not", "port", "5001"}, []string{"5002", "5003"}},
		{[]string{"tcp"}, nil},
	} {
		stdout, stderr, code := runCmd(append([]string{"sniff", "-r", path}, tc.expr...)...)
		if code != 0 || stderr != "reading from file "+path+", link-type EN10MB (Ethernet), snapshot length 262144\n" {
			t.Fatalf("%q: exit %d, stderr %q", tc.expr, code, stderr)
		}
		var ports []string
		for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
			if m := regexp.MustCompile(`IP 127\.0\.0\.1\.40000 > 127\.0\.0\.1\.(\d+): UDP, length 5$`).FindStringSubmatch(line); m != nil {
				ports = append(ports, m[1])
			} else if line != "" {
				t.Errorf("%q: line %q", tc.expr, line)
			}
		}
		if strings.Join(ports, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: ports %q, want %q", tc.expr, ports, tc.want)
		}
		if tcpdumpPath() != "" {
			out, err := exec.Command("tcpdump", append([]string{"-n", "-r", path}, tc.expr...)...).Output()
			if err != nil {
				t.Fatalf("tcpdump -r: %v", err)
			}
			if got, want := strings.Count(string(out), "\n"), len(tc.want); got != want {
				t.Errorf("%q: tcpdump -r printed %d lines, we %d", tc.expr, got, want)
			}
		}
	}
}

// TestSniffReadFileCountAndCopy: -c stops a file read after N packets;
// -r with -w copies the records the filter keeps, byte for byte.
func TestSniffReadFileCountAndCopy(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcap")
	frames := writePcap(t, in, 4)
	stdout, stderr, code := runCmd("sniff", "-r", in, "-c", "3")
	if code != 0 || len(lines(stdout)) != 3 {
		t.Errorf("-c 3: exit %d, stdout:\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCmd("sniff", "-r", in, "-w", out, "dst", "port", "5001", "or", "dst", "port", "5003")
	if code != 0 || stdout != "" {
		t.Fatalf("-r -w: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	r := openPcap(t, out)
	for _, i := range []int{1, 3} {
		ci, frame, err := r.ReadPacket(nil)
		if err != nil || !bytes.Equal(frame, frames[i]) || ci.Timestamp.Nanosecond() != i*1000 {
			t.Fatalf("record for frame %d: %v %v\n% x\nwant\n% x", i, ci, err, frame, frames[i])
		}
	}
	if _, _, err := r.ReadPacket(nil); err != io.EOF {
		t.Errorf("after the two records: %v, want EOF", err)
	}
}

// TestSniffStdio: "-r -" reads standard input and "-w -" writes standard
// output; a file copied through both comes out byte for byte, and a filter
// between them keeps its records.
func TestSniffStdio(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.pcap")
	writePcap(t, in, 3)
	want, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr []string
		want []byte
	}{
		{nil, want},
		{[]string{"tcp"}, want[:24]}, // the file header alone
	} {
		cmd := exec.Command(os.Args[0], append([]string{"sniff", "-r", "-", "-w", "-"}, tc.expr...)...)
		cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=")
		cmd.Stdin = bytes.NewReader(want)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		got, err := cmd.Output()
		if err != nil || !bytes.Equal(got, tc.want) || stderr.String() != "reading from file -, link-type EN10MB (Ethernet), snapshot length 262144\n" {
			t.Errorf("%q: %v, stderr %q\n% x\nwant\n% x", tc.expr, err, stderr.String(), got, tc.want)
		}
	}
}

// openPcap opens a pcap file for reading, closed at cleanup.
func openPcap(t *testing.T, path string) *capture.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := capture.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tcpdumpPath() string {
	p, _ := exec.LookPath("tcpdump")
	return p
}

// TestSniffDumpMatchesTcpdump: -d prints what tcpdump -d prints.
func TestSniffDumpMatchesTcpdump(t *testing.T) {
	if tcpdumpPath() == "" {
		t.Skip("tcpdump is not installed")
	}
	for _, expr := range []string{
		"", "icmp", "udp and port 53", "tcp and (src port 80 or dst port 443)", "host 127.0.0.1",
		"not arp", "net 10.0.0.0/8", "ip6 and icmp6",
	} {
		want, err := exec.Command("tcpdump", "-d", expr).Output()
		if err != nil {
			t.Fatalf("tcpdump -d %q: %v", expr, err)
		}
		got, stderr, code := runCmd("sniff", "-d", expr)
		if code != 0 || got != string(want) {
			t.Errorf("-d %q: exit %d %s\n%s\ntcpdump -d:\n%s", expr, code, stderr, got, want)
		}
	}
}

// sniffer is "rawsock sniff" running as a child process in a namespace.
type sniffer struct {
	cmd            *exec.Cmd
	stdout, stderr *socktest.SyncBuffer
	done           chan error
}

// startSniff starts "rawsock sniff args..." inside ns (this test binary
// acting as the command) and waits for its "listening on" line.
func startSniff(t *testing.T, ns *testNS, args ...string) *sniffer {
	t.Helper()
	return startTool(t, ns, exec.Command(os.Args[0], append([]string{"sniff"}, args...)...), "listening on ")
}

// startTool starts cmd (rawsock sniff or tcpdump) inside ns and waits until
// its standard error holds ready.
func startTool(t *testing.T, ns *testNS, cmd *exec.Cmd, ready string) *sniffer {
	t.Helper()
	cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=")
	s := &sniffer{cmd: cmd, stdout: &socktest.SyncBuffer{}, stderr: &socktest.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := ns.start(cmd); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.stderr.String(), ready) {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("%s ended before it was ready: %v\nstderr: %s", cmd.Args, err, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 20 s: %s", cmd.Args, s.stderr)
		}
	}
	return s
}

// wait waits for the process to end by itself (-c) and returns its exit
// status.
func (s *sniffer) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not end within 30 s: %s", s.cmd.Args, s.stderr)
		return -1
	}
}

// stop sends sig once the tool has printed want lines (the kernel hands a
// ring block to the reader when it is full or its timeout runs out, so
// what was sent is not at once what was read), and waits for it to end.
// want 0 (-w prints nothing) waits 1.5 s instead.
func (s *sniffer) stop(t *testing.T, sig syscall.Signal, want int) int {
	t.Helper()
	s.waitLines(t, want)
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return s.wait(t)
}

// waitLines waits until the tool has printed n lines (20 s at most), or
// 1.5 s when n is 0.
func (s *sniffer) waitLines(t *testing.T, n int) {
	t.Helper()
	if n == 0 {
		time.Sleep(1500 * time.Millisecond)
		return
	}
	for deadline := time.Now().Add(20 * time.Second); len(lines(s.stdout.String())) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%s printed %d lines in 20 s, want %d:\n%s", s.cmd.Args, len(lines(s.stdout.String())), n, s.stdout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runIn runs "rawsock args..." inside ns and returns its output.
func runIn(t *testing.T, ns *testNS, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := ns.start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rawsock %q: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// loopbackNS is a namespace of the test's own with only lo in it, so
// nothing but the test's traffic is there to count.
func loopbackNS(t *testing.T) *testNS {
	t.Helper()
	return newTestNS(t, "lo")
}

var (
	icmpLine = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} IP (\S+) > (\S+): ICMP echo (request|reply), id (\d+), seq (\d+), length 64$`)
	udpLine  = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} IP (\S+)\.(\d+) > (\S+)\.(\d+): UDP, length (\d+)$`)
)

// lines splits output into lines, the final newline dropped.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// checkPingLines checks that out holds n echo requests and n replies, in
// order, from src to dst and back, seq 1 to n.
func checkPingLines(t *testing.T, out, src, dst string, n int) {
	t.Helper()
	ls := lines(out)
	if len(ls) != 2*n {
		t.Fatalf("%d lines, want %d:\n%s", len(ls), 2*n, out)
	}
	for i, l := range ls {
		m := icmpLine.FindStringSubmatch(l)
		wantSrc, wantDst, kind := src, dst, "request"
		if i%2 == 1 {
			wantSrc, wantDst, kind = dst, src, "reply"
		}
		if m == nil || m[1] != wantSrc || m[2] != wantDst || m[3] != kind || m[5] != fmt.Sprint(i/2+1) {
			t.Errorf("line %d: %q, want an echo %s %s > %s seq %d", i, l, kind, wantSrc, wantDst, i/2+1)
		}
	}
}

// TestSniffPingLoopback: rawsock ping's packets on lo, each shown once,
// and the statistics lines; -c stops after N; SIGINT and SIGTERM print the
// statistics.
func TestSniffPingLoopback(t *testing.T) {
	ns := loopbackNS(t)
	t.Run("SIGINT", func(t *testing.T) {
		s := startSniff(t, ns, "-i", "lo", "icmp")
		runIn(t, ns, "ping", "-c", "2", "-i", "0.2", "127.0.0.1")
		if code := s.stop(t, syscall.SIGINT, 4); code != 0 {
			t.Errorf("exit %d: %s", code, s.stderr)
		}
		// The interrupted output ends with an empty line, as tcpdump's.
		out := s.stdout.String()
		if !strings.HasSuffix(out, "\n\n") {
			t.Errorf("stdout does not end with an empty line: %q", out)
		}
		checkPingLines(t, strings.TrimSuffix(out, "\n"), "127.0.0.1", "127.0.0.1", 2)
		want := "listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n" +
			"4 packets captured\n8 packets received by filter\n0 packets dropped by kernel\n"
		if s.stderr.String() != want {
			t.Errorf("stderr:\n%s\nwant:\n%s", s.stderr, want)
		}
	})
	t.Run("SIGTERM", func(t *testing.T) {
		s := startSniff(t, ns, "-i", "lo", "icmp")
		runIn(t, ns, "ping", "-c", "1", "127.0.0.1")
		if code := s.stop(t, syscall.SIGTERM, 2); code != 0 {
			t.Errorf("exit %d: %s", code, s.stderr)
		}
		if got, want := summaryOf(s.stderr.String()), "2 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n"; got != want {
			t.Errorf("statistics:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("count", func(t *testing.T) {
		s := startSniff(t, ns, "-i", "lo", "-c", "3", "icmp")
		runIn(t, ns, "ping", "-c", "3", "-i", "0.2", "127.0.0.1")
		if code := s.wait(t); code != 0 {
			t.Errorf("exit %d: %s", code, s.stderr)
		}
		ls := lines(s.stdout.String())
		if len(ls) != 3 {
			t.Errorf("-c 3 printed %d lines:\n%s", len(ls), s.stdout)
		}
		// The 4th packet (both its copies) may be counted by then.
		if got := summaryOf(s.stderr.String()); !regexp.MustCompile(`^3 packets captured\n[678] packets received by filter\n0 packets dropped by kernel\n$`).MatchString(got) {
			t.Errorf("statistics:\n%s\nwant 3 captured, 6 to 8 received", got)
		}
	})
}

// TestSniffStatsMatchTcpdump: ping -c 2 127.0.0.1 under tcpdump and under
// rawsock sniff, side by side: the same three numbers.
func TestSniffStatsMatchTcpdump(t *testing.T) {
	if tcpdumpPath() == "" {
		t.Skip("tcpdump is not installed")
	}
	ns := loopbackNS(t)
	ours := startSniff(t, ns, "-i", "lo", "icmp")
	theirs := startTool(t, ns, exec.Command("tcpdump", "-l", "-n", "-i", "lo", "icmp"), "listening on ")
	c := exec.Command("ping", "-c", "2", "127.0.0.1")
	if err := ns.start(c); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	for _, s := range []*sniffer{ours, theirs} {
		s.waitLines(t, 4) // -l: tcpdump's lines come as it prints them
	}
	for _, s := range []*sniffer{ours, theirs} {
		if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*sniffer{ours, theirs} {
		if code := s.wait(t); code != 0 {
			t.Errorf("%s: exit %d: %s", s.cmd.Args, code, s.stderr)
		}
	}
	a, b := summaryOf(ours.stderr.String()), summaryOf(theirs.stderr.String())
	if a != b || !strings.HasPrefix(a, "4 packets captured\n") {
		t.Errorf("rawsock sniff:\n%s\ntcpdump:\n%s\nwant the same, 4 captured", a, b)
	}
	// And the same lines, but for the timestamps (each socket stamps its
	// copy of a packet when it gets it).
	if x, y := untimed(ours.stdout.String()), untimed(theirs.stdout.String()); x != y {
		t.Errorf("rawsock sniff:\n%s\ntcpdump:\n%s", x, y)
	}
}

// TestSniffVeth: across a veth pair, rawsock ping's requests and replies
// and a datagram of rawsock send, decoded; no copy is skipped off lo.
func TestSniffVeth(t *testing.T) {
	a, b := newTestNS(t, "a"), newTestNS(t, "b")
	link := connectNS(t, a, b)
	src, dst := link.a4, link.b4

	s := startSniff(t, a, "-i", link.aIf, "icmp")
	runIn(t, a, "ping", "-c", "3", "-i", "0.2", dst)
	if code := s.stop(t, syscall.SIGINT, 6); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	checkPingLines(t, strings.TrimSuffix(s.stdout.String(), "\n"), src, dst, 3)
	if got, want := summaryOf(s.stderr.String()), "6 packets captured\n6 packets received by filter\n0 packets dropped by kernel\n"; got != want {
		t.Errorf("statistics:\n%s\nwant:\n%s", got, want)
	}

	// On all interfaces: the veth's packets (its outgoing ones too) and
	// lo's, each once; the kernel counted lo's outgoing copies.
	s = startSniff(t, a, "icmp")
	runIn(t, a, "ping", "-c", "1", dst)
	runIn(t, a, "ping", "-c", "1", "127.0.0.1")
	if code := s.stop(t, syscall.SIGINT, 4); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	ls := lines(s.stdout.String())
	if len(ls) != 5 || ls[4] != "" {
		t.Fatalf("all interfaces: %d lines, want 4 and the empty one:\n%s", len(ls), s.stdout)
	}
	checkPingLines(t, strings.Join(ls[:2], "\n"), src, dst, 1)
	checkPingLines(t, strings.Join(ls[2:4], "\n"), "127.0.0.1", "127.0.0.1", 1)
	want := "listening on any, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n" +
		"4 packets captured\n6 packets received by filter\n0 packets dropped by kernel\n"
	if s.stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", s.stderr, want)
	}

	s = startSniff(t, b, "-i", link.bIf, "-c", "1", "udp", "port", "9999")
	runIn(t, a, "send", "--dst", dst, "--proto", "udp", "--dport", "9999", "--payload", "hello")
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	m := udpLine.FindStringSubmatch(strings.TrimSuffix(s.stdout.String(), "\n"))
	if m == nil || m[1] != src || m[2] != "40000" || m[3] != dst || m[4] != "9999" || m[5] != "5" {
		t.Errorf("line %q, want UDP %s.40000 > %s.9999 length 5", s.stdout, src, dst)
	}
}

// TestSniffWriteRead: what -w writes is byte for byte what a Handle read
// off the same wire, -r reads it back, and tcpdump -r counts the same.
func TestSniffWriteRead(t *testing.T) {
	ns := loopbackNS(t)
	path := filepath.Join(t.TempDir(), "send.pcap")
	// Small datagrams, and one of 60000 bytes: lo's MTU is 65536, so it
	// goes as one packet, which must be captured whole.
	sizes := []int{1, 2, 3, 60000, 5}
	n := len(sizes)
	filter := "udp and dst port 9998"
	prog, err := capture.Compile(filter, capture.DefaultSnaplen)
	if err != nil {
		t.Fatal(err)
	}
	var h *capture.Handle
	if err := ns.do(func() (err error) {
		h, err = capture.Open(capture.Config{Interface: "lo", Filter: prog, Snaplen: capture.DefaultSnaplen})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s := startSniff(t, ns, "-i", "lo", "-w", path, filter)
	for _, size := range sizes {
		runIn(t, ns, "send", "--dst", "127.0.0.1", "--proto", "udp", "--dport", "9998", "--payload", strings.Repeat("x", size))
	}
	if code := s.stop(t, syscall.SIGINT, 0); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	if s.stdout.String() != "" {
		t.Errorf("-w printed %q, want nothing (tcpdump -w adds no newline when interrupted)", s.stdout)
	}
	if got := summaryOf(s.stderr.String()); !strings.HasPrefix(got, fmt.Sprintf("%d packets captured\n", n)) {
		t.Errorf("statistics:\n%s\nwant %d captured", got, n)
	}

	// What the Handle read: the PACKET_HOST copy of each datagram.
	var want [][]byte
	h.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(want) < n {
		ci, frame, err := h.ReadPacket()
		if err != nil {
			t.Fatalf("Handle read %d of %d: %v", len(want), n, err)
		}
		if ci.PacketType != syscall.PACKET_OUTGOING {
			want = append(want, append([]byte(nil), frame...))
		}
	}
	r := openPcap(t, path)
	for i := 0; ; i++ {
		ci, frame, err := r.ReadPacket(nil)
		if err == io.EOF {
			if i != n {
				t.Errorf("%d records, want %d", i, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i < n && (!bytes.Equal(frame, want[i]) || ci.Length != len(frame) || len(frame) != 14+20+8+sizes[i]) {
			t.Errorf("record %d: %d of %d bytes, the Handle read %d, want %d; first 64:\n% x\n% x", i, len(frame), ci.Length, len(want[i]), 14+20+8+sizes[i], frame[:min(64, len(frame))], want[i][:min(64, len(want[i]))])
		}
	}

	stdout, stderr, code := runCmd("sniff", "-r", path)
	ls := lines(stdout)
	if code != 0 || len(ls) != n {
		t.Fatalf("-r: exit %d, %d lines, stderr %s", code, len(ls), stderr)
	}
	for i, l := range ls {
		m := udpLine.FindStringSubmatch(l)
		if m == nil || m[4] != "9998" || m[5] != fmt.Sprint(sizes[i]) {
			t.Errorf("-r line %d: %q", i, l)
		}
	}
	if tcpdumpPath() != "" {
		out, err := exec.Command("tcpdump", "-n", "-r", path).Output()
		if err != nil || strings.Count(string(out), "\n") != n {
			t.Errorf("tcpdump -r: %v\n%s", err, out)
		}
	}
}

// summaryOf returns the last three lines of a tool's standard error: the
// statistics.
func summaryOf(stderr string) string {
	ls := lines(stderr)
	if len(ls) < 3 {
		return stderr
	}
	return strings.Join(ls[len(ls)-3:], "\n") + "\n"
}

// untimed drops the timestamp that starts each line.
func untimed(out string) string {
	return regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{6} `).ReplaceAllString(out, "")
}
