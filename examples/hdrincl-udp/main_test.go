package main

import (
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestHdrinclUDP runs the example: the payload it built by hand arrives at
// the ordinary UDP socket, from the source port written in its header.
// Without CAP_NET_RAW it must fail with one line saying so, and the test
// skips the rest.
func TestHdrinclUDP(t *testing.T) {
	bin := extest.Build(t, "hdrincl-udp")
	payload := "built by hand: " + strings.Repeat("u", 100)
	out, errs, code := extest.Run(t, bin, "", "-payload", payload)
	if strings.Contains(errs, "operation not permitted") {
		extest.ErrorLine(t, errs, code, "hdrincl-udp: socket(AF_INET, SOCK_RAW, IPPROTO_RAW): operation not permitted (raw sockets need CAP_NET_RAW")
		t.Skipf("no CAP_NET_RAW here (the example said %q): run as root or setcap cap_net_raw+ep", strings.TrimSpace(errs))
	}
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errs)
	}
	for _, want := range []string{
		"sent 143 bytes: IPv4 20 + UDP 8 + 115 of data, UDP checksum 0x",
		"received \"" + payload + "\" from 127.0.0.1:40000\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
}
