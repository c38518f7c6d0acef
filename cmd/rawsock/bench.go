package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/echo"
	"golang.org/x/sys/unix"
)

func init() {
	register("bench", "echo: rawsock's echo servers against net's and C's, side by side", runBench)
}

const benchUsage = `usage: rawsock bench echo [flags]

Starts each timestamp echo server as a subprocess, and measures them side by
side in one run with echo.Load (every reply byte verified): rawsock serve in
goroutine and --loop epoll mode, examples/net-echo-server (the standard
library's net), examples/epoll-echo-c (built with cc -O2) and its Go port
examples/epoll-echo-go. Client and servers are pinned to one CPU (taskset),
so that the figures are stable on a small machine. Prints a markdown table,
then a run of --big connections at once.

Run it from the rawsock source tree (or give --src): it builds the examples.

  rawsock bench echo                       # 1, 16, 256 conns, 64 bytes, best of 3 x 2 s
  rawsock bench echo --duration 5s --big 10000
  rawsock bench echo --servers net,c --conns 1 --duration 1s --big 0
  rawsock bench echo --server 'mine=./myserver -port {port}'

flags:
`

// benchConfig is what the flags say.
type benchConfig struct {
	conns       []int
	size        int
	duration    time.Duration
	rounds      int
	warmup      time.Duration
	big         int
	bigDuration time.Duration
	cpu         int
	servers     []string
	src         string
	exe         string        // the rawsock binary for "rawsock serve"
	extra       []benchServer // --server
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	cfg := benchConfig{}
	conns := fs.String("conns", "1,16,256", "connection counts, one table row per server each")
	fs.IntVar(&cfg.size, "size", 64, "message bytes")
	fs.DurationVar(&cfg.duration, "duration", 2*time.Second, "measured time per cell and round")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds of every cell; the table shows each cell's best")
	fs.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each cell")
	fs.IntVar(&cfg.big, "big", 10000, "connections held at once in the last run, every byte verified (0: skip)")
	fs.DurationVar(&cfg.bigDuration, "big-duration", 3*time.Second, "measured time of the --big run")
	fs.IntVar(&cfg.cpu, "cpu", 0, "CPU to pin client and servers to (-1: no pinning)")
	servers := fs.String("servers", strings.Join(benchServerKeys(), ","), "servers to benchMeasure")
	fs.Func("server", "another server to measure, as 'NAME=COMMAND ARGS' with {host} and {port} in ARGS (repeatable)", func(v string) error {
		name, cmdline, ok := strings.Cut(v, "=")
		argv := strings.Fields(cmdline)
		if !ok || name == "" || len(argv) == 0 || !strings.Contains(cmdline, "{port}") {
			return errors.New("want NAME=COMMAND ARGS, with {port} in ARGS")
		}
		cfg.extra = append(cfg.extra, benchServer{key: name, name: name, argv: func(_ benchConfig, _ string, port int) ([]string, error) {
			out := make([]string, len(argv))
			for i, a := range argv {
				out[i] = strings.NewReplacer("{host}", "127.0.0.1", "{port}", strconv.Itoa(port)).Replace(a)
			}
			return out, nil
		}})
		return nil
	})
	fs.StringVar(&cfg.src, "src", "", "rawsock source tree holding examples/ (default: found from the current directory up)")
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
	if cfg.conns, err = benchParseInts(*conns); err != nil {
		fmt.Fprintln(stderr, "rawsock bench: --conns:", err)
		return 2
	}
	cfg.servers = strings.Split(*servers, ",")
	for _, s := range cfg.servers {
		if benchServerByKey(s) == nil {
			fmt.Fprintf(stderr, "rawsock bench: --servers: unknown server %q (have %s)\n", s, strings.Join(benchServerKeys(), ","))
			return 2
		}
	}
	if cfg.size <= 0 || cfg.duration <= 0 || cfg.rounds <= 0 || cfg.big < 0 {
		fmt.Fprintln(stderr, "rawsock bench: --size, --duration and --rounds must be positive, --big not negative")
		return 2
	}
	if cfg.exe, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "rawsock bench:", err)
		return 1
	}
	if err := benchEcho(cfg, stdout, stderr); err != nil {
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

// benchServer is one server the bench knows how to build and benchStart.
type benchServer struct {
	key  string // --servers name
	name string // table row
	// argv returns the command line serving on 127.0.0.1:port, building
	// what it needs into dir first.
	argv func(cfg benchConfig, dir string, port int) ([]string, error)
}

var benchServers = []benchServer{
	{"rawsock", "rawsock serve", func(cfg benchConfig, _ string, port int) ([]string, error) {
		return benchServeArgv(cfg, port)
	}},
	{"rawsock-epoll", "rawsock serve --loop epoll", func(cfg benchConfig, _ string, port int) ([]string, error) {
		argv, err := benchServeArgv(cfg, port)
		return append(argv, "--loop", "epoll"), err
	}},
	{"net", "net (examples/net-echo-server)", func(cfg benchConfig, dir string, port int) ([]string, error) {
		bin, err := benchGoBuild(cfg.src, "net-echo-server", dir)
		return []string{bin, "-addr", "127.0.0.1:" + strconv.Itoa(port)}, err
	}},
	{"c", "C epoll (examples/epoll-echo-c)", func(cfg benchConfig, dir string, port int) ([]string, error) {
		bin, err := benchCCBuild(cfg.src, dir)
		return []string{bin, "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, err
	}},
	{"go-epoll", "Go port on rawsock.Epoll (examples/epoll-echo-go)", func(cfg benchConfig, dir string, port int) ([]string, error) {
		bin, err := benchGoBuild(cfg.src, "epoll-echo-go", dir)
		return []string{bin, "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, err
	}},
}

func benchServerKeys() []string {
	keys := make([]string, len(benchServers))
	for i, s := range benchServers {
		keys[i] = s.key
	}
	return keys
}

func benchServerByKey(key string) *benchServer {
	for i := range benchServers {
		if benchServers[i].key == key {
			return &benchServers[i]
		}
	}
	return nil
}

func benchServeArgv(cfg benchConfig, port int) ([]string, error) {
	if _, ok := commands["serve"]; !ok {
		return nil, errors.New("this rawsock binary has no serve command yet")
	}
	return []string{cfg.exe, "serve", "--addr", "127.0.0.1:" + strconv.Itoa(port), "-q",
		"--max-conns", strconv.Itoa(max(cfg.big, 1000) + 1000)}, nil
}

// benchFindSrc returns the rawsock source tree: src if given, else the first
// directory from the current one up whose go.mod is rawsock's.
func benchFindSrc(src string) (string, error) {
	if src != "" {
		return src, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/rawsock/rawsock\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the rawsock source tree (run from it, or pass --src)")
		}
		dir = parent
	}
}

func benchGoBuild(src, name, dir string) (string, error) {
	if src == "" {
		return "", errors.New("no source tree")
	}
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./examples/"+name)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./examples/%s: %v: %s", name, err, benchFirstLine(out))
	}
	return bin, nil
}

func benchCCBuild(src, dir string) (string, error) {
	if src == "" {
		return "", errors.New("no source tree")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		return "", errors.New("no C compiler (cc) in PATH")
	}
	bin := filepath.Join(dir, "epoll-echo-c")
	cmd := exec.Command("cc", "-O2", "-o", bin, filepath.Join(src, "examples", "epoll-echo-c", "server.c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cc -O2 examples/epoll-echo-c/server.c: %v: %s", err, benchFirstLine(out))
	}
	return bin, nil
}

func benchFirstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

// benchRunning is a started server.
type benchRunning struct {
	srv    *benchServer
	addr   string
	cmd    *exec.Cmd
	stderr *benchTail
	exited chan struct{}
}

// benchTail keeps the last bytes a server wrote to stderr.
type benchTail struct {
	mu sync.Mutex
	b  []byte
}

func (t *benchTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *benchTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// benchStart runs argv pinned to cpu (taskset -c) and waits until it accepts.
func benchStart(srv *benchServer, argv []string, port, cpu int) (*benchRunning, error) {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	r := &benchRunning{srv: srv, addr: "127.0.0.1:" + strconv.Itoa(port), stderr: &benchTail{}, exited: make(chan struct{})}
	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Stderr = r.stderr
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		r.cmd.Wait()
		close(r.exited)
	}()
	sa := &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := benchProbe(sa); err == nil {
			return r, nil
		} else if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("not accepting on %s after 10s: %v", r.addr, err)
		}
		select {
		case <-r.exited:
			return nil, fmt.Errorf("exited at benchStart (%v): %s", r.cmd.ProcessState, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// benchProbe connects once and closes.
func benchProbe(sa unix.Sockaddr) error {
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	s.SetTimeout(time.Second)
	return s.Connect(sa)
}

// alive says why the server is gone, or nil.
func (r *benchRunning) alive() error {
	select {
	case <-r.exited:
		return fmt.Errorf("server exited (%v): %s", r.cmd.ProcessState, r.stderr)
	default:
		return nil
	}
}

// stop sends SIGTERM, then SIGKILL after 5s, to the server's PID.
func (r *benchRunning) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// benchFreePort asks the kernel for a port nobody holds.
func benchFreePort() (int, error) {
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := s.Bind(&unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, err
	}
	sa, err := s.Getsockname()
	if err != nil {
		return 0, err
	}
	return sa.(*unix.SockaddrInet4).Port, nil
}

// benchPinSelf pins every thread of this process to cpu, and the Go scheduler
// to one P, as taskset -c would at exec. Threads born while the list is
// walked inherit the mask from a pinned parent on a later pass.
func benchPinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	seen := map[int]bool{}
	for pass := 0; pass < 10; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || seen[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return os.NewSyscallError("sched_setaffinity", err)
			}
			seen[tid] = true
			fresh++
		}
		if fresh == 0 {
			break
		}
	}
	runtime.GOMAXPROCS(1)
	return nil
}

// benchCell is one measurement.
type benchCell struct {
	server string
	conns  int
	res    echo.LoadResult
	cpu    time.Duration // server CPU time per round trip, 0 if unknown
	ccpu   time.Duration // client (this process) CPU time per round trip
	err    error
}

// wall is the measured round trips/s.
func (c benchCell) wall() float64 { return c.res.Rate() }

// cpuRate is round trips per CPU-second of server and client together:
// the rate one CPU they had to themselves would give, whatever else the
// machine ran meanwhile. 0 if unknown.
func (c benchCell) cpuRate() float64 {
	if c.cpu <= 0 || c.ccpu <= 0 {
		return 0
	}
	return float64(time.Second) / float64(c.cpu+c.ccpu)
}

// serverRate is round trips per CPU-second of the server alone: what the
// server would do if the client cost nothing. 0 if unknown.
func (c benchCell) serverRate() float64 {
	if c.cpu <= 0 {
		return 0
	}
	return float64(time.Second) / float64(c.cpu)
}

func benchEcho(cfg benchConfig, stdout, stderr io.Writer) error {
	src, srcErr := benchFindSrc(cfg.src)
	cfg.src = src
	if err := echo.RaiseNofile(uint64(cfg.big) + 1024); err != nil {
		return fmt.Errorf("%v (needed for --big %d)", err, cfg.big)
	}
	dir, err := os.MkdirTemp("", "rawsock-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Build and benchStart every server; one that cannot is reported, not fatal.
	var live []*benchRunning
	defer func() {
		for _, r := range live {
			r.stop()
		}
	}()
	pinned := cfg.cpu >= 0
	if pinned {
		if _, err := exec.LookPath("taskset"); err != nil {
			fmt.Fprintf(stderr, "rawsock bench: no taskset (util-linux) in PATH: nothing is pinned\n")
			cfg.cpu, pinned = -1, false
		}
	}
	var todo []*benchServer
	for _, key := range cfg.servers {
		todo = append(todo, benchServerByKey(key))
	}
	for i := range cfg.extra {
		todo = append(todo, &cfg.extra[i])
	}
	for _, srv := range todo {
		key := srv.key
		port, err := benchFreePort()
		var argv []string
		if err == nil {
			argv, err = srv.argv(cfg, dir, port)
		}
		if err != nil && srcErr != nil && (key == "net" || key == "c" || key == "go-epoll") {
			err = srcErr
		}
		var r *benchRunning
		if err == nil {
			r, err = benchStart(srv, argv, port, cfg.cpu)
		}
		if err != nil {
			fmt.Fprintf(stdout, "skipped %s: %v\n", srv.name, err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return errors.New("no server started")
	}
	if pinned {
		if err := benchPinSelf(cfg.cpu); err != nil {
			return fmt.Errorf("pinning the client to CPU %d: %v", cfg.cpu, err)
		}
	}
	pin := "unpinned"
	if cfg.cpu >= 0 {
		pin = fmt.Sprintf("client and servers pinned to CPU %d (taskset -c %d)", cfg.cpu, cfg.cpu)
	}
	fmt.Fprintf(stdout, "\n%d-byte messages, best of %d rounds of %v per cell after %v warmup, %s; %s %s/%s, %d CPUs; every reply byte verified\n\n",
		cfg.size, cfg.rounds, cfg.duration, cfg.warmup, pin, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())

	// Interleave the servers within each round, so that a noisy neighbour
	// on the machine touches all of them alike, and keep each cell's best
	// round: noise only ever slows a round down. A failure in any round
	// fails the cell.
	var cells []benchCell
	for round := 0; round < cfg.rounds; round++ {
		i := 0
		for _, n := range cfg.conns {
			for _, r := range live {
				c := benchMeasure(r, echo.LoadConfig{Addr: r.addr, Conns: n, Size: cfg.size, Duration: cfg.duration, Warmup: cfg.warmup})
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
	benchPrintTable(stdout, cells)
	fmt.Fprintln(stdout)
	benchPrintCost(stdout, cells)
	fmt.Fprintln(stdout)
	benchPrintTargets(stdout, cells, cfg.conns, "round trips/s", benchCell.wall)
	benchPrintTargets(stdout, cells, cfg.conns, "per CPU-second", benchCell.cpuRate)
	benchPrintTargets(stdout, cells, cfg.conns, "per server CPU-second", benchCell.serverRate)

	if cfg.big > 0 {
		fmt.Fprintf(stdout, "\n%d connections at once, %d-byte messages, %v each, every reply byte verified:\n\n", cfg.big, cfg.size, cfg.bigDuration)
		var big []benchCell
		for _, r := range live {
			big = append(big, benchMeasure(r, echo.LoadConfig{Addr: r.addr, Conns: cfg.big, Size: cfg.size,
				Duration: cfg.bigDuration, Timeout: 30 * time.Second, ConnectParallel: 256}))
		}
		benchPrintBig(stdout, big)
	}
	return nil
}

func benchMeasure(r *benchRunning, lc echo.LoadConfig) benchCell {
	c := benchCell{server: r.srv.name, conns: lc.Conns}
	if c.err = r.alive(); c.err != nil {
		return c
	}
	if lc.Warmup > 0 {
		warm := lc
		warm.Duration, warm.Warmup = lc.Warmup, 0
		if _, c.err = echo.Load(context.Background(), warm); c.err != nil {
			return c
		}
		lc.Warmup = 0
	}
	cpu0, self0 := benchCPUTime(r.cmd.Process.Pid), benchSelfCPU()
	c.res, c.err = echo.Load(context.Background(), lc)
	cpu1, self1 := benchCPUTime(r.cmd.Process.Pid), benchSelfCPU()
	if n := time.Duration(c.res.RoundTrips); n > 0 && cpu0 >= 0 && cpu1 >= 0 {
		c.cpu, c.ccpu = (cpu1-cpu0)/n, (self1-self0)/n
	}
	if err := r.alive(); err != nil && c.err == nil {
		c.err = err
	}
	return c
}

// benchSelfCPU returns the CPU time this process has used, getrusage(2).
func benchSelfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCPUTime returns the CPU time (user and system, all threads) the
// process has used, from /proc/PID/stat, or -1. The kernel counts it in
// USER_HZ ticks, 100 a second.
func benchCPUTime(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// The fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// benchRate returns metric of server at conns, 0 if none.
func benchRate(cells []benchCell, server string, conns int, metric func(benchCell) float64) float64 {
	for _, c := range cells {
		if c.server == server && c.conns == conns && c.err == nil {
			return metric(c)
		}
	}
	return 0
}

func benchRatio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func benchDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
	return d.Round(time.Millisecond).String()
}

var (
	benchNetName = benchServerByKey("net").name
	benchCName   = benchServerByKey("c").name
)

func benchPrintTable(w io.Writer, cells []benchCell) {
	fmt.Fprintln(w, "| server | conns | round trips/s | p50 | p99 | vs net | vs C |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		if c.err != nil {
			fmt.Fprintf(w, "| %s | %d | failed: %s | | | | |\n", c.server, c.conns, benchOneLine(c.err))
			continue
		}
		r := c.wall()
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %s |\n", c.server, c.conns, r, benchDur(c.res.P50), benchDur(c.res.P99),
			benchRatio(r, benchRate(cells, benchNetName, c.conns, benchCell.wall)), benchRatio(r, benchRate(cells, benchCName, c.conns, benchCell.wall)))
	}
}

// benchPrintCost prints what each round trip cost in CPU time: the figure
// a loaded machine disturbs least.
func benchPrintCost(w io.Writer, cells []benchCell) {
	fmt.Fprintln(w, "| server | conns | server CPU per round trip | client CPU per round trip | round trips per CPU-second | vs net | vs C |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, c := range cells {
		r := c.cpuRate()
		if c.err != nil || r == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f | %s | %s |\n", c.server, c.conns, benchDur(c.cpu), benchDur(c.ccpu), r,
			benchRatio(r, benchRate(cells, benchNetName, c.conns, benchCell.cpuRate)), benchRatio(r, benchRate(cells, benchCName, c.conns, benchCell.cpuRate)))
	}
}

// benchPrintTargets checks issue 3's targets: rawsock's faster mode at
// least 1.2x net and 0.8x C at every connection count, on metric.
func benchPrintTargets(w io.Writer, cells []benchCell, conns []int, what string, metric func(benchCell) float64) {
	for _, n := range conns {
		best, mode := 0.0, ""
		for _, key := range []string{"rawsock", "rawsock-epoll"} {
			name := benchServerByKey(key).name
			if r := benchRate(cells, name, n, metric); r > best {
				best, mode = r, name
			}
		}
		if best == 0 {
			fmt.Fprintf(w, "target at %d conns (%s): no rawsock serve figure\n", n, what)
			continue
		}
		line := fmt.Sprintf("target at %d conns (%s): %s %.0f/s", n, what, mode, best)
		if net := benchRate(cells, benchNetName, n, metric); net > 0 {
			line += fmt.Sprintf("; vs net %.2fx (want >= 1.20: %s)", best/net, benchMet(best >= 1.2*net))
		}
		if c := benchRate(cells, benchCName, n, metric); c > 0 {
			line += fmt.Sprintf("; vs C %.2fx (want >= 0.80: %s)", best/c, benchMet(best >= 0.8*c))
		}
		fmt.Fprintln(w, line)
	}
}

func benchMet(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func benchPrintBig(w io.Writer, cells []benchCell) {
	fmt.Fprintln(w, "| server | conns held | round trips | round trips/s | p50 | p99 | verified |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, c := range cells {
		if c.err != nil {
			fmt.Fprintf(w, "| %s | %d | failed: %s | | | | no |\n", c.server, c.res.Conns, benchOneLine(c.err))
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.0f | %s | %s | %v |\n", c.server, c.res.Conns, c.res.RoundTrips, c.res.Rate(),
			benchDur(c.res.P50), benchDur(c.res.P99), benchYesNo(c.res.Verified))
	}
}

func benchYesNo(b bool) string {
	if b {
		return "yes, every byte"
	}
	return "no"
}

func benchOneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	return strings.ReplaceAll(s, "|", "/")
}
