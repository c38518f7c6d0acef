package echo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// Defaults for the zero values of ServerConfig.
const (
	DefaultBufSize      = 1024 // the tutorial's BUFSIZ
	DefaultMaxConns     = 10000
	DefaultIdleTimeout  = 5 * time.Minute
	DefaultWriteTimeout = 10 * time.Second
	DefaultGrace        = 5 * time.Second

	// MaxBufSize bounds BufSize: a datagram holds at most 64 KiB, and a
	// stream gains nothing from larger reads.
	MaxBufSize = 1 << 20

	// backlog is listen(2)'s; the kernel caps it at net.core.somaxconn.
	backlog = 4096

	// lingerTimeout bounds how long a stopping server waits for a client
	// to close after the server's FIN (see Shutdown).
	lingerTimeout = time.Second
)

// Loop names, for ServerConfig.Loop.
const (
	LoopGoroutine = "goroutine"
	LoopEpoll     = "epoll"
)

// ServerConfig is what Listen needs. The zero value of each field means its
// default; a negative timeout or MaxConns means none.
type ServerConfig struct {
	Network string // one of Networks; default "tcp"
	Addr    string // HOST:PORT or a path; default DefaultAddr(Network, false)

	// BufSize is the size of each recv(2), so of each answered chunk.
	BufSize int

	// MaxConns caps the connections served at once. At the cap the server
	// stops calling accept(2): further clients wait in the listen backlog,
	// as they would at a busy C server, and are served as others leave.
	MaxConns int

	// IdleTimeout closes a connection that sends nothing for this long
	// (checked up to an eighth of it late).
	IdleTimeout time.Duration

	// WriteTimeout drops a connection whose answer cannot be sent for this
	// long: the client sends but does not read. The server holds at most
	// one answer per connection meanwhile, so such a client costs one
	// buffer, never an unbounded queue.
	WriteTimeout time.Duration

	// Grace bounds Shutdown when its context has no earlier deadline.
	Grace time.Duration

	// Loop is LoopGoroutine (default: a goroutine per connection on the
	// runtime poller) or LoopEpoll (one thread, one level-triggered
	// epoll(7) set, the C way: the faster engine). Both serve every
	// network.
	//
	// The epoll loop wants a second P, and leaves it to its caller to give
	// one: GOMAXPROCS is the program's to set, not a library's. Blocked in
	// epoll_wait(2) the loop's thread still holds its P, so under
	// GOMAXPROCS 1 (as under taskset -c N) every other goroutine of the
	// program waits, at every wait, for the runtime's sysmon to take that P
	// back (20µs to 10ms later), and the loop pays for sysmon's handoffs
	// too. A program that may run with one P should call
	// runtime.GOMAXPROCS(2) before Serve, as rawsock serve --loop epoll
	// does; the cost of not doing so is measured in README.md, "The epoll
	// engine and GOMAXPROCS".
	Loop string

	// Log receives the tutorial's lines ("waiting for connection...",
	// "...connected from: ADDR") and one line per dropped connection;
	// nil is silent.
	Log io.Writer
}

func (c *ServerConfig) setDefaults() {
	if c.Network == "" {
		c.Network = "tcp"
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr(c.Network, false)
	}
	if c.BufSize == 0 {
		c.BufSize = DefaultBufSize
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.Loop == "" {
		c.Loop = LoopGoroutine
	}
}

// Stats counts what a server did, for tests and for the log at exit.
type Stats struct {
	Accepted      int64 // connections accepted
	Active        int64 // connections open now
	Closed        int64 // connections ended, for any reason
	IdleTimeouts  int64 // closed for IdleTimeout
	WriteTimeouts int64 // dropped for WriteTimeout
	ConnErrors    int64 // ended by an error (reset, ...)
	AcceptErrors  int64 // accept(2) failures retried (EMFILE, ...)
	Datagrams     int64 // datagrams answered
	Unanswered    int64 // datagrams whose answer could not be sent
}

type counters struct {
	accepted, active, closed, idle, write, connErr, acceptErr, dgrams, unanswered atomic.Int64
}

// Server is a timestamp echo server. Listen opens it, Serve runs it,
// Shutdown or Close stops it.
type Server struct {
	cfg  ServerConfig
	nw   network
	ln   *rawsock.Conn // the listening socket, or the datagram socket
	addr string
	path *unixPath // the socket file this server made, if any
	log  *log.Logger

	stopping atomic.Bool
	quit     chan struct{} // closed by Shutdown
	done     chan struct{} // closed when Serve returns
	closeLn  sync.Once

	mu     sync.Mutex
	served bool // Serve was called; under mu

	// Goroutine mode: the open connections, for Shutdown; under mu.
	conns map[*sconn]struct{}
	// lnFinishing is sconn.finishing for the datagram socket; under mu.
	lnFinishing bool
	wg          sync.WaitGroup
	sem         chan struct{}

	loop *eloop // epoll mode

	n counters
}

// Listen opens the server's socket: socket(2), the options, bind(2) and,
// for connected networks, listen(2). Its errors name the cause and the
// address: "bind: address already in use (127.0.0.1:9999)". Nothing is
// left open or on disk when it fails.
func Listen(cfg ServerConfig) (*Server, error) {
	cfg.setDefaults()
	nw, err := lookupNetwork(cfg.Network)
	if err != nil {
		return nil, err
	}
	if cfg.BufSize < 1 || cfg.BufSize > MaxBufSize {
		return nil, configErrorf("bufsize %d out of range 1 to %d", cfg.BufSize, MaxBufSize)
	}
	if cfg.Loop != LoopGoroutine && cfg.Loop != LoopEpoll {
		return nil, configErrorf("unknown loop %q (want %s or %s)", cfg.Loop, LoopGoroutine, LoopEpoll)
	}
	sa, err := resolve(nw, cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, nw: nw, quit: make(chan struct{}), done: make(chan struct{}), conns: map[*sconn]struct{}{}}
	if cfg.Log != nil {
		s.log = log.New(cfg.Log, "", 0)
	}
	if cfg.MaxConns > 0 {
		s.sem = make(chan struct{}, cfg.MaxConns)
	}
	if err := s.open(sa); err != nil {
		if s.ln != nil {
			s.ln.Close()
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) open(sa unix.Sockaddr) error {
	nw := s.nw
	var err error
	if !nw.inet() {
		if err := removeStale(nw, s.cfg.Addr, s.logf); err != nil {
			return err
		}
	}
	if s.ln, err = rawsock.Socket(nw.family, nw.sotype, 0); err != nil {
		return err
	}
	if nw.inet() {
		// A restarted server must not wait out TIME_WAIT; a live
		// listener on the port still makes bind fail.
		if err := s.ln.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1); err != nil {
			return err
		}
		if nw.family == rawsock.AF_INET6 {
			// tcp6 means IPv6 only, so that tcp and tcp6 servers can
			// share a port, as in Go's net.
			if err := s.ln.SetsockoptInt(rawsock.IPPROTO_IPV6, rawsock.IPV6_V6ONLY, 1); err != nil {
				return err
			}
		}
	}
	if !nw.connected() {
		// Many clients share one receive queue: give it room. The
		// kernel caps this at net.core.rmem_max; failing is harmless.
		s.ln.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_RCVBUF, 4<<20)
	}
	if err := s.ln.Bind(sa); err != nil {
		return fmt.Errorf("%w (%s)", err, s.cfg.Addr)
	}
	if !nw.inet() {
		s.path = newUnixPath(s.cfg.Addr)
	}
	if nw.connected() {
		if err := s.ln.Listen(backlog); err != nil {
			s.path.remove()
			return fmt.Errorf("%w (%s)", err, s.cfg.Addr)
		}
	}
	local, err := s.ln.Getsockname()
	if err != nil {
		s.path.remove()
		return err
	}
	s.addr = rawsock.AddrString(local)
	return nil
}

// Addr returns the address the server is bound to: "127.0.0.1:9999",
// "[::1]:9999", or the unix path. With port 0 it has the port the kernel
// chose.
func (s *Server) Addr() string { return s.addr }

// Network returns the server's network ("tcp", "unixgram", ...).
func (s *Server) Network() string { return s.nw.name }

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Accepted: s.n.accepted.Load(), Active: s.n.active.Load(), Closed: s.n.closed.Load(),
		IdleTimeouts: s.n.idle.Load(), WriteTimeouts: s.n.write.Load(), ConnErrors: s.n.connErr.Load(),
		AcceptErrors: s.n.acceptErr.Load(), Datagrams: s.n.dgrams.Load(), Unanswered: s.n.unanswered.Load(),
	}
}

// ErrServerClosed is returned by Serve when called after Shutdown or Close,
// or a second time.
var ErrServerClosed = errors.New("echo: server closed")

// Serve answers clients until Shutdown or Close, then returns nil. It
// survives every per-connection failure and retries a failing accept(2)
// (EMFILE, ENFILE, ...) with a backoff from 5ms up to 1s, so it returns an
// error only for a failure of the server itself (epoll_create1, ...).
func (s *Server) Serve() error {
	s.mu.Lock()
	if s.served || s.stopping.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.cfg.Loop == LoopEpoll {
		// Made under mu, so that a concurrent Shutdown finds it to wake.
		l, err := newEloop(s)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.loop = l
	}
	s.served = true
	s.mu.Unlock()
	defer close(s.done)
	if s.loop != nil {
		return s.loop.run()
	}
	if s.nw.connected() {
		return s.serveConns()
	}
	return s.serveDgram()
}

// Shutdown stops the server gracefully: it stops accepting (it accepts the
// clients already connected in the listen backlog, then closes the
// listening socket, so new clients are refused), answers every message a
// client has already sent, half-closes each connection (shutdown(SHUT_WR),
// so the client reads all its answers and then EOF), waits up to a second
// for the client to close, and closes. It returns when every connection is
// closed, or when ctx ends or the Grace period passes, whichever is first;
// then it closes what is left and returns the context's error. A unix
// socket path the server made is removed.
func (s *Server) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Grace)
	defer cancel()
	if !s.stop() {
		s.closeAll()
		return nil
	}
	select {
	case <-s.done:
		s.closeAll()
		return nil
	case <-ctx.Done():
	}
	s.force()
	<-s.done
	s.closeAll()
	return ctx.Err()
}

// Close stops the server at once: every connection is closed, answered or
// not. It is Shutdown with no grace.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// stop begins a graceful stop and reports whether Serve runs (or ran), so
// that there is something to wait for. A Serve called later fails.
func (s *Server) stop() bool {
	s.mu.Lock()
	serving := s.served
	first := s.stopping.CompareAndSwap(false, true)
	s.mu.Unlock()
	if !first {
		return serving
	}
	close(s.quit)
	if s.loop != nil {
		s.loop.wake()
		return serving
	}
	if !serving {
		return false
	}
	s.pokeAll()
	return serving
}

// force ends a graceful stop whose time is up.
func (s *Server) force() {
	if s.cfg.Loop == LoopEpoll {
		if s.loop != nil {
			s.loop.force.Store(true)
			s.loop.wake()
		}
		return
	}
	s.closeListener()
	s.mu.Lock()
	for sc := range s.conns {
		sc.c.Close()
	}
	s.mu.Unlock()
}

// closeAll releases the listening socket and its path, after Serve ended.
func (s *Server) closeAll() { s.closeListener() }

func (s *Server) closeListener() {
	s.closeLn.Do(func() {
		s.ln.Close()
		s.path.remove()
	})
}

func (s *Server) logf(format string, args ...any) {
	if s.log != nil {
		s.log.Printf(format, args...)
	}
}

// acceptBackoff is the wait after the n-th failed accept in a row: 5ms
// doubling to 1s.
func acceptBackoff(prev time.Duration) time.Duration {
	if prev == 0 {
		return 5 * time.Millisecond
	}
	return min(2*prev, time.Second)
}

// errnoOf returns the errno inside err, or 0.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// unixPath is a socket file the server made, removed on close only while
// it is still the same file (a newer server may have replaced it).
type unixPath struct {
	name     string
	dev, ino uint64
}

func newUnixPath(name string) *unixPath {
	if name == "" || name[0] == '@' {
		return nil // abstract: nothing on disk
	}
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		return nil
	}
	return &unixPath{name: name, dev: uint64(st.Dev), ino: uint64(st.Ino)}
}

func (p *unixPath) remove() {
	if p == nil {
		return
	}
	var st unix.Stat_t
	if err := unix.Stat(p.name, &st); err == nil && uint64(st.Dev) == p.dev && uint64(st.Ino) == p.ino {
		os.Remove(p.name)
	}
}

// removeStale removes a socket file nobody listens on, which a server that
// died without cleaning up leaves behind; bind(2) would fail on it with
// EADDRINUSE. A live socket, or a file that is not a socket, is left for
// bind to refuse.
func removeStale(nw network, path string, logf func(string, ...any)) error {
	if path == "" || path[0] == '@' {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	probe, err := rawsock.Socket(rawsock.AF_UNIX, nw.sotype, 0)
	if err != nil {
		return err
	}
	probe.SetTimeout(time.Second)
	err = probe.Connect(rawsock.UnixAddr(path))
	probe.Close()
	if errors.Is(err, unix.ECONNREFUSED) {
		if err := os.Remove(path); err != nil {
			return err
		}
		logf("removed stale socket %s (nobody listening)", path)
	}
	return nil
}
