package rawsock_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// expect turns "the call failed as it should" into nil, anything else
// into an error.
func expect(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	if err == nil {
		return errors.New("succeeded")
	}
	return err
}

// TestNoFDLeak counts /proc/self/fd around thousands of open/close cycles
// and of failing calls, one count per kind so that a leak names its path.
// It never runs in parallel: other tests' sockets would move the count.
func TestNoFDLeak(t *testing.T) {
	scale := 1
	if testing.Short() {
		scale = 10
	}
	l, la := socktest.Listener(t, rawsock.AF_INET)
	// A port nothing listens on: bound once, then released.
	tmp := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	tmp.Bind(socktest.Loopback(t, rawsock.AF_INET))
	refused, _ := tmp.Getsockname()
	tmp.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	sa, sb := socktest.Pair(t, rawsock.SOCK_DGRAM)
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()

	cases := []struct {
		name string
		n    int
		f    func() error
	}{
		{"socket and close", 2000, func() error {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			return c.Close()
		}},
		{"socketpair and close", 1000, func() error {
			a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			a.Close()
			return b.Close()
		}},
		{"connect, accept, exchange, close", 500, func() error {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Connect(la); err != nil {
				return err
			}
			s, _, err := l.Accept()
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := c.Send([]byte("x"), 0); err != nil {
				return err
			}
			_, err = s.Recv(make([]byte, 1), 0)
			return err
		}},
		{"dup and close", 1000, func() error {
			d, err := sa.Dup()
			if err != nil {
				return err
			}
			return d.Close()
		}},
		{"fromfd and close", 1000, func() error {
			c, err := rawsock.FromFD(sa.Fileno())
			if err != nil {
				return err
			}
			return c.Close()
		}},
		{"detach, then close the fd", 500, func() error {
			c, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
			if err != nil {
				return err
			}
			fd, err := c.Detach()
			if err != nil {
				return err
			}
			return unix.Close(fd)
		}},
		{"SCM_RIGHTS passed and closed", 500, func() error {
			if _, err := sa.Sendmsg([]byte("f"), rawsock.UnixRights(int(devnull.Fd())), nil, 0); err != nil {
				return err
			}
			oob := make([]byte, rawsock.CmsgSpace(4))
			_, oobn, _, _, err := sb.Recvmsg(make([]byte, 1), oob, 0)
			if err != nil {
				return err
			}
			cms, err := rawsock.ParseControlMessages(oob[:oobn])
			if err != nil || len(cms) != 1 {
				return errors.New("no SCM_RIGHTS")
			}
			fds, err := cms[0].Rights()
			for _, fd := range fds {
				unix.Close(fd)
			}
			return err
		}},
		{"close wakes a blocked recv", 200, func() error {
			a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer b.Close()
			done := make(chan error)
			go func() { _, err := a.Recv(make([]byte, 1), 0); done <- err }()
			runtime.Gosched()
			a.Close()
			return expect(<-done, net.ErrClosed)
		}},
		{"bind to a used port", 1000, func() error {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer c.Close()
			return expect(c.Bind(la), unix.EADDRINUSE)
		}},
		{"connect refused", 1000, func() error {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer c.Close()
			return expect(c.Connect(refused), unix.ECONNREFUSED)
		}},
		{"connect timed out", 100, func() error {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetTimeout(time.Nanosecond)
			err = c.Connect(la)
			if err == nil {
				s, _, err := l.Accept()
				if err == nil {
					s.Close()
				}
				return err
			}
			return expect(err, os.ErrDeadlineExceeded)
		}},
		{"socket refused", 2000, func() error {
			_, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_SEQPACKET, 0)
			return expect(err, unix.ESOCKTNOSUPPORT)
		}},
		{"socketpair refused", 2000, func() error {
			_, _, err := rawsock.Socketpair(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			return expect(err, unix.EOPNOTSUPP)
		}},
		{"fromfd of a non-socket", 2000, func() error {
			_, err := rawsock.FromFD(int(pr.Fd()))
			return expect(err, unix.ENOTSOCK)
		}},
		{"fromfd of a bad fd", 2000, func() error {
			_, err := rawsock.FromFD(1 << 20)
			return expect(err, unix.EBADF)
		}},
		{"accept on a non-listener", 2000, func() error {
			_, _, err := sa.Accept()
			return expect(err, unix.EOPNOTSUPP)
		}},
		{"non-blocking accept, nothing there", 2000, func() error {
			l.SetBlocking(false)
			defer l.SetBlocking(true)
			_, _, err := l.Accept()
			return expect(err, unix.EAGAIN)
		}},
		{"recv timed out", 100, func() error {
			sb.SetTimeout(time.Microsecond)
			defer sb.SetTimeout(0)
			_, err := sb.Recv(make([]byte, 1), 0)
			return expect(err, os.ErrDeadlineExceeded)
		}},
	}
	for _, tc := range cases {
		runtime.GC()
		before := socktest.FDCount(t)
		n := max(tc.n/scale, 1)
		for i := 0; i < n; i++ {
			if err := tc.f(); err != nil {
				t.Fatalf("%s, iteration %d: %v", tc.name, i, err)
			}
		}
		// No GC here: a Conn dropped without Close would be closed by its
		// finalizer, hiding the leak.
		if after := socktest.FDCount(t); after > before {
			t.Errorf("%s: %d fds before %d iterations, %d after", tc.name, before, n, after)
		}
	}
}

// TestEMFILE runs out of fds on purpose (a low RLIMIT_NOFILE, then sockets
// until the kernel refuses): socket, socketpair, accept and FromFD each
// fail with EMFILE, named, leak nothing, and work again once fds are free.
// The accept's pending connection survives its refusal.
func TestEMFILE(t *testing.T) {
	l, la := socktest.Listener(t, rawsock.AF_INET)
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err := c.Connect(la); err != nil {
		t.Fatal(err)
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list fds: %v", err)
	}
	maxfd := 0
	for _, e := range ents {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err == nil {
			maxfd = max(maxfd, fd)
		}
	}
	// Counted before the table is full: listing /proc/self/fd needs an fd.
	before := socktest.FDCount(t)
	lim := old
	lim.Cur = uint64(maxfd + 16)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
	}
	restored := false
	restore := func() {
		if !restored {
			unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
			restored = true
		}
	}
	defer restore()
	var fill []*rawsock.Conn
	defer func() {
		for _, f := range fill {
			f.Close()
		}
	}()
	for i := 0; i < maxfd+16; i++ {
		f, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			if !errors.Is(err, unix.EMFILE) || err.Error() != "socket(AF_UNIX, SOCK_DGRAM, 0): too many open files" {
				t.Fatalf("filling the fd table: %v", err)
			}
			break
		}
		fill = append(fill, f)
	}
	if _, _, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0); !errors.Is(err, unix.EMFILE) {
		t.Errorf("Socketpair at the limit: %v", err)
	}
	if _, _, err := l.Accept(); !errors.Is(err, unix.EMFILE) || err.Error() != "accept4: too many open files" {
		t.Errorf("Accept at the limit: %v", err)
	}
	if _, err := rawsock.FromFD(c.Fileno()); !errors.Is(err, unix.EMFILE) {
		t.Errorf("FromFD at the limit: %v", err)
	}
	if _, err := c.Dup(); !errors.Is(err, unix.EMFILE) {
		t.Errorf("Dup at the limit: %v", err)
	}
	for _, f := range fill {
		f.Close()
	}
	fill = nil
	restore()
	if after := socktest.FDCount(t); after != before {
		t.Errorf("%d fds before the refused calls, %d after", before, after)
	}
	l.SetTimeout(slack)
	s, _, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept once fds are free: %v", err)
	}
	s.Close()
}
