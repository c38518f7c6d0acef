package rawsock_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
)

// TestSendfileCloseFile: closing f while Sendfile is blocked, then opening
// another file (which the kernel would give f's fd number), never makes
// Sendfile send the other file's bytes: the call holds f's fd until it
// ends.
func TestSendfileCloseFile(t *testing.T) {
	const size = 1 << 20
	a, b := twoFiles(t, size)
	for i := range 3 { // bounded: three rounds
		s, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
		f, err := os.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan int, 1)
		go func() {
			n, err := c.Sendfile(f, 0, size)
			if err != nil {
				// Its f.Seek after the call fails: f is closed.
				t.Logf("round %d: Sendfile: %v", i, err)
			}
			c.Shutdown(rawsock.SHUT_WR)
			done <- n
		}()
		// The peer does not read yet: Sendfile fills the buffers and
		// waits. If it has not started waiting by now, the round checks
		// less, never wrongly.
		time.Sleep(50 * time.Millisecond)
		f.Close()
		other, err := os.Open(b) // takes the lowest free fd number
		if err != nil {
			t.Fatal(err)
		}
		got := drainBytes(t, s)
		n := <-done
		other.Close()
		if k := bytes.IndexByte(got, 'B'); k >= 0 {
			t.Fatalf("round %d: byte %d of %d the peer got is from the file opened after Close", i, k, len(got))
		}
		if bytes.Count(got, []byte{'A'}) != len(got) {
			t.Fatalf("round %d: the peer got bytes from neither file", i)
		}
		if n != len(got) {
			t.Fatalf("round %d: Sendfile reported %d bytes, the peer got %d", i, n, len(got))
		}
	}
}

// TestSendfileCloseRace: f.Close and an os.Open racing the start of
// Sendfile, at no chosen moment, in a bounded loop: Sendfile sends f's
// bytes or fails, never the other file's.
func TestSendfileCloseRace(t *testing.T) {
	const size = 64 << 10
	a, b := twoFiles(t, size)
	for i := range 20 {
		s, c := socktest.SmallTCPPair(t, rawsock.AF_INET)
		f, err := os.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Sendfile(f, 0, size) // fails when f is closed first
			c.Shutdown(rawsock.SHUT_WR)
		}()
		f.Close()
		other, err := os.Open(b)
		if err != nil {
			t.Fatal(err)
		}
		got := drainBytes(t, s)
		<-done
		other.Close()
		s.Close()
		c.Close()
		if k := bytes.IndexByte(got, 'B'); k >= 0 {
			t.Fatalf("round %d: byte %d of %d the peer got is from the file opened after Close", i, k, len(got))
		}
	}
}

// twoFiles writes size bytes of 'A' to one file and of 'B' to another, and
// returns their paths.
func twoFiles(t *testing.T, size int) (a, b string) {
	t.Helper()
	dir := t.TempDir()
	a, b = filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []struct {
		path string
		c    byte
	}{{a, 'A'}, {b, 'B'}} {
		if err := os.WriteFile(f.path, bytes.Repeat([]byte{f.c}, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// drainBytes reads c until EOF and returns what it read.
func drainBytes(t *testing.T, c *rawsock.Conn) []byte {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 1<<16)
	for {
		n, err := c.Recv(buf, 0)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(out), err)
		}
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}
