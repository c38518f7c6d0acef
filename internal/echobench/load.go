package echobench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// LoadConfig says what load to put on an echo server.
type LoadConfig struct {
	Network string // "tcp" (default), "tcp4", "tcp6", "unix" or "unixpacket"
	Addr    string // "127.0.0.1:9999", "[::1]:9999" or a socket path

	Conns int // connections held open at once (default 1)
	Size  int // payload bytes per message (default 64)

	// The run ends after Duration (default 1s) or once every connection
	// has made Count round trips, whichever comes first; Count 0 is no
	// limit. Round trips in the first Warmup of the run are made and
	// verified but not counted.
	Duration time.Duration
	Count    int64
	Warmup   time.Duration

	// Timeout bounds each connect and each round trip (default 5s): a
	// server that stops answering fails the run instead of hanging it.
	Timeout time.Duration

	// MaxSkew is how far a reply's timestamp may be from this process's
	// clock, read in its local time zone (default 5s; negative: no check,
	// for a server in another time zone).
	MaxSkew time.Duration

	// ConnectParallel bounds the connects in flight while the connections
	// open (default 128), so that 10,000 of them do not overflow the
	// listen backlog and wait for SYN retransmits.
	ConnectParallel int
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Conns      int           // connections held open at once
	RoundTrips int64         // completed after the warmup, each reply verified
	Bytes      int64         // reply bytes received and verified, timestamps included
	Elapsed    time.Duration // the measured part of the run
	P50, P99   time.Duration // round-trip latency percentiles (±1.6%)
	Max        time.Duration
	Errors     int64 // connections that failed (connect, I/O or verification)

	// Verified is true when every reply byte of every round trip matched:
	// false whenever Load returns an error.
	Verified bool
}

// Rate returns round trips per second.
func (r LoadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.RoundTrips) / r.Elapsed.Seconds()
}

// Load opens cfg.Conns connections to an echo server, then on each sends a
// Size-byte message and reads the answer, in a loop, until the run ends. It
// checks every byte of every answer: the answer to one message may come as
// several [ctime][chunk] segments (one per recv the server made), so the
// payload is drawn from [a-z0-9] only and an upper-case byte, the first of
// every ctime, starts the next segment. Each timestamp must be a valid
// ctime whose weekday matches its date, within MaxSkew of now; the chunks,
// put together, must be the message exactly, with nothing after it.
//
// Load holds Conns sockets open at once and leaves RLIMIT_NOFILE alone: a
// caller that wants more than its limit allows raises it first
// (RaiseNofile(Conns+64)). It returns the first error, naming the
// connection and round trip; the result still holds what was measured.
func Load(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return LoadResult{}, err
	}
	dial, err := loadDialer(cfg.Network, cfg.Addr, cfg.Timeout)
	if err != nil {
		return LoadResult{}, err
	}
	r := &loadRun{cfg: cfg, hist: newLoadHist(min(cfg.Conns, 64))}

	conns, err := r.connect(ctx, dial)
	defer func() {
		for _, c := range conns {
			c.sock.Close()
		}
	}()
	if err != nil {
		return LoadResult{Errors: 1}, err
	}

	// The run: every connection starts together, after all are open.
	start := time.Now()
	r.warmEnd = start.Add(cfg.Warmup)
	end := start.Add(cfg.Warmup + cfg.Duration)
	hard := end.Add(cfg.Timeout)
	for _, c := range conns {
		c.sock.SetDeadline(hard)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(r); err != nil {
				r.fail(err)
			}
		}()
	}
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()
	go r.watch(conns, stopped)
	timer := time.NewTimer(time.Until(end))
	select {
	case <-timer.C:
		r.stop.Store(true)
	case <-ctx.Done():
		r.stop.Store(true)
		r.canceled.Store(true)
		// Close wakes every blocked call at once.
		for _, c := range conns {
			c.sock.Close()
		}
	case <-stopped:
		timer.Stop()
	}
	<-stopped
	elapsed := time.Since(r.warmEnd)
	if cfg.Warmup > 0 && elapsed < 0 {
		elapsed = 0
	}

	res := LoadResult{
		Conns:      len(conns),
		RoundTrips: r.hist.count(),
		Bytes:      r.bytes.Load(),
		Elapsed:    elapsed,
		P50:        r.hist.quantile(0.50),
		P99:        r.hist.quantile(0.99),
		Max:        r.hist.max(),
		Errors:     r.errors.Load(),
	}
	if r.canceled.Load() {
		return res, ctx.Err()
	}
	if err := r.firstErr(); err != nil {
		return res, err
	}
	res.Verified = true
	return res, nil
}

func (cfg *LoadConfig) defaults() {
	if cfg.Network == "" {
		cfg.Network = "tcp"
	}
	if cfg.Conns == 0 {
		cfg.Conns = 1
	}
	if cfg.Size == 0 {
		cfg.Size = 64
	}
	if cfg.Duration == 0 {
		cfg.Duration = time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 5 * time.Second
	}
	if cfg.ConnectParallel == 0 {
		cfg.ConnectParallel = 128
	}
}

func (cfg *LoadConfig) check() error {
	switch {
	case cfg.Conns < 0:
		return fmt.Errorf("load: conns %d: must be positive", cfg.Conns)
	case cfg.Size < 0 || cfg.Size > 1<<20:
		return fmt.Errorf("load: size %d: must be 1 to %d bytes", cfg.Size, 1<<20)
	case cfg.Duration < 0 || cfg.Warmup < 0 || cfg.Timeout < 0 || cfg.Count < 0 || cfg.ConnectParallel < 0:
		return errors.New("load: negative duration, warmup, timeout, count or parallelism")
	}
	return nil
}

// loadDialer parses the address once and returns what opens one client
// socket: socket(2), TCP_NODELAY (the replies are small and answered at
// once, as Go's net does by default), connect(2).
func loadDialer(network, addr string, timeout time.Duration) (func() (*rawsock.Conn, error), error) {
	// Each connect gets its own Sockaddr, so that no two connects ever
	// share one (rawsock's Connect encodes it in its own buffer since
	// f575c09; x/sys/unix's encodes it in place).
	var family, typ int
	var sockaddr func() unix.Sockaddr
	switch network {
	case "tcp", "tcp4", "tcp6":
		ap, err := resolveAddrPort(network, addr)
		if err != nil {
			return nil, err
		}
		family, typ = rawsock.AF_INET, rawsock.SOCK_STREAM
		if ap.Addr().Is6() {
			family = rawsock.AF_INET6
		}
		sockaddr = func() unix.Sockaddr { return rawsock.SockaddrFromAddrPort(ap) }
	case "unix", "unixpacket":
		family, typ = rawsock.AF_UNIX, rawsock.SOCK_STREAM
		if network == "unixpacket" {
			typ = rawsock.SOCK_SEQPACKET
		}
		sockaddr = func() unix.Sockaddr { return rawsock.UnixAddr(addr) }
	default:
		return nil, fmt.Errorf("load: network %q: want tcp, tcp4, tcp6, unix or unixpacket", network)
	}
	return func() (*rawsock.Conn, error) {
		c, err := rawsock.Socket(family, typ, 0)
		if err != nil {
			return nil, err
		}
		// The timeout bounds connect(2); the run sets a deadline instead.
		c.SetTimeout(timeout)
		if family != rawsock.AF_UNIX {
			if err := c.SetsockoptInt(rawsock.IPPROTO_TCP, rawsock.TCP_NODELAY, 1); err != nil {
				c.Close()
				return nil, err
			}
		}
		if err := c.Connect(sockaddr()); err != nil {
			c.Close()
			return nil, err
		}
		c.SetTimeout(0)
		return c, nil
	}, nil
}

// resolveAddrPort reads "host:port", resolving a name the way rawsock's
// InetAddr and Inet6Addr do.
func resolveAddrPort(network, addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap, nil
	}
	host, portStr, ok := cutHostPort(addr)
	port, err := strconv.Atoi(portStr)
	if !ok || err != nil {
		return netip.AddrPort{}, fmt.Errorf("load: address %q: want HOST:PORT", addr)
	}
	resolve := rawsock.InetAddr
	if network == "tcp6" {
		resolve = rawsock.Inet6Addr
	}
	sa, err := resolve(host, port)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("load: address %q: %w", addr, err)
	}
	ap, _ := rawsock.AddrPortFromSockaddr(sa)
	return ap, nil
}

// cutHostPort splits "host:port" and "[v6]:port" at the last colon.
func cutHostPort(s string) (host, port string, ok bool) {
	i := len(s) - 1
	for i >= 0 && s[i] != ':' {
		i--
	}
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host, port, true
}

// loadRun is the state the connections of one run share.
type loadRun struct {
	cfg      LoadConfig
	hist     *loadHist
	bytes    atomic.Int64
	errors   atomic.Int64
	stop     atomic.Bool
	canceled atomic.Bool
	warmEnd  time.Time

	mu  sync.Mutex
	err error
}

func (r *loadRun) fail(err error) {
	r.errors.Add(1)
	if r.canceled.Load() {
		return // the caller's cancel woke this call; Load returns ctx.Err()
	}
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.stop.Store(true) // one failure fails the run: stop the others early
}

func (r *loadRun) firstErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil && r.errors.Load() > 1 {
		return fmt.Errorf("%w (and %d more failed connections)", r.err, r.errors.Load()-1)
	}
	return r.err
}

// connect opens every connection, at most ConnectParallel at a time.
func (r *loadRun) connect(ctx context.Context, dial func() (*rawsock.Conn, error)) ([]*loadConn, error) {
	conns := make([]*loadConn, r.cfg.Conns)
	errs := make([]error, r.cfg.Conns)
	sem := make(chan struct{}, r.cfg.ConnectParallel)
	var wg sync.WaitGroup
	for i := range conns {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := dial()
			if err != nil {
				errs[i] = fmt.Errorf("load: connection %d of %d: %w", i+1, r.cfg.Conns, err)
				return
			}
			conns[i] = newLoadConn(i, c, r.cfg.Size)
		}()
	}
	wg.Wait()
	var open []*loadConn
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	for _, err := range errs {
		if err != nil {
			return open, err
		}
	}
	return open, nil
}

// watch wakes, with its socket's deadline, a connection whose answer has
// not come within Timeout, so that a server that stalls one connection
// fails the run then, not at its end.
func (r *loadRun) watch(conns []*loadConn, stopped <-chan struct{}) {
	every := max(r.cfg.Timeout/4, time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	seen := make([]int64, len(conns))
	since := make([]time.Time, len(conns))
	for {
		select {
		case <-stopped:
			return
		case now := <-tick.C:
			for i, c := range conns {
				if p := c.progress.Load(); p != seen[i] || since[i].IsZero() {
					seen[i], since[i] = p, now
				} else if p >= 0 && now.Sub(since[i]) >= r.cfg.Timeout && c.stalled.CompareAndSwap(false, true) {
					c.sock.SetDeadline(now)
				}
			}
		}
	}
}

// loadConn is one client connection and its buffers, reused every round
// trip.
type loadConn struct {
	id       int
	progress atomic.Int64 // round trips done; -1 once the connection is done
	stalled  atomic.Bool  // watch woke it
	sock     *rawsock.Conn
	pat      []byte // the payload ring: message i is pat[i%loadShift:][:size]
	size     int
	buf      []byte
	fr       loadFramer
}

// loadShift is how many different messages a connection cycles through:
// consecutive messages differ, so a server replaying an old answer fails.
const loadShift = 251

// loadAlphabet holds the payload bytes: none can begin a ctime.
const loadAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func newLoadConn(id int, sock *rawsock.Conn, size int) *loadConn {
	rng := rand.New(rand.NewPCG(uint64(id), 0x9e3779b97f4a7c15))
	pat := make([]byte, size+loadShift)
	for i := range pat {
		pat[i] = loadAlphabet[rng.IntN(len(loadAlphabet))]
	}
	return &loadConn{id: id, sock: sock, pat: pat, size: size, buf: make([]byte, max(4096, 2*size))}
}

// run makes round trips until the run stops.
func (c *loadConn) run(r *loadRun) error {
	defer c.progress.Store(-1)
	for i := int64(0); !r.stop.Load() && (r.cfg.Count == 0 || i < r.cfg.Count); i++ {
		t0 := time.Now()
		n, err := c.roundTrip(i, r.cfg.MaxSkew)
		if err != nil {
			if c.stalled.Load() {
				err = fmt.Errorf("no whole answer within %v (timeout): %w", r.cfg.Timeout, err)
			}
			return fmt.Errorf("load: connection %d, round trip %d: %w", c.id+1, i+1, err)
		}
		c.progress.Store(i + 1)
		if t0.After(r.warmEnd) {
			r.hist.record(c.id, time.Since(t0))
			r.bytes.Add(int64(n))
		}
	}
	return nil
}

// roundTrip sends message i and reads and checks its whole answer; it
// returns the reply bytes received.
func (c *loadConn) roundTrip(i int64, skew time.Duration) (int, error) {
	off := int(i % loadShift)
	msg := c.pat[off : off+c.size]
	if err := c.sock.Sendall(msg, 0); err != nil {
		return 0, err
	}
	c.fr.reset(msg, skew)
	total := 0
	for !c.fr.done() {
		n, err := c.sock.Recv(c.buf, 0)
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, fmt.Errorf("server closed the connection after %d of the reply's bytes", total)
		}
		if err := c.fr.feed(c.buf[:n], total); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
