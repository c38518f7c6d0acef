package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestRawICMPPing pings 127.0.0.1 twice: exactly one line per request, in
// order, each with the reply's TTL and a round-trip time. On lo the raw
// socket sees each request too; printing it, or a reply twice, fails the
// test. Without CAP_NET_RAW it must fail with one line saying so, and the
// test skips the rest.
func TestRawICMPPing(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/icmp_echo_ignore_all"); err == nil && strings.TrimSpace(string(b)) != "0" {
		t.Skip("net.ipv4.icmp_echo_ignore_all is set: this kernel answers no echo request")
	}
	bin := extest.Build(t, "raw-icmp-ping")
	_, errs, code := extest.Run(t, bin, "", "::1")
	extest.ErrorLine(t, errs, code, "raw-icmp-ping: ::1: an IPv4 address is needed")

	prog, args := isolated(bin, "-c", "2", "127.0.0.1")
	out, errs, code := extest.Run(t, prog, "", args...)
	if strings.Contains(errs, "operation not permitted") {
		extest.ErrorLine(t, errs, code, "raw-icmp-ping: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): operation not permitted (raw sockets need CAP_NET_RAW")
		t.Skipf("no CAP_NET_RAW here (the example said %q): run as root or setcap cap_net_raw+ep", strings.TrimSpace(errs))
	}
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errs)
	}
	want := regexp.MustCompile(`^21 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=\d+ time=\d+\.\d{3} ms\n` +
		`21 bytes from 127\.0\.0\.1: icmp_seq=2 ttl=\d+ time=\d+\.\d{3} ms\n$`)
	if !want.MatchString(out) {
		t.Errorf("output is not one reply line per request:\n%s", out)
	}
}

// isolated runs bin in a network namespace of its own, loopback up, where
// root may (unshare(1) and ip(8) at hand): a raw ICMP socket gets a copy of
// every ICMP packet of its namespace, and on a busy test machine (a ping
// flood in another package's test) those fill its buffer and crowd out the
// example's reply. Elsewhere bin runs as it is.
func isolated(bin string, args ...string) (string, []string) {
	_, errU := exec.LookPath("unshare")
	_, errIP := exec.LookPath("ip")
	if os.Geteuid() != 0 || errU != nil || errIP != nil {
		return bin, args
	}
	return "unshare", append([]string{"-n", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, bin}, args...)
}
