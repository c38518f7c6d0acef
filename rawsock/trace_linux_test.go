package rawsock_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

const (
	eagainRet = " = -1 EAGAIN (Resource temporarily unavailable)"
	parkedFmt = "  ... fd %d not ready: goroutine parked on the runtime poller (epoll) until %s"
)

// traceStep returns the lines traced since *mark and moves the mark.
func traceStep(w *traceBuf, mark *int) []string {
	l := w.Lines()
	got := l[*mark:]
	*mark = len(l)
	return got
}

// dropWaits removes the EAGAIN-and-park pairs a call may or may not go
// through, depending on whether loopback delivered before it ran: the
// kernel may defer delivery to ksoftirqd on a loaded machine.
func dropWaits(lines []string) []string {
	var out []string
	for i := 0; i < len(lines); i++ {
		if strings.HasSuffix(lines[i], eagainRet) && i+1 < len(lines) && strings.Contains(lines[i+1], "not ready: goroutine parked") {
			i++
			continue
		}
		out = append(out, lines[i])
	}
	return out
}

func expectLines(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: trace\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func port(t *testing.T, sa unix.Sockaddr) int {
	t.Helper()
	ap, ok := rawsock.AddrPortFromSockaddr(sa)
	if !ok {
		t.Fatalf("%v is not an IP address", sa)
	}
	return int(ap.Port())
}

// TestTraceTCPExchange checks the exact trace of the tutorial's exchange:
// decoded flags and addresses, the park on the poller, a timeout's wake,
// and a failure's errno line.
func TestTraceTCPExchange(t *testing.T) {
	w := startTrace(t)
	mark := 0
	l, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	L := l.Fileno()
	sa, _ := rawsock.InetAddr("127.0.0.1", 0)
	if err := l.Bind(sa); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(5); err != nil {
		t.Fatal(err)
	}
	la, err := l.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	P := port(t, la)
	expectLines(t, "listener", traceStep(w, &mark),
		fmt.Sprintf("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = %d", L),
		fmt.Sprintf("bind(%d, {AF_INET, 127.0.0.1:0}) = 0", L),
		fmt.Sprintf("listen(%d, 5) = 0", L),
		fmt.Sprintf("getsockname(%d) = 0 {AF_INET, 127.0.0.1:%d}", L, P))

	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	C := c.Fileno()
	if err := c.Connect(la); err != nil {
		t.Fatal(err)
	}
	// The wake may come early (the poller can report a fresh socket
	// ready): then getpeername says ENOTCONN and the call parks again.
	// The first and last lines are fixed.
	got := traceStep(w, &mark)
	if len(got) < 5 ||
		got[1] != fmt.Sprintf("connect(%d, {AF_INET, 127.0.0.1:%d}) = -1 EINPROGRESS (Operation now in progress)", C, P) ||
		got[2] != fmt.Sprintf(parkedFmt, C, "writable") ||
		got[len(got)-2] != fmt.Sprintf("getsockopt(%d, SOL_SOCKET, SO_ERROR) = 0 [0]", C) ||
		got[len(got)-1] != fmt.Sprintf("getpeername(%d) = 0 {AF_INET, 127.0.0.1:%d}", C, P) {
		t.Errorf("connect: trace\n%s", strings.Join(got, "\n"))
	}

	s, from, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	S := s.Fileno()
	expectLines(t, "accept", traceStep(w, &mark),
		fmt.Sprintf("accept4(%d) = %d {AF_INET, 127.0.0.1:%d}", L, S, port(t, from)))

	// A recv with nothing to read parks; the send wakes it.
	buf := make([]byte, 1024)
	done := make(chan error, 1)
	go func() {
		n, err := s.Recv(buf, 0)
		if err == nil && string(buf[:n]) != "hello" {
			err = fmt.Errorf("got %q", buf[:n])
		}
		done <- err
	}()
	w.waitFor(t, fmt.Sprintf("fd %d not ready", S))
	expectLines(t, "parked recv", traceStep(w, &mark),
		fmt.Sprintf("recvfrom(%d, 1024)"+eagainRet, S),
		fmt.Sprintf(parkedFmt, S, "readable"))
	if _, err := c.Send([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Two goroutines: the two lines may come in either order.
	got = dropWaits(traceStep(w, &mark))
	slices.Sort(got)
	expectLines(t, "send wakes recv", got,
		fmt.Sprintf("recvfrom(%d, 1024) = 5", S),
		fmt.Sprintf("sendto(%d, 5) = 5", C))

	if _, err := s.Send(buf[:5], unix.MSG_NOSIGNAL); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Recvfrom(buf, 0); err != nil {
		t.Fatal(err)
	}
	expectLines(t, "reply", dropWaits(traceStep(w, &mark)),
		fmt.Sprintf("sendto(%d, 5, MSG_NOSIGNAL) = 5", S),
		fmt.Sprintf("recvfrom(%d, 1024) = 5", C))

	// A timeout: the wait and its end are both visible.
	s.SetTimeout(20 * time.Millisecond)
	if _, err := s.Recv(buf, unix.MSG_PEEK); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv with timeout: %v", err)
	}
	expectLines(t, "timeout", traceStep(w, &mark),
		fmt.Sprintf("recvfrom(%d, 1024, MSG_PEEK)"+eagainRet, S),
		fmt.Sprintf(parkedFmt, S, "readable"),
		fmt.Sprintf("  ... fd %d: wait ended: recvfrom: i/o timeout", S))

	// A failure: bind to the port the listener holds.
	x := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err := x.Bind(la); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("bind to a used port: %v", err)
	}
	expectLines(t, "bind failure", traceStep(w, &mark),
		fmt.Sprintf("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = %d", x.Fileno()),
		fmt.Sprintf("bind(%d, {AF_INET, 127.0.0.1:%d}) = -1 EADDRINUSE (Address already in use)", x.Fileno(), P))

	if err := c.Shutdown(rawsock.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	s.Close()
	c.Close()
	l.Close()
	expectLines(t, "close", traceStep(w, &mark),
		fmt.Sprintf("shutdown(%d, SHUT_WR) = 0", C),
		fmt.Sprintf("close(%d) = 0", S),
		fmt.Sprintf("close(%d) = 0", C),
		fmt.Sprintf("close(%d) = 0", L))
}

// TestTraceDecodes checks the other traced calls: socketpair, sendmsg and
// recvmsg with their flags, socket options, a refused socket, a UDP
// datagram's addresses.
func TestTraceDecodes(t *testing.T) {
	w := startTrace(t)
	mark := 0
	a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	A, B := a.Fileno(), b.Fileno()
	expectLines(t, "socketpair", traceStep(w, &mark),
		fmt.Sprintf("socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 0 [%d, %d]", A, B))

	if _, err := a.Sendmsg([]byte("abcdef"), rawsock.UnixRights(A), nil, 0); err != nil {
		t.Fatal(err)
	}
	p, oob := make([]byte, 4), make([]byte, 64)
	_, _, _, _, err = b.Recvmsg(p, oob, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := dropWaits(traceStep(w, &mark))
	cmsgLen := rawsock.CmsgSpace(4)
	expectLines(t, "msg", got,
		fmt.Sprintf("sendmsg(%d, 6, oob %d) = 6", A, cmsgLen),
		fmt.Sprintf("recvmsg(%d, 4, oob 64, MSG_CMSG_CLOEXEC) = 4 cmsg %d [MSG_TRUNC|MSG_CMSG_CLOEXEC]", B, cmsgLen))
	// The fd passed in is ours to close.
	if cms, err := rawsock.ParseControlMessages(oob[:cmsgLen]); err == nil && len(cms) == 1 {
		if fds, err := cms[0].Rights(); err == nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
	}

	if err := a.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_SNDBUF, 8192); err != nil {
		t.Fatal(err)
	}
	v, err := a.GetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_TYPE)
	if err != nil || v != rawsock.SOCK_SEQPACKET {
		t.Fatal(v, err)
	}
	if _, err := a.GetsockoptInt(rawsock.SOL_SOCKET, 9999); err == nil {
		t.Fatal("getsockopt of an unknown option succeeded")
	}
	expectLines(t, "sockopt", traceStep(w, &mark),
		fmt.Sprintf("setsockopt(%d, SOL_SOCKET, SO_SNDBUF, 8192) = 0", A),
		fmt.Sprintf("getsockopt(%d, SOL_SOCKET, SO_TYPE) = 0 [5]", A),
		fmt.Sprintf("getsockopt(%d, SOL_SOCKET, 9999) = -1 ENOPROTOOPT (Protocol not available) [0]", A))

	if _, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_SEQPACKET, 0); err == nil {
		t.Fatal("AF_INET SOCK_SEQPACKET opened")
	}
	expectLines(t, "refused", traceStep(w, &mark),
		"socket(AF_INET, SOCK_SEQPACKET|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = -1 ESOCKTNOSUPPORT (Socket type not supported)")

	// FromFD of a pipe: the copy it made is closed, and the trace shows it.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	mark = len(w.Lines())
	if _, err := rawsock.FromFD(int(pr.Fd())); !errors.Is(err, unix.ENOTSOCK) {
		t.Fatalf("FromFD(pipe): %v", err)
	}
	got = traceStep(w, &mark)
	var dup int
	if len(got) > 0 {
		fmt.Sscanf(got[0][strings.LastIndex(got[0], "= ")+2:], "%d", &dup)
	}
	expectLines(t, "FromFD of a pipe", got,
		fmt.Sprintf("fcntl(%d, F_DUPFD_CLOEXEC, 0) = %d", pr.Fd(), dup),
		fmt.Sprintf("getsockopt(%d, SOL_SOCKET, SO_DOMAIN) = -1 ENOTSOCK (Socket operation on non-socket) [0]", dup),
		fmt.Sprintf("close(%d) = 0", dup))

	u1 := socktest.BoundUDP(t, rawsock.AF_INET)
	u2 := socktest.BoundUDP(t, rawsock.AF_INET)
	mark = len(w.Lines())
	a2, _ := u2.Getsockname()
	a1, _ := u1.Getsockname()
	if _, err := u1.Sendto([]byte("dgram"), unix.MSG_DONTWAIT, a2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := u2.Recvfrom(p, unix.MSG_TRUNC); err != nil {
		t.Fatal(err)
	}
	expectLines(t, "udp", dropWaits(traceStep(w, &mark)),
		fmt.Sprintf("getsockname(%d) = 0 {AF_INET, 127.0.0.1:%d}", u2.Fileno(), port(t, a2)),
		fmt.Sprintf("getsockname(%d) = 0 {AF_INET, 127.0.0.1:%d}", u1.Fileno(), port(t, a1)),
		fmt.Sprintf("sendto(%d, 5, MSG_DONTWAIT, {AF_INET, 127.0.0.1:%d}) = 5", u1.Fileno(), port(t, a2)),
		fmt.Sprintf("recvfrom(%d, 4, MSG_TRUNC) = 5 {AF_INET, 127.0.0.1:%d}", u2.Fileno(), port(t, a1)))
}

// TestTraceOff checks that SetTrace(nil) stops the lines.
func TestTraceOff(t *testing.T) {
	w := startTrace(t)
	rawsock.SetTrace(nil)
	if rawsock.Tracing() {
		t.Fatal("Tracing() after SetTrace(nil)")
	}
	socktest.Pair(t, rawsock.SOCK_STREAM)
	if l := w.Lines(); len(l) != 0 {
		t.Errorf("trace off printed %q", l)
	}
}

// tcpExchange is the tutorial's exchange in one goroutine, so that the
// order of its syscalls is fixed: the strace test runs it in a child.
func tcpExchange() error {
	var err error
	check := func(e error) {
		if err == nil {
			err = e
		}
	}
	l, e := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if e != nil {
		return e
	}
	defer l.Close()
	sa, _ := rawsock.InetAddr("127.0.0.1", 0)
	check(l.Bind(sa))
	check(l.Listen(5))
	la, e := l.Getsockname()
	check(e)
	c, e := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if e != nil {
		return e
	}
	defer c.Close()
	check(c.Connect(la))
	if err != nil {
		return err
	}
	s, _, e := l.Accept()
	if e != nil {
		return e
	}
	defer s.Close()
	buf := make([]byte, 1024)
	_, e = c.Send([]byte("hello"), 0)
	check(e)
	n, e := s.Recv(buf, 0)
	check(e)
	_, e = s.Send(buf[:n], 0)
	check(e)
	_, _, e = c.Recvfrom(buf, 0)
	check(e)
	check(c.Shutdown(rawsock.SHUT_WR))
	n, e = s.Recv(buf, 0)
	check(e)
	if n != 0 {
		check(fmt.Errorf("recv after shutdown: %d bytes", n))
	}
	x, e := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if e != nil {
		return e
	}
	if e := x.Bind(la); !errors.Is(e, unix.EADDRINUSE) {
		check(fmt.Errorf("bind to a used port: %v", e))
	}
	check(x.Close())
	return err
}

var callRE = regexp.MustCompile(`^([a-z0-9_]+)\((\d*)`)

// syscallList reduces trace or strace lines to "name(fd" keys, keeping a
// close only for an fd a socket call opened: the runtime closes other
// files of its own.
func syscallList(lines []string) []string {
	open := map[string]bool{}
	var out []string
	for _, line := range lines {
		m := callRE.FindStringSubmatch(line)
		if m == nil {
			continue // waits, resumed halves, signals, exits
		}
		name, fd := m[1], m[2]
		switch name {
		case "close":
			if !open[fd] {
				continue
			}
			delete(open, fd)
		case "socket", "accept4", "accept":
			if i := strings.LastIndex(line, " = "); i >= 0 {
				r := strings.Fields(line[i+3:])
				if len(r) > 0 && r[0] != "-1" {
					open[r[0]] = true
				}
			}
		}
		out = append(out, name+"("+fd)
	}
	return out
}

// TestOneCallOneSyscall runs the exchange under strace, traced through
// RAWSOCK_TRACE=1, and checks that the network syscalls the kernel saw are
// exactly those the trace printed: no hidden getsockopt(SO_PROTOCOL) per
// accept or recvfrom.
func TestOneCallOneSyscall(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (apt-get install strace): cannot compare the trace with the kernel's view")
	}
	if testing.Short() {
		t.Skip("runs a child under strace; skipped in -short mode")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command(strace, "-f", "-o", out, "-e", "trace=network,close", exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=exchange", "RAWSOCK_TRACE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "ptrace") || strings.Contains(stderr.String(), "PTRACE") {
			t.Skipf("strace cannot trace here (ptrace refused): %s", firstLine(stderr.String()))
		}
		t.Fatalf("strace child: %v\n%s", err, stderr.String())
	}
	var traced []string
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		traced = append(traced, sc.Text())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var straced []string
	for _, line := range strings.Split(string(raw), "\n") {
		// "PID call(...)": drop the pid strace -f prefixes.
		if f := strings.SplitN(line, " ", 2); len(f) == 2 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				line = strings.TrimLeft(f[1], " ")
			}
		}
		straced = append(straced, line)
	}
	want, got := syscallList(traced), syscallList(straced)
	if len(want) < 15 {
		t.Fatalf("the trace shows only %d calls:\n%s", len(want), strings.Join(traced, "\n"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("strace saw\n%s\nthe trace printed\n%s\n(full strace:\n%s)", strings.Join(got, " "), strings.Join(want, " "), raw)
	}
	for _, line := range straced {
		if strings.Contains(line, "SO_PROTOCOL") {
			t.Errorf("hidden syscall: %s", line)
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
