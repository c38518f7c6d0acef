package echo

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

// TestPipelined: clients that write a long random stream in random-sized
// sends while another goroutine reads. The answers, re-framed against
// the whole stream, must hold every byte once, in order: nothing lost,
// duplicated or reordered, however the server's recvs cut it.
func TestPipelined(t *testing.T) {
	clients, size := 100, 64<<10
	if testing.Short() || raceEnabled {
		clients = 20
	}
	for _, network := range []string{"tcp", "unix"} {
		for _, loop := range []string{LoopGoroutine, LoopEpoll} {
			t.Run(network+"/"+loop, func(t *testing.T) {
				addr := "127.0.0.1:0"
				if network == "unix" {
					addr = filepath.Join(t.TempDir(), "s.sock")
				}
				s, err := Listen(ServerConfig{Network: network, Addr: addr, Loop: loop})
				if err != nil {
					t.Fatal(err)
				}
				go s.Serve()
				defer s.Close()
				var wg sync.WaitGroup
				errs := make(chan error, clients)
				for i := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs <- pipeline(s, uint64(i), size)
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
}

func pipeline(s *Server, seed uint64, size int) error {
	c, err := Dial(s.Network(), s.Addr(), 20*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	r := rand.New(rand.NewPCG(seed, 3))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	sent := make(chan error, 1)
	go func() {
		for p := 0; p < len(data); {
			n := min(1+r.IntN(3000), len(data)-p)
			if err := c.c.Sendall(data[p:p+n], msgNoSignal); err != nil {
				sent <- err
				return
			}
			p += n
		}
		sent <- c.c.Shutdown(rawsock.SHUT_WR)
	}()
	f := framer{want: data}
	var answer []byte
	buf := make([]byte, 8192)
	for {
		n, err := c.c.Recv(buf, 0)
		if err != nil {
			return fmt.Errorf("client %d: %v", seed, err)
		}
		if n == 0 {
			break
		}
		answer = append(answer, buf[:n]...)
		if _, err := f.feed(answer); err != nil {
			return fmt.Errorf("client %d: %v", seed, err)
		}
	}
	if err := <-sent; err != nil {
		return fmt.Errorf("client %d: send: %v", seed, err)
	}
	// Random data can end like a stamp's start: then all of it has come
	// back, and the end of the stream says no stamp follows.
	if f.maybeDone {
		f.p, f.q = len(answer), len(data)
	}
	if f.q != len(data) || f.p != len(answer) {
		return fmt.Errorf("client %d: %d of %d bytes came back (%d answer bytes, %d read)", seed, f.q, len(data), f.p, len(answer))
	}
	return nil
}
