package echobench

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
)

// loadTestServer is an echo server for the load generator's tests, on
// rawsock, with a hook that may damage the answer to a round trip.
type loadTestServer struct {
	bufSize int
	mangle  func(seq int, reply []byte) []byte

	mu    sync.Mutex
	conns []*rawsock.Conn
}

// serveLoadTest starts a server on l and closes what it opened when the
// test ends.
func serveLoadTest(t *testing.T, l *rawsock.Conn, s *loadTestServer) {
	if s.bufSize == 0 {
		s.bufSize = 1024
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	go func() {
		defer close(done)
		for {
			c, _, err := l.Accept()
			if err != nil {
				return
			}
			if c.Family() != rawsock.AF_UNIX {
				// Several small answer segments must not wait on Nagle.
				c.SetsockoptInt(rawsock.IPPROTO_TCP, rawsock.TCP_NODELAY, 1)
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
}

func (s *loadTestServer) serve(c *rawsock.Conn) {
	buf := make([]byte, s.bufSize)
	var out []byte
	for seq := 0; ; seq++ {
		n, err := c.Recv(buf, 0)
		if err != nil || n == 0 {
			c.Close()
			return
		}
		out = append(time.Now().AppendFormat(out[:0], time.ANSIC), buf[:n]...)
		if s.mangle != nil {
			out = s.mangle(seq, out)
		}
		if err := c.Sendall(out, 0); err != nil {
			c.Close()
			return
		}
	}
}

// tcpLoadServer starts s on a loopback TCP port and returns its address.
func tcpLoadServer(t *testing.T, s *loadTestServer) string {
	l, sa := socktest.Listener(t, rawsock.AF_INET)
	serveLoadTest(t, l, s)
	return rawsock.AddrString(sa)
}

func TestLoad(t *testing.T) {
	addr := tcpLoadServer(t, &loadTestServer{})
	res, err := Load(context.Background(), LoadConfig{Addr: addr, Conns: 8, Size: 64, Count: 50, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.RoundTrips != 8*50 || res.Conns != 8 || res.Errors != 0 {
		t.Errorf("got %+v, want 400 verified round trips on 8 connections", res)
	}
	if want := int64(8 * 50 * (64 + 24)); res.Bytes != want {
		t.Errorf("Bytes %d, want %d", res.Bytes, want)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99*63/64 || res.Rate() <= 0 {
		t.Errorf("latencies p50 %v p99 %v max %v, rate %v: want 0 < p50 <= p99 <= max", res.P50, res.P99, res.Max, res.Rate())
	}
}

// TestLoadSegments: a server reading 10 bytes at a time answers a 64-byte
// message as several [ctime][chunk] segments; Load re-frames them.
func TestLoadSegments(t *testing.T) {
	addr := tcpLoadServer(t, &loadTestServer{bufSize: 10})
	res, err := Load(context.Background(), LoadConfig{Addr: addr, Conns: 4, Size: 64, Count: 30, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.RoundTrips != 4*30 {
		t.Errorf("got %+v, want 120 verified round trips", res)
	}
	// At least 7 segments per answer: 64 bytes in chunks of 10 or less.
	if min := int64(4 * 30 * (64 + 7*24)); res.Bytes < min {
		t.Errorf("Bytes %d: fewer than the %d that 7 segments per answer make", res.Bytes, min)
	}
}

// TestLoadCatchesCorruption: a server that damages one answer, in any of
// these ways, fails the run.
func TestLoadCatchesCorruption(t *testing.T) {
	const seq = 3 // the round trip damaged, on every connection
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		want   string
	}{
		{"flip a data bit", func(b []byte) []byte { b[24+5] ^= 0x01; return b }, "reply byte 29"},
		{"upper-case a data byte", func(b []byte) []byte { b[24+40] = 'Q'; return b }, "reply byte"},
		{"reverse the data", func(b []byte) []byte {
			d := b[24:]
			for i, j := 0, len(d)-1; i < j; i, j = i+1, j-1 {
				d[i], d[j] = d[j], d[i]
			}
			return b
		}, "reply byte"},
		{"28 years ago, same weekday", func(b []byte) []byte {
			ts, _ := time.ParseInLocation(time.ANSIC, string(b[:24]), time.Local)
			copy(b, ts.AddDate(-28, 0, 0).Format(time.ANSIC))
			return b
		}, "away from this host's clock"},
		{"wrong weekday", func(b []byte) []byte {
			day := "Mon"
			if string(b[:3]) == day {
				day = "Tue"
			}
			copy(b, day)
			return b
		}, "that date prints as"},
		{"colon to dash", func(b []byte) []byte { b[13] = '-'; return b }, "not a ctime"},
		{"no timestamp", func(b []byte) []byte { return b[24:] }, "where a ctime timestamp should start"},
		{"extra byte", func(b []byte) []byte { return append(b, 'x') }, "reply byte"},
		{"empty segment", func(b []byte) []byte { return append(b[:24:24], b...) }, "no data after it"},
		{"one byte short", func(b []byte) []byte { return b[:len(b)-1] }, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tcpLoadServer(t, &loadTestServer{mangle: func(n int, b []byte) []byte {
				if n == seq {
					return tt.mangle(b)
				}
				return b
			}})
			t0 := time.Now()
			res, err := Load(context.Background(), LoadConfig{Addr: addr, Conns: 2, Size: 64, Count: 10, Duration: time.Minute, Timeout: 500 * time.Millisecond})
			if d := time.Since(t0); d > 30*time.Second {
				t.Errorf("Load took %v: a stalled answer must fail the run within about Timeout", d)
			}
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			if res.Verified {
				t.Errorf("Verified with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "round trip 4") {
				t.Errorf("error %q: want it to name round trip 4 and say %q", err, tt.want)
			}
		})
	}
}

// TestLoadFramer feeds the framer one answer, split at every pair of
// points: each split passes, and replacing any single byte, in the data or
// the timestamps, with one no answer may hold there fails.
func TestLoadFramer(t *testing.T) {
	msg := []byte("hello0world1abc")
	ts := []byte(time.Now().Format(time.ANSIC))
	var answer []byte
	for _, chunk := range [][]byte{msg[:4], msg[4:5], msg[5:]} {
		answer = append(append(answer, ts...), chunk...)
	}
	feed := func(b []byte, cuts ...int) error {
		var f loadFramer
		f.reset(msg, 5*time.Second)
		prev := 0
		for _, c := range append(cuts, len(b)) {
			if err := f.feed(b[prev:c], prev); err != nil {
				return err
			}
			prev = c
		}
		if !f.done() {
			return errors.New("not done")
		}
		return nil
	}
	for i := 0; i <= len(answer); i++ {
		for j := i; j <= len(answer); j++ {
			if err := feed(answer, i, j); err != nil {
				t.Fatalf("split at %d and %d: %v", i, j, err)
			}
		}
	}
	for i := range answer {
		for _, c := range []byte{'#', 'z' + 1, answer[i] ^ 0x20} {
			if c == answer[i] || (c == answer[i]^0x20 && !isUpper(answer[i]) && !isLower(answer[i])) {
				continue
			}
			bad := bytes.Clone(answer)
			bad[i] = c
			if err := feed(bad, len(bad)/2); err == nil {
				t.Errorf("byte %d changed from %q to %q: no error", i, answer[i], c)
			}
		}
	}
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// TestLoadUnix runs the load over AF_UNIX stream and seqpacket sockets.
func TestLoadUnix(t *testing.T) {
	for _, tt := range []struct {
		network string
		typ     int
	}{{"unix", rawsock.SOCK_STREAM}, {"unixpacket", rawsock.SOCK_SEQPACKET}} {
		t.Run(tt.network, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "echo.sock")
			l := socktest.MustSocket(t, rawsock.AF_UNIX, tt.typ, 0)
			if err := l.Bind(rawsock.UnixAddr(path)); err != nil {
				t.Fatal(err)
			}
			if err := l.Listen(16); err != nil {
				t.Fatal(err)
			}
			serveLoadTest(t, l, &loadTestServer{})
			res, err := Load(context.Background(), LoadConfig{Network: tt.network, Addr: path, Conns: 3, Size: 100, Count: 20, Duration: 10 * time.Second})
			if err != nil || res.RoundTrips != 60 || !res.Verified {
				t.Errorf("got %+v, %v; want 60 verified round trips", res, err)
			}
		})
	}
}

// TestLoadManyConns holds 300 connections at once (more than some default
// RLIMIT_NOFILE soft limits allow with the server's in the same process:
// Load leaves the limit to its caller, so the test raises it).
func TestLoadManyConns(t *testing.T) {
	if err := RaiseNofile(2*300 + 64); err != nil {
		t.Fatal(err)
	}
	addr := tcpLoadServer(t, &loadTestServer{})
	res, err := Load(context.Background(), LoadConfig{Addr: addr, Conns: 300, Size: 32, Count: 3, Duration: 20 * time.Second})
	if err != nil || res.Conns != 300 || res.RoundTrips != 900 || !res.Verified {
		t.Errorf("got %+v, %v; want 900 verified round trips on 300 connections", res, err)
	}
}

func TestLoadCancel(t *testing.T) {
	addr := tcpLoadServer(t, &loadTestServer{mangle: func(seq int, b []byte) []byte {
		if seq == 5 {
			return b[:10] // then the client waits for the rest
		}
		return b
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	res, err := Load(ctx, LoadConfig{Addr: addr, Conns: 2, Duration: time.Minute, Timeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) || res.Verified {
		t.Errorf("got %+v, %v; want the context's error", res, err)
	}
	if d := time.Since(t0); d > 30*time.Second {
		t.Errorf("Load returned %v after its context ended", d)
	}
}

func TestLoadErrors(t *testing.T) {
	// A port that was free a moment ago.
	s := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err := s.Bind(socktest.Loopback(t, rawsock.AF_INET)); err != nil {
		t.Fatal(err)
	}
	sa, _ := s.Getsockname()
	s.Close()
	tests := []struct {
		cfg  LoadConfig
		want string
	}{
		{LoadConfig{Addr: rawsock.AddrString(sa)}, "connection 1 of 1: connect: connection refused"},
		{LoadConfig{Network: "unix", Addr: filepath.Join(t.TempDir(), "none")}, "connect: no such file or directory"},
		{LoadConfig{Network: "sctp", Addr: "127.0.0.1:1"}, `network "sctp"`},
		{LoadConfig{Addr: "127.0.0.1"}, "want HOST:PORT"},
		{LoadConfig{Addr: "127.0.0.1:99999"}, "load: address"},
		{LoadConfig{Addr: "127.0.0.1:1", Size: -1}, "size -1"},
		{LoadConfig{Addr: "127.0.0.1:1", Duration: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		_, err := Load(context.Background(), tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%+v): %v; want one line containing %q", tt.cfg, err, tt.want)
		}
	}
}

func TestLoadHist(t *testing.T) {
	h := newLoadHist(4)
	for i := 1; i <= 100000; i++ {
		h.record(i, time.Duration(i)*time.Microsecond)
	}
	if h.count() != 100000 {
		t.Fatalf("count %d", h.count())
	}
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
		want := q * 100000 * float64(time.Microsecond)
		got := float64(h.quantile(q))
		if got < want*(1-1.0/64) || got > want*(1+1.0/64) {
			t.Errorf("quantile(%v) = %v, want %v ±1/64", q, time.Duration(got), time.Duration(want))
		}
	}
	if h.max() != 100*time.Millisecond {
		t.Errorf("max %v", h.max())
	}
	for v := uint64(0); v < 1<<20; v = v*5/4 + 1 {
		if b := histBucket(v); b < 0 || b >= histBuckets || histValue(b) > v+v/64+1 || histValue(b)+histValue(b)/64+1 < v {
			t.Errorf("value %d: bucket %d reads back as %d", v, b, histValue(b))
		}
	}
	if b := histBucket(1 << 62); b != histBuckets-1 {
		t.Errorf("huge value in bucket %d, want the last", b)
	}
}

// TestLoadAllocs: a round trip allocates nothing once the connection's
// buffers exist.
func TestLoadAllocs(t *testing.T) {
	addr := tcpLoadServer(t, &loadTestServer{})
	dial, err := loadDialer("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	c := newLoadConn(0, sock, 64)
	var i int64
	var rerr error
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.roundTrip(i, 5*time.Second); err != nil && rerr == nil {
			rerr = err
		}
		i++
	})
	if rerr != nil {
		t.Fatal(rerr)
	}
	if allocs > 0 {
		t.Errorf("%v allocations per round trip, want 0", allocs)
	}
}

func TestRaiseNofile(t *testing.T) {
	if err := RaiseNofile(64); err != nil {
		t.Errorf("RaiseNofile(64): %v", err)
	}
	if err := RaiseNofile(1 << 40); err == nil || !strings.Contains(err.Error(), "setrlimit(RLIMIT_NOFILE") {
		t.Errorf("RaiseNofile(2^40): %v, want the setrlimit error (above fs.nr_open)", err)
	}
}
