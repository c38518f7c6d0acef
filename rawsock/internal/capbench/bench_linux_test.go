package capbench

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"golang.org/x/sys/unix"
)

var (
	floodCount = flag.Int("capbench.count", 200000, "datagrams per rate")
	floodSize  = flag.Int("capbench.size", 64, "UDP payload bytes")
	floodRates = flag.String("capbench.rates", "20000,50000,100000,200000,0", "datagrams per second, comma-separated; 0: as fast as the socket takes them")
	floodStall = flag.Duration("capbench.stall", 0, "stop every capture (SIGSTOP, or a pause of the recvfrom loop) this long in the middle of each flood: a reader descheduled on a loaded machine, made repeatable")
	rawsockBin = flag.String("capbench.rawsock", "", "the rawsock binary to run (default: build cmd/rawsock)")
)

// BenchmarkSniffFlood floods loopback in a namespace of its own with
// -capbench.count UDP datagrams at each of -capbench.rates, while three
// captures run side by side on lo: rawsock sniff -w /dev/null, tcpdump -w
// /dev/null and a plain recvfrom(2) loop on an AF_PACKET socket. It logs a
// table of what each captured and what the kernel dropped for it.
//
//	sudo go test -run '^$' -bench SniffFlood -benchtime 1x ./rawsock/internal/capbench
func BenchmarkSniffFlood(b *testing.B) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		b.Skip("tcpdump is not installed")
	}
	var rates []int
	for _, f := range strings.Split(*floodRates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r < 0 {
			b.Fatalf("-capbench.rates: bad rate %q", f)
		}
		rates = append(rates, r)
	}
	ns := netns.New(b).Host("flood") // skips unless root
	bin := *rawsockBin
	if bin == "" {
		bin = buildRawsock(b)
	}
	for range b.N {
		var table bytes.Buffer
		fmt.Fprintf(&table, "%-9s %-8s %-9s | %-28s | %-28s | %-28s\n", "rate/s", "sent", "sent/s", "rawsock sniff -w", "tcpdump -w", "recvfrom loop")
		fmt.Fprintf(&table, "%-9s %-8s %-9s | %-28s | %-28s | %-28s\n", "", "", "", "captured  dropped  CPU s", "captured  dropped  CPU s", "captured  dropped  CPU s")
		for _, rate := range rates {
			row, err := floodOnce(ns, bin, Flood{Count: *floodCount, Size: *floodSize, Rate: rate, Limit: time.Minute}, *floodStall)
			if err != nil {
				b.Fatal(err)
			}
			name := strconv.Itoa(rate)
			if rate == 0 {
				name = "max"
			}
			fmt.Fprintf(&table, "%-9s %-8d %-9.0f |", name, row.sent.Sent, row.sent.PPS())
			for _, c := range []Summary{row.sniff, row.tcpdump, row.recv} {
				fmt.Fprintf(&table, " %-9d %-8d %-9.2f |", c.Captured, c.Dropped, c.CPU.Seconds())
			}
			table.WriteString("\n")
			if row.sniff.Dropped > row.tcpdump.Dropped {
				b.Logf("rate %s: rawsock sniff dropped %d, tcpdump %d", name, row.sniff.Dropped, row.tcpdump.Dropped)
			}
		}
		stall := ""
		if *floodStall > 0 {
			stall = fmt.Sprintf(", each stopped for %v in the middle", *floodStall)
		}
		b.Logf("%d datagrams of %d bytes per rate on lo, three captures side by side%s:\n%s", *floodCount, *floodSize, stall, table.String())
	}
}

// floodRow is one rate's results.
type floodRow struct {
	sent                 Result
	sniff, tcpdump, recv Summary
}

// floodOnce starts the three captures in ns, floods lo, stops them and
// collects what they say.
func floodOnce(ns *netns.Namespace, bin string, f Flood, stall time.Duration) (floodRow, error) {
	var row floodRow
	sniff, err := startCapture(ns, exec.Command(bin, "sniff", "-i", "lo", "-w", "/dev/null"))
	if err != nil {
		return row, err
	}
	defer sniff.kill()
	tcpdump, err := startCapture(ns, exec.Command("tcpdump", "-i", "lo", "-w", "/dev/null"))
	if err != nil {
		return row, err
	}
	defer tcpdump.kill()
	var rl *RecvLoop
	var src, sink int
	dst := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: 9}
	err = ns.Do(func() error {
		var err error
		if rl, err = OpenRecvLoop(1); err != nil { // lo is ifindex 1 in a new namespace
			return err
		}
		// The sink: bound so no port unreachable answers, never read, so
		// the datagrams die in its full queue after the captures saw them.
		if sink, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if err := unix.Bind(sink, dst); err != nil {
			return err
		}
		src, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		return err
	})
	if src > 0 {
		defer unix.Close(src)
	}
	if sink > 0 {
		defer unix.Close(sink)
	}
	if err != nil {
		if rl != nil {
			rl.Stop()
		}
		return row, err
	}
	if stall > 0 {
		// Halfway through the flood at its rate (at once for "max").
		half := time.Duration(0)
		if f.Rate > 0 {
			half = time.Duration(float64(f.Count/2) / float64(f.Rate) * float64(time.Second))
		}
		timer := time.AfterFunc(half, func() {
			sniff.cmd.Process.Signal(syscall.SIGSTOP)
			tcpdump.cmd.Process.Signal(syscall.SIGSTOP)
			rl.Pause(stall)
			time.Sleep(stall)
			sniff.cmd.Process.Signal(syscall.SIGCONT)
			tcpdump.cmd.Process.Signal(syscall.SIGCONT)
		})
		defer timer.Stop()
	}
	row.sent, err = Blast(src, dst, f)
	// Let each capture's ring hand over its last block (tcpdump's block
	// timeout is 1 s) before asking for the statistics.
	time.Sleep(2 * time.Second)
	recv, rerr := rl.Stop()
	if err == nil {
		err = rerr
	}
	row.recv = recv
	if row.sniff, rerr = sniff.stop(); err == nil {
		err = rerr
	}
	if row.tcpdump, rerr = tcpdump.stop(); err == nil {
		err = rerr
	}
	return row, err
}

// capture is a capture tool running in the namespace.
type capture struct {
	cmd    *exec.Cmd
	stderr *socktest.SyncBuffer
	done   chan error
}

func startCapture(ns *netns.Namespace, cmd *exec.Cmd) (*capture, error) {
	c := &capture{cmd: cmd, stderr: &socktest.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := ns.Start(cmd); err != nil {
		return nil, err
	}
	go func() { c.done <- cmd.Wait() }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(c.stderr.String(), "listening on "); {
		select {
		case err := <-c.done:
			c.done <- err
			return nil, fmt.Errorf("%s: %v: %s", cmd.Args, err, c.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.kill()
			return nil, fmt.Errorf("%s not listening after 20 s: %s", cmd.Args, c.stderr)
		}
	}
	return c, nil
}

// stop sends SIGINT and reads the statistics the tool prints.
func (c *capture) stop() (Summary, error) {
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-c.done:
		c.done <- err
		if err != nil {
			return Summary{}, fmt.Errorf("%s: %v: %s", c.cmd.Args, err, c.stderr)
		}
	case <-time.After(30 * time.Second):
		return Summary{}, fmt.Errorf("%s did not stop within 30 s of SIGINT", c.cmd.Args)
	}
	sum, err := ParseSummary(c.stderr.String())
	sum.CPU = c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
	return sum, err
}

// kill ends the tool if it is still running.
func (c *capture) kill() {
	select {
	case err := <-c.done:
		c.done <- err
	default:
		c.cmd.Process.Kill()
		c.done <- <-c.done
	}
}

// buildRawsock builds the rawsock command into a temporary directory.
func buildRawsock(b *testing.B) string {
	b.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skipf("needs the go tool to build rawsock: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "rawsock")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/rawsock/rawsock/cmd/rawsock")
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build rawsock: %v\n%s", err, out)
	}
	return bin
}
