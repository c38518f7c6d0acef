package echobench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// Config is what "rawsock bench echo" measures.
type Config struct {
	Conns       []int         // connection counts, one table row per server each
	Size        int           // message bytes
	Duration    time.Duration // measured time per cell and round
	Rounds      int           // rounds of every cell; the table shows each cell's best
	Warmup      time.Duration // unmeasured time before each cell
	Big         int           // connections held at once in the last run (0: skip)
	BigDuration time.Duration // measured time of the Big run
	CPU         int           // CPU to pin client and servers to (-1: no pinning)
	Servers     []string      // keys of the servers to measure (see ServerKeys)
	Extra       []Server      // other servers to measure (see ParseServer)
	Src         string        // rawsock source tree holding examples/ ("": found from the working directory up)
	Exe         string        // the rawsock binary for "rawsock serve" ("": those rows are skipped)
}

// Files is how many open files a run needs: the most connections held at
// once, and room for the rest. Run does not raise RLIMIT_NOFILE itself; its
// caller does, with RaiseNofile.
func (cfg Config) Files() uint64 {
	n := cfg.Big
	for _, c := range cfg.Conns {
		n = max(n, c)
	}
	return uint64(n) + 1024
}

// Run builds and starts every server in cfg (one that cannot start is
// reported on stdout, not fatal), measures them side by side in
// interleaved rounds with Load, and prints markdown tables to stdout. With
// cfg.CPU >= 0 it pins the servers (taskset -c) and this whole process,
// GOMAXPROCS included, to that CPU, and leaves it pinned.
func Run(cfg Config, stdout, stderr io.Writer) error {
	src, srcErr := findSrc(cfg.Src)
	cfg.Src = src
	dir, err := os.MkdirTemp("", "rawsock-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Build and start every server; one that cannot is reported, not fatal.
	var live []*running
	defer func() {
		for _, r := range live {
			r.stop()
		}
	}()
	pinned := cfg.CPU >= 0
	if pinned {
		if _, err := exec.LookPath("taskset"); err != nil {
			fmt.Fprintf(stderr, "rawsock bench: no taskset (util-linux) in PATH: nothing is pinned\n")
			cfg.CPU, pinned = -1, false
		}
	}
	var todo []*Server
	for _, key := range cfg.Servers {
		srv := ServerByKey(key)
		if srv == nil {
			return fmt.Errorf("unknown server %q", key)
		}
		todo = append(todo, srv)
	}
	for i := range cfg.Extra {
		todo = append(todo, &cfg.Extra[i])
	}
	for _, srv := range todo {
		port, err := freePort()
		var argv []string
		if err == nil {
			argv, err = srv.Argv(cfg, dir, port)
		}
		if err != nil && srcErr != nil && srv.Src {
			err = srcErr
		}
		var r *running
		if err == nil {
			r, err = start(srv, argv, port, cfg.CPU)
		}
		if err != nil {
			fmt.Fprintf(stdout, "skipped %s: %v\n", srv.Name, err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return errors.New("no server started")
	}
	if pinned {
		if err := pinSelf(cfg.CPU); err != nil {
			return fmt.Errorf("pinning the client to CPU %d: %v", cfg.CPU, err)
		}
	}
	pin := "unpinned"
	if cfg.CPU >= 0 {
		pin = fmt.Sprintf("client and servers pinned to CPU %d (taskset -c %d)", cfg.CPU, cfg.CPU)
	}
	fmt.Fprintf(stdout, "\n%d-byte messages, best of %d rounds of %v per cell after %v warmup, %s; %s %s/%s, %d CPUs; every reply byte verified\n\n",
		cfg.Size, cfg.Rounds, cfg.Duration, cfg.Warmup, pin, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())

	// Interleave the servers within each round, so that a noisy neighbour
	// on the machine touches all of them alike, and keep each cell's best
	// round: noise only ever slows a round down. A failure in any round
	// fails the cell.
	var cells []cell
	for round := 0; round < cfg.Rounds; round++ {
		i := 0
		for _, n := range cfg.Conns {
			for _, r := range live {
				c := measure(r, LoadConfig{Addr: r.addr, Conns: n, Size: cfg.Size, Duration: cfg.Duration, Warmup: cfg.Warmup})
				switch {
				case round == 0:
					cells = append(cells, c)
				case cells[i].err == nil && (c.err != nil || c.res.Rate() > cells[i].res.Rate()):
					cells[i] = c
				}
				i++
			}
		}
	}
	printTable(stdout, cells)
	fmt.Fprintln(stdout)
	printCost(stdout, cells)
	fmt.Fprintln(stdout)
	printTargets(stdout, cells, cfg.Conns, "round trips/s", cell.wall)
	printTargets(stdout, cells, cfg.Conns, "per CPU-second", cell.cpuRate)
	printTargets(stdout, cells, cfg.Conns, "per server CPU-second", cell.serverRate)

	if cfg.Big > 0 {
		fmt.Fprintf(stdout, "\n%d connections at once, %d-byte messages, %v each, every reply byte verified:\n\n", cfg.Big, cfg.Size, cfg.BigDuration)
		var big []cell
		for _, r := range live {
			big = append(big, measure(r, LoadConfig{Addr: r.addr, Conns: cfg.Big, Size: cfg.Size,
				Duration: cfg.BigDuration, Timeout: 30 * time.Second, ConnectParallel: 256}))
		}
		printBig(stdout, big)
	}
	return nil
}

func measure(r *running, lc LoadConfig) cell {
	c := cell{server: r.srv.Name, conns: lc.Conns}
	if c.err = r.alive(); c.err != nil {
		return c
	}
	if lc.Warmup > 0 {
		warm := lc
		warm.Duration, warm.Warmup = lc.Warmup, 0
		if _, c.err = Load(context.Background(), warm); c.err != nil {
			return c
		}
		lc.Warmup = 0
	}
	cpu0, self0 := cpuTime(r.cmd.Process.Pid), selfCPU()
	c.res, c.err = Load(context.Background(), lc)
	cpu1, self1 := cpuTime(r.cmd.Process.Pid), selfCPU()
	if n := time.Duration(c.res.RoundTrips); n > 0 && cpu0 >= 0 && cpu1 >= 0 {
		c.cpu, c.ccpu = (cpu1-cpu0)/n, (self1-self0)/n
	}
	if err := r.alive(); err != nil && c.err == nil {
		c.err = err
	}
	return c
}
