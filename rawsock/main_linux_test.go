package rawsock_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// childEnv switches the test binary into a helper process: the strace test
// and the unprivileged test re-execute it with this set, so that no second
// program has to be built.
const childEnv = "RAWSOCK_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

func runChild(mode string) int {
	var err error
	switch mode {
	case "exchange":
		// The parent sets RAWSOCK_TRACE=1: the trace goes to stderr.
		if !rawsock.Tracing() {
			err = fmt.Errorf("RAWSOCK_TRACE=%q did not turn the trace on", os.Getenv("RAWSOCK_TRACE"))
			break
		}
		err = tcpExchange()
	case "unprivileged":
		err = unprivilegedChild()
	default:
		err = fmt.Errorf("unknown %s=%q", childEnv, mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// traceBuf collects trace lines. Tests that call startTrace never call
// t.Parallel: the trace writer is global, and sequential tests never run
// beside parallel ones.
type traceBuf struct{ socktest.SyncBuffer }

func (w *traceBuf) Lines() []string {
	s := strings.TrimSuffix(w.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitFor polls the trace until a line contains sub, for at most 5s.
func (w *traceBuf) waitFor(t *testing.T, sub string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range w.Lines() {
			if strings.Contains(l, sub) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no trace line contains %q in 5s; trace:\n%s", sub, strings.Join(w.Lines(), "\n"))
}

func startTrace(t *testing.T) *traceBuf {
	w := &traceBuf{}
	rawsock.SetTrace(w)
	t.Cleanup(func() { rawsock.SetTrace(nil) })
	return w
}

// slack bounds how long a call that should end "at once" or "after its
// timeout" may take beyond that, on a loaded 2-core machine.
const slack = 5 * time.Second

// within checks that a wait lasted at least min and ended within slack
// after it: generous bounds, no timing assertion beyond them.
func within(t *testing.T, what string, start time.Time, min time.Duration) {
	t.Helper()
	if d := time.Since(start); d < min || d > min+slack {
		t.Errorf("%s returned after %v, want between %v and %v", what, d, min, min+slack)
	}
}

// fillSendBuffer shrinks c's send buffer and writes until the kernel
// refuses more, so that the next send on c blocks until the peer reads. On
// TCP the first EAGAIN is not the end: the peer's kernel opens its window
// again some tens of milliseconds later (after collapsing its queue), so it
// writes until ten rounds 10ms apart make no progress, down to single
// bytes. AF_UNIX stream pairs, whose sender is charged until the peer
// reads, fill at once and for good. It returns how many bytes are queued.
func fillSendBuffer(t *testing.T, c *rawsock.Conn) int {
	t.Helper()
	if err := c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	if err := c.SetBlocking(false); err != nil {
		t.Fatal(err)
	}
	defer c.SetBlocking(true)
	buf := make([]byte, 64<<10)
	total, idle := 0, 0
	for round := 0; round < 1000 && idle < 10; round++ {
		progress := false
		// Smaller and smaller writes: a short one can still fit in the
		// unsent tail of the queue after a long one is refused.
		for size := len(buf); size > 0; size /= 16 {
			for {
				n, err := c.Send(buf[:size], 0)
				if errors.Is(err, unix.EAGAIN) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				total += n
				progress = true
			}
		}
		if progress {
			idle = 0
		} else {
			idle++
		}
		time.Sleep(10 * time.Millisecond)
	}
	if idle < 10 {
		t.Fatalf("send buffer still not full after %d bytes", total)
	}
	return total
}

// pattern returns n bytes that differ by position, so that a lost or
// reordered chunk shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}
