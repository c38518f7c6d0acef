package rawsock

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNoCallDeadlineLeft: a call's own deadline (its timeout) is gone
// once the next call on that side has started, even after a call that
// ends without finish (Sendfile), so that a deadline the user moves later
// during that next call is not cut short by the old timeout. The state is
// checked directly: the symptom needs waits of seconds to show.
func TestNoCallDeadlineLeft(t *testing.T) {
	a, b, err := socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("sendfile"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	// The user's deadline is the earlier: the file's deadline is the
	// user's alone, and nothing marks the side armed.
	a.SetWriteDeadline(time.Now().Add(time.Hour))
	a.SetTimeout(2 * time.Hour)
	if _, err := a.Sendfile(f, 0, 0); err != nil {
		t.Fatal(err)
	}
	a.SetTimeout(0)
	// The next call's start, as Send makes it: a deadline the user sets
	// from now on combines with what the write side holds.
	a.wmu.Lock()
	o := &a.wop
	o.kind = opSendto
	if err := a.start(o, nil); err != nil {
		t.Fatal(err)
	}
	a.dlmu.Lock()
	call := a.wd.call
	a.dlmu.Unlock()
	a.finish(o, nil, nil)
	a.wmu.Unlock()
	if !call.IsZero() {
		t.Errorf("during a call with no timeout, the write side still has Sendfile's call deadline %v", call)
	}
}
