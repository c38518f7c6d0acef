package tour

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/tour/tourtest"
)

// TestTourHdrincl runs the IP_HDRINCL step alone: with CAP_NET_RAW it shows
// the annotated dump, the traced raw socket, setsockopt and sendto, and the
// ordinary socket receiving the payload from the port written by hand;
// without it, the step is skipped with the one-line reason.
func TestTourHdrincl(t *testing.T) {
	var buf bytes.Buffer
	err := runSteps(&buf, Options{CallTimeout: 5 * time.Second, StepTimeout: 20 * time.Second}, []tourStep{stepHdrinclUDP})
	out := buf.String()
	if err != nil {
		t.Errorf("tour: %v", err)
	}
	defer func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("tour output:\n%s", out)
		}
	}()
	sec := tourtest.Section(t, out, "Raw socket with IP_HDRINCL: a UDP datagram built by hand")
	if err := rawErr(); err != nil {
		t.Logf("no raw sockets here (%v): checking that the step says why it is skipped", err)
		tourtest.MustMatch(t, sec, `(?m)^  skipped: this process has no effective CAP_NET_RAW \(CapEff [0-9a-f]{16}, bit 13 clear; uid \d+\): run as root, or: .*setcap cap_net_raw\+ep`)
		tourtest.MustMatch(t, out, `(?m)^== Done: 1 steps, 0 ran, 1 skipped, 0 failed ==$`)
		return
	}
	tourtest.MustMatch(t, sec,
		`(?m)^      getsockname\(\d+\) = 0 \{AF_INET, 127\.0\.0\.1:(\d+)\}$`,
		`(?m)^    IPv4 header, 20 bytes\n    0000  45 +version 4, IHL 5 \(20 bytes\)$`,
		`(?m)^    0004  00 00 +identification 0x0000 \(0\)$`,
		`(?m)^    000a  [0-9a-f]{2} [0-9a-f]{2} +header checksum 0x[0-9a-f]{4} \(correct\)$`,
		`(?m)^    UDP header, 8 bytes\n    0014  9c 40 +source port 40000$`,
		`(?m)^    001a  [0-9a-f]{2} [0-9a-f]{2} +checksum 0x[0-9a-f]{4} \(correct\)$`,
		`(?m)^      socket\(AF_INET, SOCK_RAW\|SOCK_CLOEXEC\|SOCK_NONBLOCK, IPPROTO_RAW\) = \d+$`,
		`(?m)^      setsockopt\(\d+, SOL_IP, IP_HDRINCL, 1\) = 0$`,
		`(?m)^      sendto\(\d+, 58, \{AF_INET, 127\.0\.0\.1:0\}\) = 58$`,
		`(?m)^      recvfrom\(\d+, 1024\) = 30 \{AF_INET, 127\.0\.0\.1:40000\}$`,
		`(?m)^  => server got "hello from a hand-built header" from 127\.0\.0\.1:40000: the UDP checksum was right$`,
	)
	// The destination port in the dump is the one the server was given.
	if m := tourtest.MustMatch(t, sec, `getsockname\(\d+\) = 0 \{AF_INET, 127\.0\.0\.1:(\d+)\}`); m != nil {
		if !strings.Contains(sec, "destination port "+m[1]+"\n") {
			t.Errorf("the dump does not show destination port %s", m[1])
		}
	}
	tourtest.MustMatch(t, out, `(?m)^== Done: 1 steps, 1 ran, 0 skipped, 0 failed ==$`)
}
