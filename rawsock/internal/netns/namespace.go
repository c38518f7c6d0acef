package netns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
)

// A Namespace is one host or router of a Topology: a named network
// namespace in /run/netns.
type Namespace struct {
	Name   string // the ip-netns(8) name, "rsnetns-PID-SEQ-LABEL"
	Label  string // the name the test gave, such as "r1"
	Router bool   // forwarding is on

	tp    *Topology
	links []*Link // in Connect order; interface i is named "eth<i>"

	mu sync.RWMutex // guards fd against cleanup
	fd int          // open on the namespace file while the namespace exists
	id nsID
}

func (ns *Namespace) String() string { return ns.Name }

// Path returns the namespace file, as nsenter --net=PATH wants it.
func (ns *Namespace) Path() string { return nsPath(ns.Name) }

// Links returns the links of ns in the order Connect made them.
func (ns *Namespace) Links() []*Link { return append([]*Link(nil), ns.links...) }

// Addr4 returns the IPv4 address of ns on its first link (invalid if none).
func (ns *Namespace) Addr4() netip.Addr { return ns.firstAddr(true) }

// Addr6 returns the IPv6 address of ns on its first link (invalid if none).
func (ns *Namespace) Addr6() netip.Addr { return ns.firstAddr(false) }

func (ns *Namespace) firstAddr(v4 bool) netip.Addr {
	if len(ns.links) == 0 {
		return netip.Addr{}
	}
	return ns.links[0].Addr(ns, v4)
}

// Do runs f on a new OS thread that has joined the namespace with
// setns(2), and returns what f returns. Sockets f opens belong to the
// namespace for their whole life and may be used afterwards from any
// goroutine. The thread stays locked and dies with its goroutine, so no other
// goroutine ever runs in the namespace; it is never the main thread, which
// cannot die. A panic in f is raised again, with
// f's stack, on the calling goroutine, so the test's cleanup still runs; f
// must not call t.FailNow (return an error instead).
func (ns *Namespace) Do(f func() error) error {
	type result struct {
		err   error
		panic any
	}
	c := make(chan result, 1)
	goLocked(func() {
		if err := ns.enter(); err != nil {
			c <- result{err: err}
			return
		}
		sent := false
		defer func() {
			if !sent {
				p := recover()
				if p == nil {
					p = "runtime.Goexit (t.FailNow?)"
				}
				c <- result{panic: fmt.Sprintf("netns: panic in %s.Do: %v\n%s", ns.Name, p, debug.Stack())}
			}
		}()
		err := f()
		sent = true
		c <- result{err: err}
	})
	r := <-c
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

func (ns *Namespace) enter() error {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	if ns.fd < 0 {
		return fmt.Errorf("netns: %s: namespace is gone", ns.Name)
	}
	return setns(ns.fd)
}

// Start starts cmd inside the namespace: it is forked from a thread that
// has joined it, so cmd.SysProcAttr (Credential for an unprivileged run, for
// example) applies as usual and no wrapper process is involved. The caller
// waits for cmd; a process still inside at cleanup is killed.
func (ns *Namespace) Start(cmd *exec.Cmd) error {
	return ns.Do(cmd.Start)
}

// Command returns a command that runs name inside the namespace through
// "ip netns exec", usable with Run, Output, CombinedOutput or Start from any
// goroutine; it is killed at cleanup if still running. Use Start instead to
// set cmd.SysProcAttr.Credential: ip netns exec must run as root.
func (ns *Namespace) Command(name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ns.tp.ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// run runs name inside the namespace with stdin and returns its standard
// output; the error carries its standard error.
func (ns *Namespace) run(stdin string, name string, args ...string) (string, error) {
	return runOut(ns, stdin, name, args...)
}

// runOut runs a command, inside ns if ns is not nil, and returns its
// standard output, or an error naming the command with its standard error.
func runOut(ns *Namespace, stdin string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var err error
	if ns != nil {
		err = ns.Start(cmd)
	} else {
		err = cmd.Start()
	}
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		where := ""
		if ns != nil {
			where = " (in " + ns.Name + ")"
		}
		msg := strings.TrimSpace(errb.String())
		if msg != "" {
			msg = ": " + msg
		}
		return out.String(), fmt.Errorf("%s %s%s: %v%s", name, strings.Join(args, " "), where, err, msg)
	}
	return out.String(), nil
}

// ipBatch feeds lines to "ip -batch -" inside the namespace.
func (ns *Namespace) ipBatch(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	_, err := ns.run(strings.Join(lines, "\n")+"\n", "ip", "-batch", "-")
	return err
}

// IP runs ip(8) with args inside the namespace and returns its output, or
// ends the test. For example ns.IP("-j", "route").
func (ns *Namespace) IP(args ...string) string {
	ns.tp.t.Helper()
	out, err := ns.run("", "ip", args...)
	if err != nil {
		ns.tp.t.Fatalf("netns: %v", err)
	}
	return out
}

// Sysctl sets a sysctl inside the namespace, key written with dots
// ("net.ipv4.ping_group_range") or slashes, or ends the test.
func (ns *Namespace) Sysctl(key, value string) {
	ns.tp.t.Helper()
	if err := ns.Do(func() error { return writeSysctl(key, value) }); err != nil {
		ns.tp.t.Fatalf("netns: %s: %v", ns.Name, err)
	}
}

// ReadSysctl returns a sysctl's value inside the namespace, without the
// trailing newline, or ends the test.
func (ns *Namespace) ReadSysctl(key string) string {
	ns.tp.t.Helper()
	var v string
	err := ns.Do(func() (err error) {
		v, err = readSysctl(key)
		return err
	})
	if err != nil {
		ns.tp.t.Fatalf("netns: %s: %v", ns.Name, err)
	}
	return v
}

// sysctlPath maps "net.ipv4.ip_forward" to /proc/sys/net/ipv4/ip_forward.
// /proc/sys/net shows the namespace of the thread that opens the file.
func sysctlPath(key string) (string, error) {
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	key = strings.TrimPrefix(key, "/proc/sys/")
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("bad sysctl name %q", key)
		}
	}
	return "/proc/sys/" + key, nil
}

func writeSysctl(key, value string) error {
	p, err := sysctlPath(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	_, err = io.WriteString(f, value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

func readSysctl(key string) (string, error) {
	p, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", key, err)
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// NextHop returns the gateway and device the namespace's routing table
// picks for dst ("ip route get"); the gateway is dst itself when on-link.
func (ns *Namespace) NextHop(dst netip.Addr) (gw netip.Addr, dev string, err error) {
	out, err := ns.run("", "ip", "-j", "route", "get", dst.String())
	if err != nil {
		return netip.Addr{}, "", err
	}
	var routes []struct {
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return netip.Addr{}, "", fmt.Errorf("ip route get %s: %v in %q", dst, err, out)
	}
	if len(routes) == 0 || routes[0].Dev == "" {
		return netip.Addr{}, "", fmt.Errorf("ip route get %s: no route in %q", dst, out)
	}
	gw = dst
	if routes[0].Gateway != "" {
		if gw, err = netip.ParseAddr(routes[0].Gateway); err != nil {
			return netip.Addr{}, "", fmt.Errorf("ip route get %s: %v", dst, err)
		}
	}
	return gw, routes[0].Dev, nil
}

var errNotSame = errors.New("namespaces belong to different topologies")
