package rawsock_test

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

func TestSelect(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	start := time.Now()
	rr, _, _, err := rawsock.Select([]int{b.Fileno()}, nil, nil, 50*time.Millisecond)
	within(t, "Select with nothing ready", start, 50*time.Millisecond)
	if err != nil || len(rr) != 0 {
		t.Errorf("Select with nothing ready: %v, %v", rr, err)
	}
	a.Send([]byte("x"), 0)
	rr, wr, xr, err := rawsock.Select([]int{a.Fileno(), b.Fileno()}, []int{a.Fileno()}, []int{b.Fileno()}, -1)
	if err != nil || !slices.Equal(rr, []int{b.Fileno()}) || !slices.Equal(wr, []int{a.Fileno()}) || len(xr) != 0 {
		t.Errorf("Select: read %v write %v except %v, %v", rr, wr, xr, err)
	}
	_, _, _, err = rawsock.Select([]int{1024}, nil, nil, 0)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "FD_SETSIZE") {
		t.Errorf("Select of fd 1024: %v, want EINVAL naming FD_SETSIZE", err)
	}
}

func TestPoll(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_STREAM)
	fds := []rawsock.PollFd{{Fd: int32(b.Fileno()), Events: unix.POLLIN}}
	start := time.Now()
	n, err := rawsock.Poll(fds, 50*time.Millisecond)
	within(t, "Poll with nothing ready", start, 50*time.Millisecond)
	if err != nil || n != 0 {
		t.Errorf("Poll with nothing ready: %d, %v", n, err)
	}
	a.Send([]byte("x"), 0)
	a.Shutdown(rawsock.SHUT_WR)
	fds = append(fds, rawsock.PollFd{Fd: int32(a.Fileno()), Events: unix.POLLOUT})
	n, err = rawsock.Poll(fds, -1)
	if err != nil || n != 2 || fds[0].Revents&unix.POLLIN == 0 || fds[0].Revents&unix.POLLRDHUP != 0 || fds[1].Revents&unix.POLLOUT == 0 {
		t.Errorf("Poll: %d, revents %#x %#x, %v", n, fds[0].Revents, fds[1].Revents, err)
	}
}

// TestEpollEventLoop serves three clients from one goroutine the C way:
// non-blocking sockets, one epoll, accept and recv until EAGAIN. The
// sockets' own runtime-poller registration does not get in the way.
func TestEpollEventLoop(t *testing.T) {
	l, la := socktest.Listener(t, rawsock.AF_INET)
	if err := l.SetBlocking(false); err != nil {
		t.Fatal(err)
	}
	ep, err := rawsock.EpollCreate1(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	if fdf, _ := fdFlags(t, ep.Fd()); fdf&unix.FD_CLOEXEC == 0 {
		t.Error("epoll fd is not close-on-exec")
	}
	if err := ep.Ctl(unix.EPOLL_CTL_ADD, l.Fileno(), &rawsock.EpollEvent{Events: unix.EPOLLIN, Fd: int32(l.Fileno())}); err != nil {
		t.Fatal(err)
	}
	const clients = 3
	results := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func() {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				results <- err
				return
			}
			defer c.Close()
			c.SetTimeout(slack)
			msg := fmt.Sprintf("client %d", i)
			if err := c.Connect(la); err != nil {
				results <- err
				return
			}
			if err := c.Sendall([]byte(msg), 0); err != nil {
				results <- err
				return
			}
			c.Shutdown(rawsock.SHUT_WR)
			buf := make([]byte, 64)
			n, err := c.Recv(buf, 0)
			if err == nil && string(buf[:n]) != msg {
				err = fmt.Errorf("echo %q, want %q", buf[:n], msg)
			}
			results <- err
		}()
	}

	conns := map[int32]*rawsock.Conn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	events := make([]rawsock.EpollEvent, 8)
	buf := make([]byte, 64)
	served, eagains := 0, 0
	deadline := time.Now().Add(slack)
	for served < clients && time.Now().Before(deadline) {
		n, err := ep.Wait(events, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events[:n] {
			if ev.Fd == int32(l.Fileno()) {
				for {
					c, _, err := l.Accept()
					if errors.Is(err, unix.EAGAIN) {
						eagains++
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					c.SetBlocking(false)
					conns[int32(c.Fileno())] = c
					ep.Ctl(unix.EPOLL_CTL_ADD, c.Fileno(), &rawsock.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.Fileno())})
				}
				continue
			}
			c := conns[ev.Fd]
			for {
				k, err := c.Recv(buf, 0)
				if errors.Is(err, unix.EAGAIN) {
					eagains++
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 { // the client's SHUT_WR
					if err := ep.Ctl(unix.EPOLL_CTL_DEL, c.Fileno(), nil); err != nil {
						t.Fatal(err)
					}
					delete(conns, ev.Fd)
					c.Close()
					served++
					break
				}
				if _, err := c.Send(buf[:k], 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for i := 0; i < clients; i++ {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if served != clients || eagains == 0 {
		t.Errorf("served %d of %d clients, %d EAGAINs", served, clients, eagains)
	}
	ep.Close()
	if _, err := ep.Wait(events, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("Wait after Close: %v", err)
	}
}

// TestEINTRRetried interrupts Poll, Select and Epoll.Wait with signals
// (the runtime's own SIGURG, sent to the thread blocked in the call): the
// kernel never restarts these calls, so each signal shows in the trace as
// EINTR, and the call goes on to wait out its full timeout.
func TestEINTRRetried(t *testing.T) {
	a, _ := socktest.Pair(t, rawsock.SOCK_STREAM)
	ep, err := rawsock.EpollCreate1(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	ep.Ctl(unix.EPOLL_CTL_ADD, a.Fileno(), &rawsock.EpollEvent{Events: unix.EPOLLIN, Fd: int32(a.Fileno())})
	const d = 300 * time.Millisecond
	calls := []struct {
		name string
		call func() (int, error)
	}{
		{"poll", func() (int, error) {
			return rawsock.Poll([]rawsock.PollFd{{Fd: int32(a.Fileno()), Events: unix.POLLIN}}, d)
		}},
		{"select", func() (int, error) {
			rr, _, _, err := rawsock.Select([]int{a.Fileno()}, nil, nil, d)
			return len(rr), err
		}},
		{"epoll_wait", func() (int, error) { return ep.Wait(make([]rawsock.EpollEvent, 1), int(d/time.Millisecond)) }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			w := startTrace(t)
			tid := make(chan int)
			type result struct {
				n   int
				err error
			}
			done := make(chan result)
			start := time.Now()
			go func() {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				tid <- unix.Gettid()
				n, err := c.call()
				done <- result{n, err}
			}()
			id := <-tid
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case r := <-done:
					within(t, c.name+" interrupted by signals", start, d)
					if r.err != nil || r.n != 0 {
						t.Errorf("%s: %d, %v; want 0 ready, no error", c.name, r.n, r.err)
					}
					eintr := 0
					for _, l := range w.Lines() {
						if strings.HasPrefix(l, c.name+"(") && strings.Contains(l, "EINTR") {
							eintr++
						}
					}
					if eintr == 0 {
						t.Errorf("no EINTR provoked; trace:\n%s", strings.Join(w.Lines(), "\n"))
					}
					t.Logf("%d EINTRs retried", eintr)
					return
				case <-tick.C:
					unix.Tgkill(unix.Getpid(), id, unix.SIGURG)
				}
			}
		})
	}
}
