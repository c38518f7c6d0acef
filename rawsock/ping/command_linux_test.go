package ping

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/rawsock/internal/netns"
)

// The rawsock ping command in namespaces, against iputils' behaviour.

// runIn runs "rawsock ping args" inside ns and returns its output and
// exit status.
func runIn(t *testing.T, ns *netns.Namespace, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := ns.Command(rawsockBinary(t, true), append([]string{"ping"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// TestCommandJSONLoss pings through a router that drops half the requests,
// with --json: every request ends in one "reply" or "timeout" line, the
// summary's "timeouts" is the loss, and every line has its "ts".
func TestCommandJSONLoss(t *testing.T) {
	l := netns.NewLine(t, 1)
	rule := l.Routers[0].Loss(50, "icmp type echo-request")
	out, stderr, _ := runIn(t, l.A, "--json", "-c", "30", "-i", "0.01", "-W", "2", l.B.Addr4().String())
	_, dropped, err := rule.Counters()
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int]int{}
	var sum map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if ts, ok := m["ts"].(float64); !ok || ts < 1e9 {
			t.Errorf("line without a ts: %s", sc.Text())
		}
		switch m["type"] {
		case "reply", "timeout":
			ends[int(m["seq"].(float64))]++
		case "summary":
			sum = m
		}
	}
	if sum == nil {
		t.Fatalf("no summary:\n%s%s", out, stderr)
	}
	for seq := 1; seq <= 30; seq++ {
		if ends[seq] != 1 {
			t.Errorf("seq %d: %d reply or timeout lines, want 1", seq, ends[seq])
		}
	}
	lost := sum["transmitted"].(float64) - sum["received"].(float64)
	if sum["timeouts"].(float64) != lost || lost < float64(dropped) || dropped == 0 {
		t.Errorf("summary %v: timeouts should be the %v lost (the rule dropped %d)", sum, lost, dropped)
	}
}

// TestCommandLinkLocal pings a link-local address with its zone, across a
// veth pair: iputils' lines, no (DIFFERENT ADDRESS!).
func TestCommandLinkLocal(t *testing.T) {
	a, dst := linkLocalPair(t)
	out, stderr, code := runIn(t, a, "-c", "2", "-i", "0.2", dst)
	re := regexp.MustCompile(`(?m)^64 bytes from ` + regexp.QuoteMeta(dst) + `: icmp_seq=\d ttl=64 time=\S+ ms$`)
	if code != 0 || len(re.FindAllString(out, -1)) != 2 || strings.Contains(out, "DIFFERENT") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
}

// TestCommandOutstanding is -O with every request dropped: before each
// request after the first, "no answer yet for icmp_seq=N", stamped with
// -D, and said under -q and -f too, as iputils does.
func TestCommandOutstanding(t *testing.T) {
	l := netns.NewLine(t, 1)
	l.Routers[0].Loss(100, "icmp type echo-request")
	for _, tc := range []struct {
		flag, re string
	}{
		{"-D", `(?m)^\[\d+\.\d{6}\] no answer yet for icmp_seq=(\d)$`},
		{"-q", `(?m)^no answer yet for icmp_seq=(\d)$`},
		{"-f", `(?m)^\.no answer yet for icmp_seq=(\d)$`},
	} {
		out, stderr, code := runIn(t, l.A, "-O", tc.flag, "-c", "3", "-i", "0.1", "-W", "0.2", l.B.Addr4().String())
		var seqs []string
		for _, m := range regexp.MustCompile(tc.re).FindAllStringSubmatch(out, -1) {
			seqs = append(seqs, m[1])
		}
		if code != 1 || strings.Join(seqs, " ") != "1 2" {
			t.Errorf("-O %s: exit %d, outstanding %q, want 1 and 2\n%s%s", tc.flag, code, seqs, out, stderr)
		}
	}
}
