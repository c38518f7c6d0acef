package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestHdrinclICMP runs the example against 127.0.0.1: the kernel answers
// the hand-built request (so its checksum was right) with an echo reply
// carrying the example's id, sequence and data. Without CAP_NET_RAW it
// must fail with one line saying so, and the test skips the rest.
func TestHdrinclICMP(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/icmp_echo_ignore_all"); err == nil && strings.TrimSpace(string(b)) != "0" {
		t.Skip("net.ipv4.icmp_echo_ignore_all is set: this kernel answers no echo request")
	}
	bin := extest.Build(t, "hdrincl-icmp")
	_, errs, code := extest.Run(t, bin, "", "-dst", "::1")
	extest.ErrorLine(t, errs, code, "hdrincl-icmp: -dst ::1: an IPv4 address is needed")

	prog, args := isolated(bin, "-ttl", "3")
	out, errs, code := extest.Run(t, prog, "", args...)
	if strings.Contains(errs, "operation not permitted") {
		extest.ErrorLine(t, errs, code, "hdrincl-icmp: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): operation not permitted (raw sockets need CAP_NET_RAW")
		t.Skipf("no CAP_NET_RAW here (the example said %q): run as root or setcap cap_net_raw+ep", strings.TrimSpace(errs))
	}
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errs)
	}
	m := regexp.MustCompile(`(?m)^sent echo request id=(\d+) seq=1 to 127\.0\.0\.1, ttl 3\n` +
		`echo reply from 127\.0\.0\.1: id=(\d+) seq=1 ttl=\d+, 20 data bytes, time=\d+\.\d{3} ms\n$`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] {
		t.Errorf("output is not a request and its reply:\n%s", out)
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
