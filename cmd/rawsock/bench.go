package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rawsock/rawsock/internal/echobench"
)

func init() {
	register("bench", "echo: rawsock's echo servers against net's and C's, side by side", runBench)
}

const benchUsage = `usage: rawsock bench echo [flags]

Starts each timestamp echo server as a subprocess, and measures them side by
side in one run with a load generator that verifies every reply byte:
rawsock serve in goroutine and --loop epoll mode, examples/net-echo-server
(the standard library's net), examples/epoll-echo-c (built with cc -O2) and
its Go port examples/epoll-echo-go; on request (--servers go-floor) the Go
floor, the C server's loop on bare x/sys/unix. Client and servers are pinned
to one CPU (taskset), so that the figures are stable on a small machine.
Prints a markdown table, then a run of --big connections at once.

Run it from the rawsock source tree (or give --src): it builds the examples.

  rawsock bench echo                       # 1, 16, 256 conns, 64 bytes, best of 3 x 2 s
  rawsock bench echo --duration 5s --big 10000
  rawsock bench echo --servers net,c --conns 1 --duration 1s --big 0
  rawsock bench echo --servers c,go-floor,rawsock-epoll --big 0
  rawsock bench echo --server 'mine=./myserver -port {port}'

flags:
`

// runBench is flags and wiring over internal/echobench, which does the
// building, pinning and measuring.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	cfg := echobench.Config{}
	conns := fs.String("conns", "1,16,256", "connection counts, one table row per server each")
	fs.IntVar(&cfg.Size, "size", 64, "message bytes")
	fs.DurationVar(&cfg.Duration, "duration", 2*time.Second, "measured time per cell and round")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "rounds of every cell; the table shows each cell's best")
	fs.DurationVar(&cfg.Warmup, "warmup", 500*time.Millisecond, "unmeasured time before each cell")
	fs.IntVar(&cfg.Big, "big", 10000, "connections held at once in the last run, every byte verified (0: skip)")
	fs.DurationVar(&cfg.BigDuration, "big-duration", 3*time.Second, "measured time of the --big run")
	fs.IntVar(&cfg.CPU, "cpu", 0, "CPU to pin client and servers to (-1: no pinning)")
	servers := fs.String("servers", strings.Join(echobench.ServerKeys(), ","), "servers to measure")
	fs.Func("server", "another server to measure, as 'NAME=COMMAND ARGS' with {host} and {port} in ARGS (repeatable)", func(v string) error {
		srv, err := echobench.ParseServer(v)
		if err == nil {
			cfg.Extra = append(cfg.Extra, srv)
		}
		return err
	})
	fs.StringVar(&cfg.Src, "src", "", "rawsock source tree holding examples/ (default: found from the current directory up)")
	if len(args) == 0 || args[0] != "echo" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return 0
		}
		fmt.Fprintln(stderr, "rawsock bench: want 'echo' (the only benchmark); see rawsock bench -h")
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	if cfg.Conns, err = benchParseInts(*conns); err != nil {
		fmt.Fprintln(stderr, "rawsock bench: --conns:", err)
		return 2
	}
	cfg.Servers = strings.Split(*servers, ",")
	for _, s := range cfg.Servers {
		if echobench.ServerByKey(s) == nil {
			fmt.Fprintf(stderr, "rawsock bench: --servers: unknown server %q (have %s)\n", s, strings.Join(echobench.ServerKeys(), ","))
			return 2
		}
	}
	if cfg.Size <= 0 || cfg.Duration <= 0 || cfg.Rounds <= 0 || cfg.Big < 0 {
		fmt.Fprintln(stderr, "rawsock bench: --size, --duration and --rounds must be positive, --big not negative")
		return 2
	}
	if cfg.Exe, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "rawsock bench:", err)
		return 1
	}
	if _, ok := commands["serve"]; !ok {
		cfg.Exe = "" // the rawsock serve rows are skipped
	}
	// The process-wide limit is the command's choice, not the library's.
	if err := echobench.RaiseNofile(cfg.Files()); err != nil {
		fmt.Fprintf(stderr, "rawsock bench: %v (needed for --big %d)\n", err, cfg.Big)
		return 1
	}
	if err := echobench.Run(cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "rawsock bench:", err)
		return 1
	}
	return 0
}

func benchParseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
