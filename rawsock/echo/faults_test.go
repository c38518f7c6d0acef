package echo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
	"golang.org/x/sys/unix"
)

// rawDial opens a plain socket to the server, for clients that misbehave.
func rawDial(t *testing.T, s *echo.Server) *rawsock.Conn {
	t.Helper()
	family, typ := rawsock.AF_INET, rawsock.SOCK_STREAM
	var sa unix.Sockaddr
	switch s.Network() {
	case "tcp":
		ap := mustAddrPort(t, s.Addr())
		sa = rawsock.SockaddrFromAddrPort(ap)
	case "unix", "unixpacket":
		family = rawsock.AF_UNIX
		if s.Network() == "unixpacket" {
			typ = rawsock.SOCK_SEQPACKET
		}
		sa = rawsock.UnixAddr(s.Addr())
	default:
		t.Fatalf("rawDial: %s", s.Network())
	}
	c := socktest.MustSocket(t, family, typ, 0)
	c.SetTimeout(10 * time.Second)
	if err := c.Connect(sa); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled waits until the server has only active connections left, then
// until the process has as many sockets (and epoll sets) open as at base.
// Only those are counted: the runtime and the test harness open other
// files (cgroup files, /dev/null for a child's stdin) on their own time.
func settled(t *testing.T, s *echo.Server, base int, active int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("the server's connections to close but %d", active), func() bool { return s.Stats().Active == active })
	deadline := time.Now().Add(10 * time.Second)
	for sockFDs(t) > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets open, want %d: %s\nat the start: %s", sockFDs(t), base, fdList(), baseList)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sockFDs counts this process's open sockets and epoll sets.
func sockFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count sockets in: %v", err)
	}
	n := 0
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		if strings.HasPrefix(l, "socket:") || l == "anon_inode:[eventpoll]" {
			n++
		}
	}
	return n
}

// fdList describes this process's fds, for a failure message.
func fdList() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var b strings.Builder
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(&b, "%s=%s ", e.Name(), l)
	}
	return b.String()
}

// baseFDs counts this process's sockets once the server has exactly
// active connections: accepts and closes happen after the clients' calls
// return.
func baseFDs(t *testing.T, s *echo.Server, active int64) int {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d connections in the server", active), func() bool { return s.Stats().Active == active })
	baseList = fdList()
	return sockFDs(t)
}

// baseList is the fds baseFDs counted, for settled's failure message.
var baseList string

// alive checks that the server still answers a new client.
func alive(t *testing.T, s *echo.Server) {
	t.Helper()
	c, err := echo.Dial(s.Network(), s.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exchange([]byte("still there?")); err != nil {
		t.Fatalf("server no longer answers: %v", err)
	}
}

// TestReset: clients that reset the connection (SO_LINGER 0, so close
// sends RST) in the middle of a message, and while the server is sending
// them a long answer they never read (the case that kills the tutorial's
// Python server with BrokenPipe/ECONNRESET), cost the server only their
// own connection.
func TestReset(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				s := start(t, echo.ServerConfig{Network: network, Loop: loop})
				bystander := dial(t, s)
				base := baseFDs(t, s, 1)
				for i := range 40 {
					c := rawDial(t, s)
					size := 10 // a message cut short
					if i%2 == 1 {
						size = 256 << 10 // answered in 256 chunks: still sending at the reset
					}
					c.SetTimeout(50 * time.Millisecond)
					c.Sendall(bytes.Repeat([]byte("x"), size), 0) // may time out: the server stops reading
					if network == "tcp" {
						if err := c.SetsockoptLinger(true, 0); err != nil {
							t.Fatal(err)
						}
					}
					c.Close()
					if _, err := bystander.Exchange([]byte("bystander")); err != nil {
						t.Fatalf("after reset %d: %v", i, err)
					}
				}
				settled(t, s, base, 1)
				alive(t, s)
				if st := s.Stats(); st.Accepted != 1+1+40+1 {
					t.Errorf("stats %+v: want 43 accepted (start's, bystander, 40 resets, alive's)", st)
				}
			})
		}
	}
}

// TestHalfClose: a client that sends, shuts down its writing side and then
// reads gets its whole answer, then EOF.
func TestHalfClose(t *testing.T) {
	for _, network := range []string{"tcp", "unix", "unixpacket"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				s := start(t, echo.ServerConfig{Network: network, Loop: loop, BufSize: 16})
				base := baseFDs(t, s, 0)
				c := rawDial(t, s)
				msg := []byte("the last message before shutdown")
				if err := c.Sendall(msg, 0); err != nil {
					t.Fatal(err)
				}
				if err := c.Shutdown(rawsock.SHUT_WR); err != nil {
					t.Fatal(err)
				}
				var got []byte
				buf := make([]byte, 4096)
				for {
					n, err := c.Recv(buf, 0)
					if err != nil {
						t.Fatalf("after %q: %v", got, err)
					}
					if n == 0 {
						break
					}
					got = append(got, buf[:n]...)
				}
				data, stamps := unstamp(t, got)
				if network == "unixpacket" {
					// One message, one recv: cut to the buffer size.
					if string(data) != string(msg[:16]) || stamps != 1 {
						t.Fatalf("got %q, want ctime + the message's first 16 bytes", got)
					}
				} else if string(data) != string(msg) || stamps < 2 {
					t.Fatalf("got %q (%d stamps), want the message's %d bytes in 16-byte chunks", got, stamps, len(msg))
				}
				c.Close()
				settled(t, s, base, 0)
				alive(t, s)
			})
		}
	}
}

// TestIdleTimeout: a client that says nothing is closed once the idle
// timeout passes, never before; one that talks is kept.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	for _, network := range []string{"tcp", "unixpacket"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				var log socktest.SyncBuffer
				s := start(t, echo.ServerConfig{Network: network, Loop: loop, IdleTimeout: idle, Log: &log})
				talker := dial(t, s)
				base := baseFDs(t, s, 1)
				silent := rawDial(t, s)
				began := time.Now()
				done := make(chan time.Duration)
				go func() {
					var b [64]byte
					n, err := silent.Recv(b[:], 0)
					if n != 0 || err != nil {
						t.Errorf("silent client: recv %d, %v; want EOF", n, err)
					}
					done <- time.Since(began)
				}()
				// The talker talks without pause until the checks are done.
				stopTalking := make(chan struct{})
				talked := make(chan error)
				go func() {
					for {
						select {
						case <-stopTalking:
							talked <- nil
							return
						default:
						}
						if _, err := talker.Exchange([]byte("tick")); err != nil {
							talked <- err
							return
						}
					}
				}()
				if took := <-done; took < idle {
					t.Errorf("silent client closed after %v, before the idle timeout %v", took, idle)
				}
				silent.Close()
				settled(t, s, base, 1)
				if st := s.Stats(); st.IdleTimeouts != 1 {
					t.Errorf("stats %+v: want 1 idle timeout", st)
				}
				close(stopTalking)
				if err := <-talked; err != nil {
					t.Errorf("talking client dropped: %v", err)
				}
				if !bytes.Contains([]byte(log.String()), []byte("idle for 300ms")) {
					t.Errorf("log does not say why:\n%s", log.String())
				}
			})
		}
	}
}

// TestNotReading: a client that sends without ever reading fills the
// kernel's buffers; the server holds one answer for it, keeps serving the
// others, and drops it after the write timeout.
func TestNotReading(t *testing.T) {
	for _, loop := range loops {
		t.Run(loop, func(t *testing.T) {
			s := start(t, echo.ServerConfig{Network: "tcp", Loop: loop, WriteTimeout: 300 * time.Millisecond})
			other := dial(t, s)
			base := baseFDs(t, s, 1)
			c := rawDial(t, s)
			c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_RCVBUF, 4096)
			c.SetBlocking(false)
			chunk := bytes.Repeat([]byte("y"), 64<<10)
			sent := 0
			// Keep sending until the connection is dropped: the server
			// reads, answers, and blocks once our receive buffer is full.
			waitFor(t, "the write timeout to drop the client", func() bool {
				for {
					n, err := c.Send(chunk, 0)
					if err != nil {
						break
					}
					sent += n
				}
				if _, err := other.Exchange([]byte("others are served")); err != nil {
					t.Fatal(err)
				}
				return s.Stats().WriteTimeouts == 1
			})
			if sent < 1<<20 {
				t.Logf("sent %d bytes before the drop", sent)
			}
			c.Close()
			settled(t, s, base, 1)
			alive(t, s)
		})
	}
}

// TestMaxConns: at the cap, a new client waits in the backlog (connected
// by the kernel, not answered) until another leaves.
func TestMaxConns(t *testing.T) {
	for _, loop := range loops {
		t.Run(loop, func(t *testing.T) {
			s := start(t, echo.ServerConfig{Network: "tcp", Loop: loop, MaxConns: 2})
			a, b := dial(t, s), dial(t, s)
			for _, c := range []*echo.Client{a, b} {
				if _, err := c.Exchange([]byte("in")); err != nil {
					t.Fatal(err)
				}
			}
			third := make(chan error, 1)
			c := dial(t, s)
			go func() {
				_, err := c.Exchange([]byte("waiting"))
				third <- err
			}()
			time.Sleep(200 * time.Millisecond)
			select {
			case err := <-third:
				t.Fatalf("third client answered (%v) while two were connected and MaxConns is 2", err)
			default:
			}
			if st := s.Stats(); st.Active != 2 || st.Accepted != 3 {
				t.Fatalf("stats %+v, want 3 accepted (with start's) and 2 active", st)
			}
			a.Close()
			if err := <-third; err != nil {
				t.Fatalf("third client after a left: %v", err)
			}
		})
	}
}

// TestShutdownUnderLoad: a graceful stop in the middle of load. Every
// exchange either completes, checked, or ends cleanly (EOF, reset) at an
// answer's boundary; a message the server has received when the stop
// begins is answered; Shutdown returns nil; no fd is left.
func TestShutdownUnderLoad(t *testing.T) {
	for _, network := range []string{"tcp", "unix", "unixpacket", "udp"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				// The runtime opens its poller's fds with the first socket.
				socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0).Close()
				base := sockFDs(t)
				s, err := echo.Listen(echo.ServerConfig{Network: network, Addr: testAddr(t, network), Loop: loop})
				if err != nil {
					t.Fatal(err)
				}
				served := make(chan error, 1)
				go func() { served <- s.Serve() }()
				const clients = 50
				var wg sync.WaitGroup
				var mu sync.Mutex
				answered := 0
				stop := make(chan struct{})
				var cls []*echo.Client
				for i := range clients {
					c, err := echo.Dial(network, s.Addr(), 5*time.Second)
					if err != nil {
						t.Fatal(err)
					}
					cls = append(cls, c)
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer c.Close()
						r := rand.New(rand.NewPCG(uint64(i), 2))
						for {
							_, err := c.Exchange(randomData(r, 1+r.IntN(2000)))
							if network == "udp" {
								select {
								case <-stop:
									return // no connection to end it: a lost datagram times out
								default:
								}
							}
							if err != nil {
								// A UDP client learns of the closed
								// server from ICMP: ECONNREFUSED.
								if !isClosed(err) && !(network == "udp" && errors.Is(err, unix.ECONNREFUSED)) {
									t.Errorf("client %d: %v", i, err)
								}
								return
							}
							mu.Lock()
							answered++
							mu.Unlock()
						}
					}()
				}
				// One client's message is in the server's queue when the
				// stop begins; its answer must come.
				var inflight *rawsock.Conn
				if network != "udp" {
					inflight = rawDial(t, s)
				}
				waitFor(t, "load to run", func() bool { mu.Lock(); defer mu.Unlock(); return answered > 200 })
				if inflight != nil {
					if err := inflight.Sendall([]byte("in flight"), 0); err != nil {
						t.Fatal(err)
					}
				}
				shut := make(chan error, 1)
				go func() { shut <- s.Shutdown(context.Background()) }()
				if network == "udp" {
					// No connection ends a UDP client: stop them.
					<-shut
					close(stop)
					for _, c := range cls {
						c.Close()
					}
				}
				if inflight != nil {
					b := make([]byte, 256)
					n, err := inflight.Recv(b, 0)
					if err != nil || n < echo.CtimeLen || string(b[echo.CtimeLen:n]) != "in flight" || !echo.IsCtime(b[:echo.CtimeLen]) {
						t.Errorf("in-flight message: answer %q, %v", b[:n], err)
					}
					if n, err := inflight.Recv(b, 0); n != 0 || err != nil {
						t.Errorf("after the answer: %d, %v; want EOF", n, err)
					}
					inflight.Close()
				}
				if network != "udp" {
					if err := <-shut; err != nil {
						t.Errorf("Shutdown: %v", err)
					}
				}
				wg.Wait()
				if err := <-served; err != nil {
					t.Errorf("Serve: %v", err)
				}
				if s.Stats().Active != 0 {
					t.Errorf("stats %+v after Shutdown", s.Stats())
				}
				if _, err := os.Stat(s.Addr()); network != "udp" && network != "tcp" && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("socket file %s left behind: %v", s.Addr(), err)
				}
				waitFor(t, "sockets to be closed", func() bool { return sockFDs(t) <= base })
			})
		}
	}
}

// TestShutdownBacklog: a client the kernel has connected but the server
// has not accepted (here: held back by MaxConns) has sent a message when
// the stop begins. It is accepted, answered, and half-closed, not reset.
func TestShutdownBacklog(t *testing.T) {
	for _, network := range []string{"tcp", "unix", "unixpacket"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				s := start(t, echo.ServerConfig{Network: network, Loop: loop, MaxConns: 1})
				first := rawDial(t, s) // takes the one slot, says nothing
				waitFor(t, "the first client to be accepted", func() bool { return s.Stats().Active == 1 })
				waiting := rawDial(t, s)
				if err := waiting.Sendall([]byte("sent from the backlog"), 0); err != nil {
					t.Fatal(err)
				}
				shut := make(chan error, 1)
				go func() { shut <- s.Shutdown(context.Background()) }()
				b := make([]byte, 256)
				n, err := waiting.Recv(b, 0)
				if err != nil || n < echo.CtimeLen || string(b[echo.CtimeLen:n]) != "sent from the backlog" {
					t.Fatalf("answer %q, %v", b[:n], err)
				}
				for _, c := range []*rawsock.Conn{first, waiting} {
					if n, err := c.Recv(b, 0); n != 0 || err != nil {
						t.Errorf("after the stop: %d, %v; want EOF", n, err)
					}
					c.Close()
				}
				if err := <-shut; err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			})
		}
	}
}
