package tour

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTourWire checks that each segment comes after the syscall that
// caused it: the handshake after connect, the data after its send, the
// client's FIN after its close, and the server's FIN after its own.
func TestTourWire(t *testing.T) {
	if err := rawErr(); err != nil {
		t.Skipf("needs CAP_NET_RAW for the capture (the unprivileged tour's skip line is checked by TestTour and cmd/rawsock's TestTourUnprivileged): %v", err)
	}
	var buf bytes.Buffer
	if err := runSteps(&buf, Options{CallTimeout: 5 * time.Second, StepTimeout: 20 * time.Second}, []tourStep{stepWire}); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	out := buf.String()
	if testing.Verbose() {
		t.Logf("\n%s", out)
	}
	arrow := func(right bool, flags, rest string) string {
		if right {
			return ` +\d+ \| ` + regexp.QuoteMeta(flags) + rest + ` -+>\| \d+\n`
		}
		return ` +\d+ \|< ` + regexp.QuoteMeta(flags) + rest + ` -+\| \d+\n`
	}
	order := []string{
		`connect\(\d+, \{AF_INET, 127\.0\.0\.1:\d+\}\) = [^\n]*\n`,
		arrow(true, "[S]", " seq 0"), arrow(false, "[S.]", " seq 0 ack 1"), arrow(true, "[.]", " seq 1 ack 1"),
		`accept4\(`,
		`sendto\(\d+, 5\) = 5\n`, arrow(true, "[P.]", " seq 1 ack 1 len 5"),
		`sendto\(\d+, 29\) = 29\n`, arrow(false, "[P.]", " seq 1 ack 6 len 29"),
		`\[client\] tcpCliSock.close\(\)\n[^\n]*close\(\d+\) = 0\n`, arrow(true, "[F.]", " seq 6 ack 30"),
		`\[server\] tcpCliSock.close\(\)\n[^\n]*close\(\d+\) = 0\n`, arrow(false, "[F.]", " seq 30 ack 7"),
		arrow(true, "[.]", " seq 7 ack 31"),
		`=> \d+ segments on the wire`,
	}
	rest := out
	for _, pat := range order {
		loc := regexp.MustCompile(pat).FindStringIndex(rest)
		if loc == nil {
			t.Fatalf("after the part matched so far, no %q in:\n%s\n(whole output:\n%s)", pat, rest, out)
		}
		rest = rest[loc[1]:]
	}
	if strings.Contains(out, "undecoded packet") {
		t.Errorf("a captured segment did not decode:\n%s", out)
	}
}
