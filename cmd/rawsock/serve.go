package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
	"golang.org/x/sys/unix"
)

func init() {
	register("serve", "the tutorial's timestamp echo server, on tcp, udp and unix sockets", runServe)
}

const serveUsage = `usage: rawsock serve [flags]

The tutorial's timestamp echo server. Each message comes back as ctime(3)
(24 characters, local time, no newline) followed by the message:

    i   ->   Tue Sep 13 19:11:20 2016i

Like the Python server it answers each recv(2) of --bufsize bytes, not each
message: a longer message (or one the network delivers in pieces) comes
back as several ctime+chunk segments, one per recv; on udp, unixpacket and
unixgram a message longer than --bufsize is cut to it, as recvfrom(2) cuts.
It logs "waiting for connection..." and "...connected from: ADDR" to stderr
(-q for silence).

--proto: tcp, tcp6, udp, udp6 take --addr HOST:PORT (default :9999, or
[::]:9999); unix (SOCK_STREAM), unixpacket (SOCK_SEQPACKET) and unixgram
(SOCK_DGRAM) take a path (default $TMPDIR/rawsock-echo-PROTO.sock; @NAME is
in the abstract namespace), removed when the server stops.

--loop: goroutine (default) serves each connection in its own goroutine on
the runtime poller. epoll runs the whole server as one level-triggered
epoll(7) event loop on one thread, the C way, and is the faster of the two.
Both serve every --proto.

Limits: at --max-conns the server stops accepting, and further clients wait
in the listen backlog until one leaves. A client silent for --idle-timeout
is closed. A client that does not read costs one buffered answer and is
dropped after --write-timeout. Out of fds (EMFILE), accept backs off from
5ms to 1s and the server goes on serving. A client that resets costs only
its own connection.

SIGINT or SIGTERM stops gracefully: no new clients; every message already
received is answered; each connection is half-closed, then closed; exit 0
within --grace (a second signal stops at once).

Exit status: 0 after a stop by signal; 2 for a bad flag, or an address that
cannot be used (the line names the syscall, the error and the address:
"rawsock serve: bind: address already in use (:9999)"); 1 if the server
itself fails.

Examples:
  rawsock serve                                 # tcp on :9999, as the tutorial
  rawsock serve --proto unix --addr /tmp/echo.sock
  rawsock serve --loop epoll -q --max-conns 20000
  rawsock serve --proto udp --trace             # every syscall on stderr

flags:
`

func runServe(args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	return serveMain(args, stderr, sigs, nil)
}

// serveMain is rawsock serve with its signals on a channel, so that tests
// can stop it without signalling themselves; ready, if set, gets the
// server once it is listening.
func serveMain(args []string, stderr io.Writer, sigs <-chan os.Signal, ready func(*echo.Server)) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	// Parse errors are reported below in one line; -h prints the usage.
	fs.SetOutput(io.Discard)
	proto := fs.String("proto", "tcp", "network: tcp, tcp6, udp, udp6, unix, unixpacket, unixgram")
	addr := fs.String("addr", "", "HOST:PORT, or a path for the unix networks (default :9999, or $TMPDIR/rawsock-echo-PROTO.sock)")
	bufsize := fs.Int("bufsize", echo.DefaultBufSize, "bytes per recv(2), so per answered chunk")
	maxConns := fs.Int("max-conns", echo.DefaultMaxConns, "connections served at once; more wait in the backlog (0: no limit)")
	idle := fs.Duration("idle-timeout", echo.DefaultIdleTimeout, "close a connection silent this long (0: never)")
	writeTimeout := fs.Duration("write-timeout", echo.DefaultWriteTimeout, "drop a connection whose answer is not taken this long (0: never)")
	grace := fs.Duration("grace", echo.DefaultGrace, "on SIGINT/SIGTERM, time to finish open exchanges")
	loop := fs.String("loop", echo.LoopGoroutine, "engine: goroutine (one per connection) or epoll (one event loop)")
	quiet := fs.Bool("q", false, "no log")
	trace := fs.Bool("trace", false, "print every syscall on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, serveUsage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "rawsock serve: %v (rawsock serve -h for help)\n", err)
		return 2
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "rawsock serve: "+format+"\n", args...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q (the address goes in --addr)", fs.Arg(0))
	case *bufsize < 1:
		return fail("--bufsize %d: want at least 1", *bufsize)
	case *grace < 0 || *idle < 0 || *writeTimeout < 0:
		return fail("durations must not be negative")
	}
	cfg := echo.ServerConfig{Network: *proto, Addr: *addr, BufSize: *bufsize, MaxConns: *maxConns,
		IdleTimeout: *idle, WriteTimeout: *writeTimeout, Grace: *grace, Loop: *loop}
	// The flags' 0 means "none"; the library's zero means its default.
	for _, p := range []*time.Duration{&cfg.IdleTimeout, &cfg.WriteTimeout} {
		if *p == 0 {
			*p = -1
		}
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = -1
	}
	if cfg.Grace == 0 {
		cfg.Grace = time.Nanosecond
	}
	if !*quiet {
		cfg.Log = stderr
	}
	if *trace {
		rawsock.SetTrace(stderr)
		defer rawsock.SetTrace(nil)
	}
	if cfg.Loop == echo.LoopEpoll {
		// The epoll engine wants a second P and leaves GOMAXPROCS to its
		// caller (see echo.ServerConfig.Loop). Put back on return, for the
		// tests that run serveMain in their own process.
		if n := runtime.GOMAXPROCS(0); n < 2 {
			runtime.GOMAXPROCS(2)
			defer runtime.GOMAXPROCS(n)
		}
	}
	s, err := echo.Listen(cfg)
	if err != nil {
		return fail("%v", err)
	}
	if ready != nil {
		ready(s)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	select {
	case err := <-served:
		s.Close()
		fmt.Fprintf(stderr, "rawsock serve: %v\n", err)
		return 1
	case sig := <-sigs:
		if !*quiet {
			fmt.Fprintf(stderr, "rawsock serve: %s: stopping, up to %v to finish (a second signal stops at once)\n", signalName(sig), cfg.Grace)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	err = s.Shutdown(ctx)
	// ErrServerClosed: the signal came before Serve began, which then
	// found the server stopping; that is a clean stop too.
	if serr := <-served; serr != nil && !errors.Is(serr, echo.ErrServerClosed) {
		fmt.Fprintf(stderr, "rawsock serve: %v\n", serr)
		return 1
	}
	if !*quiet {
		st := s.Stats()
		how := "all exchanges finished"
		if err != nil {
			how = "connections still open were closed"
		}
		fmt.Fprintf(stderr, "rawsock serve: stopped after %d connections, %d datagrams; %s\n", st.Accepted, st.Datagrams, how)
	}
	return 0
}

func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}
