package capture_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock/capture"
)

// TestStatsMatchTcpdump: on the same traffic, Stats.Packets and Drops are
// tcpdump's "packets received by filter" and "packets dropped by kernel"
// (libpcap sums the same PACKET_STATISTICS counters), lo's two copies of
// each datagram included.
func TestStatsMatchTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skipf("tcpdump not installed (apt-get install tcpdump): %v", err)
	}
	u := newUDPLo(t, capture.Config{})
	cmd := u.ns.Command("tcpdump", "-i", "lo", "-n", "-w", "/dev/null", fmt.Sprintf("udp dst port %d", u.pb))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var out []string
	for listening := false; !listening; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tcpdump ended: %q", out)
			}
			out = append(out, l)
			listening = strings.Contains(l, "listening on lo")
		case <-time.After(captureSlack):
			t.Fatalf("tcpdump not listening after %v: %q", captureSlack, out)
		}
	}
	const n = 7
	for range n {
		sendUDPTo(t, u.a, u.pb, "counted twice")
	}
	readPackets(t, u.h, 2*n) // both have seen them once we have
	cmd.Process.Signal(syscall.SIGINT)
	for l := range lines {
		out = append(out, l)
	}
	cmd.Wait()
	re := regexp.MustCompile(`(?m)^(\d+) packets (received by filter|dropped by kernel)$`)
	got := map[string]uint64{}
	for _, m := range re.FindAllStringSubmatch(strings.Join(out, "\n"), -1) {
		got[m[2]], _ = strconv.ParseUint(m[1], 10, 64)
	}
	st, err := u.h.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["received by filter"] != st.Packets || got["dropped by kernel"] != st.Drops || st.Packets != 2*n {
		t.Errorf("tcpdump: %v; Stats: %+v; want both %d received by filter, 0 dropped\n%s", got, st, 2*n, strings.Join(out, "\n"))
	}
}
