package rawsock_test

// Benchmarks of the per-call path (issue 2, "Benchmarks"): rawsock against
// the bare syscall on the same fds and against the standard library, as
// sub-benchmarks impl=... of one function, so that benchstat puts the
// variants side by side. Reproduce the README table with
//
//	for i in $(seq 20); do go test -run '^$' -bench . -benchtime=0.5s -count=1 ./rawsock; done | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col '/impl@(net rawsock unix syscall xnet)' bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -filter .name:Trace -col /trace bench.txt
//
// The loop, rather than -count=20, interleaves the variants: -count runs
// each leaf benchmark N times back to back, so a burst of load from another
// process lands on one variant and reads as a difference between them.
//
// Every wait is bounded: the sockets get an absolute deadline benchDeadline
// away (never reached in a normal run, it only stops a hang), and every loop
// is bounded by b.N and by the size of one message.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// benchDeadline bounds every blocking call of a benchmark: far beyond any
// -benchtime, so it fires only when something hangs.
const benchDeadline = time.Minute

var benchSizes = []int{64, 1024}

// BenchmarkTCP is one Send of size bytes and the Recv of them, in one
// goroutine on a connected loopback TCP pair: the per-call cost with no
// poller wait (loopback delivers the segment before send returns).
// impl=unix is unix.Write/unix.Read on the same fds, the floor; impl=net is
// net.TCPConn Write and io.ReadFull.
func BenchmarkTCP(b *testing.B) {
	rawsock.SetTrace(nil) // measure the path as users run it, whatever RAWSOCK_TRACE says
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.Run("impl=net", func(b *testing.B) { benchTCPNet(b, size) })
			b.Run("impl=rawsock", func(b *testing.B) { benchTCPRawsock(b, size) })
			b.Run("impl=unix", func(b *testing.B) { benchTCPUnix(b, size) })
		})
	}
}

// tcpPair is socktest.TCPPair with TCP_NODELAY on both ends, as the
// standard library sets it: without it Nagle's algorithm holds the second
// small segment for the delayed ACK and the benchmark measures 40 ms timers.
func tcpPair(b *testing.B) (server, client *rawsock.Conn) {
	server, client = socktest.TCPPair(b, rawsock.AF_INET)
	for _, c := range []*rawsock.Conn{server, client} {
		if err := c.SetsockoptInt(rawsock.IPPROTO_TCP, rawsock.TCP_NODELAY, 1); err != nil {
			b.Fatal(err)
		}
		if err := c.SetDeadline(time.Now().Add(benchDeadline)); err != nil {
			b.Fatal(err)
		}
	}
	return server, client
}

func benchTCPRawsock(b *testing.B, size int) {
	s, c := tcpPair(b)
	msg, buf := benchBufs(b, size)
	for b.Loop() {
		if n, err := c.Send(msg, 0); n != size || err != nil {
			b.Fatalf("send: %d, %v", n, err)
		}
		recvFull(b, s, buf)
	}
}

// cpuMeter starts counting the process's CPU time (user and system, all
// threads, from getrusage(2)); the func it returns reports it as cpu-ns/op
// over b.N ops: for the echo, the CPU both ends spend per datagram.
func cpuMeter(b *testing.B) (stop func()) {
	start := cpuNow(b)
	return func() {
		b.ReportMetric(float64(cpuNow(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuNow(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBufs is a message and a receive buffer of size bytes; it sets the
// benchmark's byte count and turns on allocation counts.
func benchBufs(b *testing.B, size int) (msg, buf []byte) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	return make([]byte, size), make([]byte, size)
}

// recvFull reads len(buf) bytes with Recv; at most len(buf) calls.
func recvFull(b *testing.B, s *rawsock.Conn, buf []byte) {
	for got := 0; got < len(buf); {
		n, err := s.Recv(buf[got:], 0)
		if n <= 0 || err != nil {
			b.Fatalf("recv: %d, %v", n, err)
		}
		got += n
	}
}

func benchTCPUnix(b *testing.B, size int) {
	s, c := tcpPair(b)
	sfd, cfd := s.Fileno(), c.Fileno()
	msg, buf := benchBufs(b, size)
	for b.Loop() {
		n, err := unix.Write(cfd, msg)
		for err == unix.EINTR {
			n, err = unix.Write(cfd, msg)
		}
		if n != size || err != nil {
			b.Fatalf("write: %d, %v", n, err)
		}
		for got, tries := 0, 0; got < size; tries++ {
			if tries > size+16 {
				b.Fatalf("read: %d of %d bytes after %d calls", got, size, tries)
			}
			n, err := unix.Read(sfd, buf[got:])
			switch {
			case err == unix.EINTR:
			case err == unix.EAGAIN:
				// The fd is non-blocking (the poller's); wait as C would.
				waitReadable(b, sfd)
			case n <= 0 || err != nil:
				b.Fatalf("read: %d, %v", n, err)
			default:
				got += n
			}
		}
	}
}

// waitReadable polls fd for input, bounded by benchDeadline.
func waitReadable(b *testing.B, fd int) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, int(benchDeadline/time.Millisecond))
	if err != nil && err != unix.EINTR {
		b.Fatalf("poll: %v", err)
	}
	if n == 0 && err == nil {
		b.Fatalf("poll: fd %d not readable after %v", fd, benchDeadline)
	}
}

// netTCPPair is a loopback pair of the standard library's, accepted end
// first.
func netTCPPair(b *testing.B) (server, client net.Conn) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { server.Close() })
	dl := time.Now().Add(benchDeadline)
	server.SetDeadline(dl)
	client.SetDeadline(dl)
	return server, client
}

func benchTCPNet(b *testing.B, size int) {
	s, c := netTCPPair(b)
	msg, buf := benchBufs(b, size)
	for b.Loop() {
		if n, err := c.Write(msg); n != size || err != nil {
			b.Fatalf("write: %d, %v", n, err)
		}
		if _, err := io.ReadFull(s, buf); err != nil {
			b.Fatalf("read: %v", err)
		}
	}
}

// BenchmarkTCPPingPong is one round trip of 64 bytes through an echo
// goroutine: each side finds its socket empty and parks on the runtime
// poller, so this measures the wait-and-wake path the per-call benchmark
// skips. Both variants use the poller; a bare-syscall version would block
// threads in poll(2) and measure something else.
func BenchmarkTCPPingPong(b *testing.B) {
	b.Run("impl=net", func(b *testing.B) {
		s, c := netTCPPair(b)
		done := echoStream(b, func(p []byte) (int, error) { return s.Read(p) }, s.Write, func() { s.Close() })
		pingPong(b, func(p []byte) error { _, err := c.Write(p); return err },
			func(p []byte) error { _, err := io.ReadFull(c, p); return err })
		c.Close()
		waitDone(b, done)
	})
	b.Run("impl=rawsock", func(b *testing.B) {
		s, c := tcpPair(b)
		done := echoStream(b, func(p []byte) (int, error) { return s.Recv(p, 0) }, func(p []byte) (int, error) { return len(p), s.Sendall(p, 0) }, func() { s.Close() })
		pingPong(b, func(p []byte) error { _, err := c.Send(p, 0); return err },
			func(p []byte) error {
				for got := 0; got < len(p); {
					n, err := c.Recv(p[got:], 0)
					if err == nil && n == 0 {
						err = io.ErrUnexpectedEOF
					}
					if err != nil {
						return err
					}
					got += n
				}
				return nil
			})
		c.Close()
		waitDone(b, done)
	})
}

// echoStream echoes what read returns until it fails or reports the end of
// the stream (the client's close), then calls stop; the returned channel
// carries the error that ended it, nil for the client's close.
func echoStream(b *testing.B, read, write func([]byte) (int, error), stop func()) <-chan error {
	done := make(chan error, 1)
	go func() {
		defer stop()
		buf := make([]byte, 64)
		for {
			n, err := read(buf)
			if n == 0 || errors.Is(err, io.EOF) {
				done <- nil
				return
			}
			if err != nil {
				done <- err
				return
			}
			if _, err := write(buf[:n]); err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

func pingPong(b *testing.B, send, recv func([]byte) error) {
	msg, buf := benchBufs(b, 64)
	for b.Loop() {
		if err := send(msg); err != nil {
			b.Fatal(err)
		}
		if err := recv(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// waitDone waits, bounded, for a server goroutine to end and fails the
// benchmark with its error.
func waitDone(b *testing.B, done <-chan error) {
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			b.Errorf("server: %v", err)
		}
	case <-time.After(5 * time.Second):
		b.Errorf("server goroutine still running 5s after the client stopped")
	}
}

// BenchmarkUDP is one datagram of size bytes sent with SendtoInet and
// received with RecvfromInet (source address decoded) between two unconnected
// loopback UDP sockets. impl=syscall is sendto(2)/recvfrom(2) through
// unix.Syscall6 on the same fds with sockaddrs on the stack, the floor;
// impl=net is net.UDPConn WriteToUDPAddrPort/ReadFromUDPAddrPort.
//
// deadline=none runs them with no deadline on either socket (a watchdog
// closes them instead), the case rawsock's fast path takes; deadline=set
// with the benchmarks' far deadline on every socket.
func BenchmarkUDP(b *testing.B) {
	rawsock.SetTrace(nil)
	for _, dl := range []bool{false, true} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("deadline=%s/size=%d", map[bool]string{false: "none", true: "set"}[dl], size), func(b *testing.B) {
				b.Run("impl=net", func(b *testing.B) { benchUDPNet(b, size, dl) })
				b.Run("impl=rawsock", func(b *testing.B) { benchUDPRawsock(b, size, dl) })
				b.Run("impl=syscall", func(b *testing.B) { benchUDPSyscall(b, size) })
			})
		}
	}
}

// deadlineCloser is a socket of either kind, as noDeadline needs it.
type deadlineCloser interface {
	SetDeadline(time.Time) error
	Close() error
}

// noDeadline clears the sockets' deadlines and bounds a hang with a
// watchdog that closes them after benchDeadline.
func noDeadline(b *testing.B, socks ...deadlineCloser) {
	for _, s := range socks {
		if err := s.SetDeadline(time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	dog := time.AfterFunc(benchDeadline, func() {
		for _, s := range socks {
			s.Close()
		}
	})
	b.Cleanup(func() { dog.Stop() })
}

// udpPair is two bound, unconnected loopback UDP sockets and z's address.
func udpPair(b *testing.B) (a, z *rawsock.Conn, to netip.AddrPort) {
	a, _ = boundUDP(b)
	z, to = boundUDP(b)
	return a, z, to
}

// boundUDP is socktest.BoundUDP with the benchmarks' deadline, and its
// address.
func boundUDP(b *testing.B) (*rawsock.Conn, netip.AddrPort) {
	c := socktest.BoundUDP(b, rawsock.AF_INET)
	if err := c.SetDeadline(time.Now().Add(benchDeadline)); err != nil {
		b.Fatal(err)
	}
	sa, err := c.Getsockname()
	if err != nil {
		b.Fatal(err)
	}
	ap, ok := rawsock.AddrPortFromSockaddr(sa)
	if !ok {
		b.Fatalf("no AddrPort for %v", sa)
	}
	return c, ap
}

func benchUDPRawsock(b *testing.B, size int, deadline bool) {
	a, z, to := udpPair(b)
	if !deadline {
		noDeadline(b, a, z)
	}
	msg, buf := benchBufs(b, size)
	for b.Loop() {
		if _, err := a.SendtoInet(msg, 0, to); err != nil {
			b.Fatal(err)
		}
		if n, from, err := z.RecvfromInet(buf, 0); n != size || err != nil || !from.IsValid() {
			b.Fatalf("recvfrom: %d, %v, %v", n, from, err)
		}
	}
}

func benchUDPSyscall(b *testing.B, size int) {
	a, z, to := udpPair(b)
	afd, zfd := uintptr(a.Fileno()), uintptr(z.Fileno())
	dst := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: to.Addr().As4()}
	putPort(&dst.Port, to.Port())
	msg, buf := benchBufs(b, size)
	for b.Loop() {
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, afd, uintptr(unsafe.Pointer(&msg[0])), uintptr(size), 0,
			uintptr(unsafe.Pointer(&dst)), unix.SizeofSockaddrInet4)
		if e != 0 {
			b.Fatalf("sendto: %v", e)
		}
		var from unix.RawSockaddrInet4
		fromlen := uint32(unix.SizeofSockaddrInet4)
		var n uintptr
		for tries := 0; ; tries++ {
			n, _, e = unix.Syscall6(unix.SYS_RECVFROM, zfd, uintptr(unsafe.Pointer(&buf[0])), uintptr(size), 0,
				uintptr(unsafe.Pointer(&from)), uintptr(unsafe.Pointer(&fromlen)))
			if e == unix.EAGAIN && tries < 16 {
				waitReadable(b, int(zfd))
				continue
			}
			if e != unix.EINTR || tries >= 16 {
				break
			}
		}
		src := netip.AddrPortFrom(netip.AddrFrom4(from.Addr), getPort(&from.Port))
		if e != 0 || int(n) != size || !src.IsValid() {
			b.Fatalf("recvfrom: %d, %v, %v", n, src, e)
		}
	}
}

// putPort and getPort convert a sockaddr's network-order port.
func putPort(p *uint16, port uint16) {
	bp := (*[2]byte)(unsafe.Pointer(p))
	bp[0], bp[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	bp := (*[2]byte)(unsafe.Pointer(p))
	return uint16(bp[0])<<8 | uint16(bp[1])
}

// netUDP is a standard-library UDP socket on loopback port 0.
func netUDP(b *testing.B) *net.UDPConn {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(benchDeadline)); err != nil {
		b.Fatal(err)
	}
	return c
}

func benchUDPNet(b *testing.B, size int, deadline bool) {
	a, z := netUDP(b), netUDP(b)
	if !deadline {
		noDeadline(b, a, z)
	}
	to := z.LocalAddr().(*net.UDPAddr).AddrPort()
	msg, buf := benchBufs(b, size)
	for b.Loop() {
		if _, err := a.WriteToUDPAddrPort(msg, to); err != nil {
			b.Fatal(err)
		}
		if n, from, err := z.ReadFromUDPAddrPort(buf); n != size || err != nil || !from.IsValid() {
			b.Fatalf("read: %d, %v, %v", n, from, err)
		}
	}
}

// BenchmarkTrace is BenchmarkTCP's rawsock case, 64 bytes, with the trace
// off (SetTrace(nil): one atomic load per call) and on into io.Discard (the
// cost of formatting two lines per op). Compare trace=off with
// BenchmarkTCP/size=64/impl=unix for everything rawsock adds, the trace
// check included.
func BenchmarkTrace(b *testing.B) {
	for _, tc := range []struct {
		name string
		w    io.Writer
	}{{"trace=off", nil}, {"trace=discard", io.Discard}} {
		b.Run(tc.name, func(b *testing.B) {
			rawsock.SetTrace(tc.w)
			b.Cleanup(func() { rawsock.SetTrace(nil) })
			benchTCPRawsock(b, 64)
		})
	}
}
