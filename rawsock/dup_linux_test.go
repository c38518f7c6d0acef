package rawsock_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestDupKeepsMode: Dup carries the timeout and the blocking mode over, as
// Python's dup() does, and the copy behaves by them.
func TestDupKeepsMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *rawsock.Conn)
		want error
	}{
		{"timeout", func(c *rawsock.Conn) { c.SetTimeout(50 * time.Millisecond) }, os.ErrDeadlineExceeded},
		{"nonblocking", func(c *rawsock.Conn) { c.SetBlocking(false) }, unix.EAGAIN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := udpReceiver(t)
			tc.set(c)
			d, err := c.Dup()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.GetTimeout() != c.GetTimeout() || d.GetBlocking() != c.GetBlocking() {
				t.Errorf("Dup: timeout %v, blocking %v; original %v, %v", d.GetTimeout(), d.GetBlocking(), c.GetTimeout(), c.GetBlocking())
			}
			done := make(chan error, 1)
			go func() { _, err := d.Recv(make([]byte, 8), 0); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) {
					t.Errorf("Recv on the copy: %v, want %v", err, tc.want)
				}
			case <-time.After(slack):
				d.Close()
				t.Fatalf("Recv on the copy still blocked after %v", slack)
			}
		})
	}
}
