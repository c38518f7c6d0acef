package rawsock_test

// BenchmarkSameSocket drives one kernel socket pair from both sides of the
// comparison: impl=net is the standard library's net.TCPConn, impl=rawsock
// is a *rawsock.Conn made with FromFD from each of net's fds (a dup of the
// same socket). So both variants use the same kernel objects, the same
// buffers and the same TCP state, and the difference between them is the
// user-space path of one call and nothing else. Run it pinned to one CPU,
// in interleaved rounds (see NOTES-speedcore.md for the command):
//
//	go test -c -o /tmp/rawsock.test ./rawsock
//	for i in $(seq 20); do taskset -c 0 /tmp/rawsock.test -test.run '^$' -test.bench SameSocket -test.benchtime=0.5s; done > same.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl same.txt

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

func BenchmarkSameSocket(b *testing.B) {
	rawsock.SetTrace(nil)
	for _, dl := range []string{"none", "set"} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("deadline=%s/size=%d", dl, size), func(b *testing.B) {
				benchSameSocket(b, size, dl == "set")
			})
		}
	}
}

// benchSameSocket runs both variants on one socket pair. With deadline
// false neither side has a deadline (the common case, and rawsock's fast
// path): a watchdog closing the sockets bounds a hang instead. With it,
// both sides have the same far deadline, which rawsock's calls then check
// through the poller.
func benchSameSocket(b *testing.B, size int, deadline bool) {
	ns, nc := netTCPPair(b)
	ns.(*net.TCPConn).SetNoDelay(true)
	nc.(*net.TCPConn).SetNoDelay(true)
	rs, rc := fromNet(b, ns), fromNet(b, nc)
	if !deadline {
		noDeadline(b, ns, nc, rs, rc)
	}
	b.Run("impl=net", func(b *testing.B) {
		msg, buf := benchBufs(b, size)
		for b.Loop() {
			if n, err := nc.Write(msg); n != size || err != nil {
				b.Fatalf("write: %d, %v", n, err)
			}
			if _, err := io.ReadFull(ns, buf); err != nil {
				b.Fatalf("read: %v", err)
			}
		}
	})
	b.Run("impl=rawsock", func(b *testing.B) {
		msg, buf := benchBufs(b, size)
		for b.Loop() {
			if n, err := rc.Send(msg, 0); n != size || err != nil {
				b.Fatalf("send: %d, %v", n, err)
			}
			recvFull(b, rs, buf)
		}
	})
}

// fromNet is a *rawsock.Conn on a dup of c's fd, closed at the end of the
// benchmark; it carries the benchmarks' deadline as c does.
func fromNet(b *testing.B, c net.Conn) *rawsock.Conn {
	sc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	var r *rawsock.Conn
	if cerr := sc.Control(func(fd uintptr) { r, err = rawsock.FromFD(int(fd)) }); cerr != nil {
		b.Fatal(cerr)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if err := r.SetDeadline(time.Now().Add(benchDeadline)); err != nil {
		b.Fatal(err)
	}
	return r
}
