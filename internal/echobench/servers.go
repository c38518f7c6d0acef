package echobench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// Server is one server the bench knows how to build and start.
type Server struct {
	Key  string // --servers name
	Name string // table row
	// Src: Argv builds it from the source tree (an example, or the floor),
	// so a missing tree is why it cannot start.
	Src bool
	// Argv returns the command line serving on 127.0.0.1:port, building
	// what it needs into dir first.
	Argv func(cfg Config, dir string, port int) ([]string, error)
}

var servers = []Server{
	{"rawsock", "rawsock serve", false, func(cfg Config, _ string, port int) ([]string, error) {
		return serveArgv(cfg, port)
	}},
	{"rawsock-epoll", "rawsock serve --loop epoll", false, func(cfg Config, _ string, port int) ([]string, error) {
		argv, err := serveArgv(cfg, port)
		return append(argv, "--loop", "epoll"), err
	}},
	{"net", "net (examples/net-echo-server)", true, func(cfg Config, dir string, port int) ([]string, error) {
		bin, err := goBuild(cfg.Src, "examples/net-echo-server", dir)
		return []string{bin, "-addr", "127.0.0.1:" + strconv.Itoa(port)}, err
	}},
	{"c", "C epoll (examples/epoll-echo-c)", true, func(cfg Config, dir string, port int) ([]string, error) {
		bin, err := ccBuild(cfg.Src, dir)
		return []string{bin, "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, err
	}},
	{"go-epoll", "Go port on rawsock.Epoll (examples/epoll-echo-go)", true, func(cfg Config, dir string, port int) ([]string, error) {
		bin, err := goBuild(cfg.Src, "examples/epoll-echo-go", dir)
		return []string{bin, "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, err
	}},
	// Not in the default set: the Go runtime's floor, for the question how
	// much of a gap to C is the library's.
	{"go-floor", "Go floor: x/sys/unix only (internal/echobench/floor)", true, func(cfg Config, dir string, port int) ([]string, error) {
		bin, err := goBuild(cfg.Src, "internal/echobench/floor", dir)
		return []string{bin, "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, err
	}},
}

// Servers returns the servers the bench knows, in table order.
func Servers() []Server { return append([]Server(nil), servers...) }

// ServerKeys returns the --servers names.
func ServerKeys() []string {
	keys := make([]string, len(servers))
	for i, s := range servers {
		keys[i] = s.Key
	}
	return keys
}

// ServerByKey returns the server named key, or nil.
func ServerByKey(key string) *Server {
	for i := range servers {
		if servers[i].Key == key {
			return &servers[i]
		}
	}
	return nil
}

// ParseServer reads another server to measure, "NAME=COMMAND ARGS", with
// {host} and {port} in ARGS replaced by where it is to listen.
func ParseServer(v string) (Server, error) {
	name, cmdline, ok := strings.Cut(v, "=")
	argv := strings.Fields(cmdline)
	if !ok || name == "" || len(argv) == 0 || !strings.Contains(cmdline, "{port}") {
		return Server{}, errors.New("want NAME=COMMAND ARGS, with {port} in ARGS")
	}
	return Server{Key: name, Name: name, Argv: func(_ Config, _ string, port int) ([]string, error) {
		out := make([]string, len(argv))
		for i, a := range argv {
			out[i] = strings.NewReplacer("{host}", "127.0.0.1", "{port}", strconv.Itoa(port)).Replace(a)
		}
		return out, nil
	}}, nil
}

func serveArgv(cfg Config, port int) ([]string, error) {
	if cfg.Exe == "" {
		return nil, errors.New("this rawsock binary has no serve command yet")
	}
	return []string{cfg.Exe, "serve", "--addr", "127.0.0.1:" + strconv.Itoa(port), "-q",
		"--max-conns", strconv.Itoa(max(cfg.Big, 1000) + 1000)}, nil
}

// findSrc returns the rawsock source tree: src if given, else the first
// directory from the current one up whose go.mod is rawsock's.
func findSrc(src string) (string, error) {
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

// goBuild builds the package at pkg (a path in the source tree) into dir.
func goBuild(src, pkg, dir string) (string, error) {
	if src == "" {
		return "", errors.New("no source tree")
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "./"+pkg)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s: %v: %s", pkg, err, firstLine(out))
	}
	return bin, nil
}

func ccBuild(src, dir string) (string, error) {
	if src == "" {
		return "", errors.New("no source tree")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		return "", errors.New("no C compiler (cc) in PATH")
	}
	bin := filepath.Join(dir, "epoll-echo-c")
	cmd := exec.Command("cc", "-O2", "-o", bin, filepath.Join(src, "examples", "epoll-echo-c", "server.c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cc -O2 examples/epoll-echo-c/server.c: %v: %s", err, firstLine(out))
	}
	return bin, nil
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

// running is a started server.
type running struct {
	srv    *Server
	addr   string
	cmd    *exec.Cmd
	stderr *tail
	exited chan struct{}
}

// tail keeps the last bytes a server wrote to stderr.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// start runs argv pinned to cpu (taskset -c) and waits until it accepts.
func start(srv *Server, argv []string, port, cpu int) (*running, error) {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	r := &running{srv: srv, addr: "127.0.0.1:" + strconv.Itoa(port), stderr: &tail{}, exited: make(chan struct{})}
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
		if err := probe(sa); err == nil {
			return r, nil
		} else if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("not accepting on %s after 10s: %v", r.addr, err)
		}
		select {
		case <-r.exited:
			return nil, fmt.Errorf("exited at start (%v): %s", r.cmd.ProcessState, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// probe connects once and closes.
func probe(sa unix.Sockaddr) error {
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	s.SetTimeout(time.Second)
	return s.Connect(sa)
}

// alive says why the server is gone, or nil.
func (r *running) alive() error {
	select {
	case <-r.exited:
		return fmt.Errorf("server exited (%v): %s", r.cmd.ProcessState, r.stderr)
	default:
		return nil
	}
}

// stop sends SIGTERM, then SIGKILL after 5s, to the server's PID.
func (r *running) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// freePort asks the kernel for a port nobody holds.
func freePort() (int, error) {
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
