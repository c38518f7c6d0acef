package echo_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/echo"
)

// TestExchange is the tutorial's session on every network and engine:
// "i" comes back as "Tue Sep 13 19:11:20 2016i", and the log says
// "waiting for connection..." and "...connected from: ADDR".
func TestExchange(t *testing.T) {
	for _, network := range echo.Networks {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				var log socktest.SyncBuffer
				s := start(t, echo.ServerConfig{Network: network, Loop: loop, Log: &log})
				c := dial(t, s)
				for _, msg := range []string{"i", "hello", "Tue Sep 13 19:11:20 2016 looks like a stamp"} {
					before := time.Now().Truncate(time.Second)
					got, err := c.Exchange([]byte(msg))
					if err != nil {
						t.Fatal(err)
					}
					after := time.Now()
					if len(got) != echo.CtimeLen+len(msg) || string(got[echo.CtimeLen:]) != msg {
						t.Fatalf("answer %q, want ctime+%q", got, msg)
					}
					stamp, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", string(got[:echo.CtimeLen]), time.Local)
					if err != nil {
						t.Fatal(err)
					}
					if stamp.Before(before) || stamp.After(after) {
						t.Errorf("stamp %v outside the exchange's time [%v, %v]", stamp, before, after)
					}
				}
				want := "waiting for connection...\n...connected from: "
				if network == "udp" || network == "udp6" || network == "unixgram" {
					want = "waiting for message...\n...received from: "
				}
				if !strings.HasPrefix(log.String(), want) {
					t.Errorf("log %q, want it to start %q", log.String(), want)
				}
			})
		}
	}
}

// TestChunks: a message longer than --bufsize is answered per recv, one
// ctime per chunk, as the Python server does; datagrams are cut to
// bufsize.
func TestChunks(t *testing.T) {
	msg := bytes.Repeat([]byte("abcdefghij"), 30) // 300 bytes
	for _, network := range []string{"tcp", "unix", "unixpacket", "udp"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				s := start(t, echo.ServerConfig{Network: network, Loop: loop, BufSize: 100})
				c := dial(t, s)
				got, err := c.Exchange(msg)
				if err != nil {
					t.Fatal(err)
				}
				switch network {
				case "tcp", "unix":
					// At least 3 chunks of at most 100 bytes, each with
					// its stamp (the kernel may split further).
					data, stamps := unstamp(t, got)
					if !bytes.Equal(data, msg) || stamps < 3 || len(got) != len(msg)+stamps*echo.CtimeLen {
						t.Fatalf("answer %q: %d stamps, data %q", got, stamps, data)
					}
				default:
					if len(got) != echo.CtimeLen+100 || !bytes.Equal(got[echo.CtimeLen:], msg[:100]) {
						t.Fatalf("answer %q, want ctime + the first 100 bytes", got)
					}
				}
			})
		}
	}
}

// unstamp splits an answer whose data holds no capital letters into the
// data and the number of stamps.
func unstamp(t *testing.T, b []byte) ([]byte, int) {
	t.Helper()
	var data []byte
	n := 0
	for len(b) > 0 {
		if b[0] >= 'A' && b[0] <= 'Z' {
			if len(b) < echo.CtimeLen || !echo.IsCtime(b[:echo.CtimeLen]) {
				t.Fatalf("bad stamp at %q", b)
			}
			b = b[echo.CtimeLen:]
			n++
			continue
		}
		data = append(data, b[0])
		b = b[1:]
	}
	return data, n
}

// TestManyClients: hundreds of clients at once, each sending random data
// (every byte value, sizes across the buffer size), every answer checked,
// in order, on both engines.
func TestManyClients(t *testing.T) {
	for _, network := range []string{"tcp", "unix", "unixpacket", "udp", "unixgram"} {
		for _, loop := range loops {
			t.Run(network+"/"+loop, func(t *testing.T) {
				clients, rounds, maxLen := 300, 20, 3000
				switch network {
				case "udp", "unixgram":
					// One datagram in flight per client must fit the
					// server's receive queue: loss there is UDP's right.
					clients, maxLen = 32, 1024
				case "unixpacket":
					maxLen = 1024 // longer messages are cut (TestChunks)
				}
				if testing.Short() || echo.RaceEnabled {
					rounds /= 4
				}
				s := start(t, echo.ServerConfig{Network: network, Loop: loop})
				var wg sync.WaitGroup
				errs := make(chan error, clients)
				for i := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs <- client(s, uint64(i), rounds, maxLen)
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

func client(s *echo.Server, seed uint64, rounds, maxLen int) error {
	c, err := echo.Dial(s.Network(), s.Addr(), 20*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range rounds {
		msg := randomData(r, 1+r.IntN(maxLen))
		got, err := c.Exchange(msg)
		if err != nil {
			return fmt.Errorf("client %d, message %d (%d bytes): %v", seed, i, len(msg), err)
		}
		if !bytes.Contains(got, msg[:min(len(msg), 16)]) {
			return fmt.Errorf("client %d: answer %.60q lacks %.16q", seed, got, msg)
		}
	}
	return nil
}

// TestEpollLeavesGOMAXPROCS: the epoll engine serves under GOMAXPROCS 1
// and leaves it at 1, during and after: GOMAXPROCS is its caller's to set
// (rawsock serve --loop epoll does), not the library's.
func TestEpollLeavesGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	s, err := echo.Listen(echo.ServerConfig{Addr: "127.0.0.1:0", Loop: echo.LoopEpoll})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	c := dial(t, s)
	if _, err := c.Exchange([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("GOMAXPROCS %d while serving, want the caller's 1", n)
	}
	s.Close()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("GOMAXPROCS %d after, want the caller's 1", n)
	}
}
