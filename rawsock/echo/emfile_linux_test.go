package echo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/echo"
	"golang.org/x/sys/unix"
)

// envChild makes the test binary a server process: "NETWORK LOOP". It
// prints the address, serves until SIGTERM, stops gracefully and prints
// its Stats as JSON.
const envChild = "RAWSOCK_ECHO_TEST_SERVER"

func init() {
	if spec := os.Getenv(envChild); spec != "" {
		os.Exit(childServer(spec))
	}
}

func childServer(spec string) int {
	f := strings.Fields(spec)
	s, err := echo.Listen(echo.ServerConfig{Network: f[0], Addr: "127.0.0.1:0", Loop: f[1], Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		s.Shutdown(context.Background())
	}()
	err = s.Serve()
	json.NewEncoder(os.Stdout).Encode(s.Stats())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// procFDs lists the open fds of process pid.
func procFDs(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot count the server's fds in /proc: %v", err)
	}
	var fds []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			fds = append(fds, n)
		}
	}
	return fds
}

// TestEMFILE runs the server in a child process whose RLIMIT_NOFILE leaves
// room for two connections. Two more clients connect (the kernel completes
// them into the backlog) and send: accept4 fails with EMFILE, and the
// server backs off (5ms doubling to 1s: a handful of attempts, where a
// spinning server would make thousands) without dying. When the first two
// leave, the waiting two are accepted and answered; at the end the child's
// fd count is back where it started, and SIGTERM stops it with status 0.
func TestEMFILE(t *testing.T) {
	for _, loop := range loops {
		t.Run(loop, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envChild+"=tcp "+loop)
			var stderr socktest.SyncBuffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(out)
			if !lines.Scan() {
				cmd.Wait()
				t.Fatalf("no address from the server: %s", stderr.String())
			}
			addr := lines.Text()
			pid := cmd.Process.Pid
			exchange := func(c *echo.Client, msg string) error {
				got, err := c.Exchange([]byte(msg))
				if err == nil && string(got[echo.CtimeLen:]) != msg {
					err = fmt.Errorf("answer %q", got)
				}
				return err
			}
			// Serving (epoll's fds open, the time zone loaded) before the
			// fds are counted.
			warm, err := echo.Dial("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := exchange(warm, "warm-up"); err != nil {
				t.Fatal(err)
			}
			warm.Close()
			// The warm-up connection is closed in the server once the
			// count holds still.
			var base []int
			waitFor(t, "the server's fd count to settle", func() bool {
				prev := len(base)
				base = procFDs(t, pid)
				time.Sleep(20 * time.Millisecond)
				return len(base) == prev
			})
			// The limit: room for exactly two more fds.
			limit, free := 0, 0
			for free < 2 {
				if !hasFD(base, limit) {
					free++
				}
				limit++
			}
			var lim unix.Rlimit
			err = unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &lim)
			if err == nil {
				lim.Cur = uint64(limit)
				err = unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil)
			}
			if err != nil {
				t.Skipf("prlimit(RLIMIT_NOFILE) on the server: %v", err)
			}

			var first []*echo.Client
			for i := range 2 {
				c, err := echo.Dial("tcp", addr, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if err := exchange(c, fmt.Sprint("first ", i)); err != nil {
					t.Fatal(err)
				}
				first = append(first, c)
			}
			answers := make(chan error, 2)
			var waiting []*echo.Client
			for i := range 2 {
				c, err := echo.Dial("tcp", addr, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				waiting = append(waiting, c)
				go func() { answers <- exchange(c, fmt.Sprint("waiting ", i)) }()
			}
			waitFor(t, "accept4 to fail with EMFILE", func() bool {
				return strings.Contains(stderr.String(), "accept4: too many open files; retrying in")
			})
			time.Sleep(500 * time.Millisecond) // let the backoff run
			select {
			case err := <-answers:
				t.Fatalf("a waiting client was answered (%v) with no fd free", err)
			default:
			}
			if len(procFDs(t, pid)) != len(base)+2 {
				t.Errorf("server has %d fds, want %d", len(procFDs(t, pid)), len(base)+2)
			}
			for _, c := range first {
				c.Close()
			}
			for range 2 {
				if err := <-answers; err != nil {
					t.Fatalf("waiting client once fds were free: %v", err)
				}
			}
			for _, c := range waiting {
				c.Close()
			}
			waitFor(t, "the server's fds to return to the count before", func() bool { return len(procFDs(t, pid)) == len(base) })

			cmd.Process.Signal(syscall.SIGTERM)
			var st echo.Stats
			if lines.Scan() {
				json.Unmarshal(lines.Bytes(), &st)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("server after SIGTERM: %v\n%s", err, stderr.String())
			}
			// A spinning server would count thousands.
			if st.AcceptErrors < 1 || st.AcceptErrors > 30 {
				t.Errorf("%d failed accepts, want a few (backoff)\n%s", st.AcceptErrors, stderr.String())
			}
			if st.Accepted != 5 {
				t.Errorf("stats %+v, want 5 accepted", st)
			}
			t.Logf("%d accept4 failures during the EMFILE phase", st.AcceptErrors)
		})
	}
}

func hasFD(fds []int, fd int) bool {
	for _, f := range fds {
		if f == fd {
			return true
		}
	}
	return false
}
