package main

import (
	"github.com/rawsock/rawsock/internal/socktest"
	"net/netip"
	"regexp"
	"strings"
	"syscall"
	"testing"
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

// TestPingSignals sends SIGQUIT to a running ping: one status line on
// standard error, and it goes on (no goroutine dump, no exit); then
// SIGTERM, which ends it with the statistics, in text and in JSON.
func TestPingSignals(t *testing.T) {
	socktest.NeedRaw(t)
	for _, json := range []bool{false, true} {
		args := []string{"-i", "0.1", "-w", "20", "127.0.0.1"}
		reply, summary := `(?m)^64 bytes from`, `(?m)^\d+ packets transmitted, \d+ received, 0% packet loss`
		if json {
			args = append([]string{"--json"}, args...)
			reply, summary = `"type":"reply"`, `(?m)^\{"type":"summary".*"loss_percent":0,`
		}
		cmd, _, _ := pingChild(t, nil, args...)
		var out, errOut socktest.SyncBuffer
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
	socktest.NeedRaw(t)
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
	socktest.NeedRaw(t)
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
	socktest.NeedRaw(t)
	cmd, stdout, stderr := pingChild(t, nil, "-b", "-c", "1", "-w", "1", "127.255.255.255")
	cmd.Run()
	if !strings.HasPrefix(stderr.String(), "WARNING: pinging broadcast address\n") || !strings.HasPrefix(stdout.String(), "PING 127.255.255.255 (127.255.255.255) 56(84) bytes of data.\n") {
		t.Errorf("stderr %q, stdout:\n%s", stderr, stdout)
	}
}

// TestIsBroadcast checks which destinations get iputils' broadcast
// warning: the limited broadcast address, and the broadcast address of a
// network on an interface (lo's 127.0.0.0/8), not a host nor IPv6.
func TestIsBroadcast(t *testing.T) {
	for a, want := range map[string]bool{
		"255.255.255.255": true, "127.255.255.255": true, "127.0.0.1": false, "127.255.255.254": false, "::1": false,
	} {
		if got := isBroadcast(netip.MustParseAddr(a)); got != want {
			t.Errorf("isBroadcast(%s) = %v, want %v", a, got, want)
		}
	}
}
