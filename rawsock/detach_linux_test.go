package rawsock_test

import (
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// stallWriter is a trace writer that holds the first line containing
// match until release is closed: the call that prints it stays inside the
// Conn, using the fd, for as long as the test wants.
type stallWriter struct {
	match            string
	entered, release chan struct{}
	once             sync.Once
}

func (w *stallWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.match) {
		w.once.Do(func() {
			close(w.entered)
			<-w.release
		})
	}
	return len(p), nil
}

// TestDetachWaitsForControl: Detach waits for a call that does not block
// (here setsockopt, held in its trace line) to leave before it gives the
// socket up, and every such call after it fails with net.ErrClosed.
func TestDetachWaitsForControl(t *testing.T) {
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	w := &stallWriter{match: "setsockopt", entered: make(chan struct{}), release: make(chan struct{})}
	rawsock.SetTrace(w)
	t.Cleanup(func() { rawsock.SetTrace(nil) })
	released := false
	release := func() {
		if !released {
			released = true
			close(w.release)
		}
	}
	defer release()

	ctl := make(chan error, 1)
	go func() { ctl <- c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1) }()
	select {
	case <-w.entered:
	case <-time.After(slack):
		t.Fatal("setsockopt printed no trace line")
	}
	// Tracing off: Detach's own lines must not wait on the writer.
	rawsock.SetTrace(nil)
	type result struct {
		fd  int
		err error
	}
	det := make(chan result, 1)
	go func() { fd, err := c.Detach(); det <- result{fd, err} }()
	select {
	case r := <-det:
		release()
		if r.err == nil {
			unix.Close(r.fd)
		}
		t.Fatalf("Detach returned (%d, %v) while a setsockopt still used the fd", r.fd, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if err := <-ctl; err != nil {
		t.Errorf("setsockopt in flight during Detach: %v", err)
	}
	r := <-det
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer unix.Close(r.fd)
	if v, err := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || v != unix.SOCK_DGRAM {
		t.Errorf("detached fd: SO_TYPE %d, %v", v, err)
	}
	sa := socktest.Loopback(t, rawsock.AF_INET)
	for name, call := range map[string]func() error{
		"setsockopt":  func() error { return c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1) },
		"bind":        func() error { return c.Bind(sa) },
		"shutdown":    func() error { return c.Shutdown(rawsock.SHUT_RDWR) },
		"getsockname": func() error { _, err := c.Getsockname(); return err },
		"fcntl":       func() error { _, err := c.Dup(); return err },
	} {
		syscallIs(t, call(), name, net.ErrClosed)
	}
}

// TestDetachReleases: a Detach keeps nothing behind, neither the
// *os.File nor anything else on the heap, however many sockets are
// handed off.
func TestDetachReleases(t *testing.T) {
	const n = 2000
	cycle := func() {
		c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := c.Detach()
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
	}
	for i := 0; i < 100; i++ {
		cycle()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		cycle()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// An *os.File alone is over 100 bytes; 16 a call is room for noise.
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d Detach calls: heap %+d bytes", n, grown)
	if grown > 16*n {
		t.Errorf("%d Detach calls left the heap %d bytes larger (%d per call)", n, grown, grown/n)
	}
}

// TestFilenoAfterClose: Fileno is -1 once the Conn no longer owns an fd,
// as Python's fileno() after close() or detach().
func TestFilenoAfterClose(t *testing.T) {
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	if c.Fileno() < 0 {
		t.Fatalf("Fileno of an open Conn: %d", c.Fileno())
	}
	c.Close()
	if fd := c.Fileno(); fd != -1 {
		t.Errorf("Fileno after Close: %d, want -1", fd)
	}
	d := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	fd, err := d.Detach()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if got := d.Fileno(); got != -1 {
		t.Errorf("Fileno after Detach: %d, want -1", got)
	}
}

// TestDetachedFdNotInPoller: the fd Detach returns is in no poller, so
// os.NewFile can register it with the runtime's (a file it cannot
// register takes no deadline).
func TestDetachedFdNotInPoller(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	fd, err := a.Detach()
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "detached")
	defer f.Close()
	if err := f.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("os.NewFile of the detached fd takes no deadline: %v", err)
	}
	if _, err := b.Send([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if n, err := f.Read(buf); n != 1 || err != nil {
		t.Errorf("Read of the wrapped fd: %d, %v", n, err)
	}
}
