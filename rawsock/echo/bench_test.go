package echo_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
)

// roundTrip sends msg and reads its answer (ctime+msg, one segment on
// loopback for a short message) on a plain socket: the client allocates
// nothing, so what AllocsPerRun counts is the server's.
func roundTrip(c *rawsock.Conn, msg, buf []byte) error {
	if err := c.Sendall(msg, 0); err != nil {
		return err
	}
	for got := 0; got < echo.CtimeLen+len(msg); {
		n, err := c.Recv(buf[got:], 0)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("EOF after %d bytes", got)
		}
		got += n
	}
	return nil
}

// TestServerAllocs: answering a message allocates nothing in either
// engine (the stamp is cached per second, buffers are reused, the epoll
// loop's events and Ctl argument are preallocated).
func TestServerAllocs(t *testing.T) {
	if testing.Short() || echo.RaceEnabled {
		t.Skip("allocation counts need a normal (not -short, not -race) run")
	}
	for _, loop := range loops {
		t.Run(loop, func(t *testing.T) {
			s := start(t, echo.ServerConfig{Network: "tcp", Loop: loop})
			c := rawDial(t, s)
			msg, buf := make([]byte, 64), make([]byte, 256)
			for i := range msg {
				msg[i] = 'a' + byte(i%26)
			}
			n := testing.AllocsPerRun(1000, func() {
				if err := roundTrip(c, msg, buf); err != nil {
					t.Fatal(err)
				}
			})
			if n >= 0.05 {
				t.Errorf("%v allocs per round trip, want 0", n)
			}
		})
	}
}

// BenchmarkRoundTrip: round trips of 64-byte messages over conns
// connections on loopback, in each engine, client and server in one
// process. A rough figure: "rawsock bench echo" compares servers in
// separate processes pinned to one CPU.
func BenchmarkRoundTrip(b *testing.B) {
	for _, loop := range loops {
		for _, conns := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("%s/conns=%d", loop, conns), func(b *testing.B) {
				s := start(b, echo.ServerConfig{Network: "tcp", Loop: loop})
				cs := make([]*rawsock.Conn, conns)
				for i := range cs {
					cs[i] = benchDial(b, s)
				}
				msg := make([]byte, 64)
				for i := range msg {
					msg[i] = 'a'
				}
				b.ReportAllocs()
				b.ResetTimer()
				began := time.Now()
				var wg sync.WaitGroup
				per := b.N/conns + 1
				for _, c := range cs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						buf := make([]byte, 256)
						for range per {
							if err := roundTrip(c, msg, buf); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(per*conns)/time.Since(began).Seconds(), "trips/s")
			})
		}
	}
}

func benchDial(b *testing.B, s *echo.Server) *rawsock.Conn {
	b.Helper()
	c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ap := mustAddrPort(b, s.Addr())
	if err := c.Connect(rawsock.SockaddrFromAddrPort(ap)); err != nil {
		b.Fatal(err)
	}
	return c
}
