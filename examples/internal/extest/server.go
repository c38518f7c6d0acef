package extest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/echobench"
	"github.com/rawsock/rawsock/rawsock"
)

// CheckEchoServer puts a TCP echo server at addr through what the
// benchmark needs of it: many clients at once with every byte verified,
// messages longer than its 1024-byte recv, a client that sends without
// reading for a while (the server must queue answers, wait for EPOLLOUT or
// the poller, and lose nothing), and a half-close answered before the
// server closes.
func CheckEchoServer(t *testing.T, addr string) {
	t.Run("load", func(t *testing.T) {
		res, err := echobench.Load(context.Background(), echobench.LoadConfig{Addr: addr, Conns: 50, Size: 64, Count: 100, Duration: Wait})
		if err != nil || res.RoundTrips != 5000 || !res.Verified {
			t.Errorf("got %+v, %v; want 5000 verified round trips", res, err)
		}
	})
	t.Run("long messages", func(t *testing.T) {
		res, err := echobench.Load(context.Background(), echobench.LoadConfig{Addr: addr, Conns: 4, Size: 5000, Count: 20, Duration: Wait})
		if err != nil || res.RoundTrips != 80 || !res.Verified {
			t.Errorf("got %+v, %v; want 80 verified round trips", res, err)
		}
		if res.Bytes < 80*(5000+5*24) {
			t.Errorf("%d reply bytes: fewer than 5 timestamps per 5000-byte message", res.Bytes)
		}
	})
	t.Run("slow reader", func(t *testing.T) { slowReader(t, addr) })
	t.Run("half-close", func(t *testing.T) { halfClose(t, addr) })
}

func dial(t *testing.T, addr string) *rawsock.Conn {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	sa, err := rawsock.InetAddr(host, atoi(port))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(sa); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(Wait))
	return c
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// slowReader sends 4 MB before reading a byte (the server's answers pile
// up past its buffers), then reads them all and checks them.
func slowReader(t *testing.T, addr string) {
	c := dial(t, addr)
	const total = 4 << 20
	sent := make([]byte, total)
	for i := range sent {
		sent[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i*7%36]
	}
	errc := make(chan error, 1)
	go func() {
		errc <- c.Sendall(sent, 0)
		c.Shutdown(rawsock.SHUT_WR)
	}()
	time.Sleep(300 * time.Millisecond)
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(got), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	data, stamps, err := unstamp(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, sent) {
		t.Fatalf("%d bytes came back in %d segments, not the %d sent", len(data), stamps, total)
	}
	if stamps < total/1024 {
		t.Errorf("%d timestamps for %d bytes read 1024 at a time", stamps, total)
	}
}

// unstamp takes the timestamps out of an answer whose data has no
// upper-case byte, checking each one.
func unstamp(b []byte) (data []byte, stamps int, err error) {
	for len(b) > 0 {
		if b[0] < 'A' || b[0] > 'Z' {
			return nil, stamps, errors.New("answer does not start with a timestamp")
		}
		if len(b) < 24 || !ctimeRE.Match(b[:24]) {
			return nil, stamps, errors.New("bad timestamp " + string(b[:min(24, len(b))]))
		}
		stamps++
		b = b[24:]
		i := bytes.IndexFunc(b, func(r rune) bool { return r >= 'A' && r <= 'Z' })
		if i < 0 {
			i = len(b)
		}
		if i == 0 {
			return nil, stamps, errors.New("a timestamp with no data after it")
		}
		data = append(data, b[:i]...)
		b = b[i:]
	}
	return data, stamps, nil
}

// halfClose: shutdown(SHUT_WR) right after a message; the answer still
// comes, then the server's close.
func halfClose(t *testing.T, addr string) {
	c := dial(t, addr)
	if err := c.Sendall([]byte("bye"), 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(rawsock.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	CheckReply(t, string(got), "bye")
}
