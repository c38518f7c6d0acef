package rawsock_test

// The UDP echo benchmark of issue 2: an echo server goroutine and a client
// keep echoWindow datagrams in flight on loopback. Three implementations run
// side by side: rawsock Recvmmsg/Sendmmsg in batches of echoWindow, x/net's
// ipv4.PacketConn ReadBatch/WriteBatch in the same batches, and net.UDPConn
// one datagram per syscall. One op is one datagram echoed (client to server
// and back), so ns/op and allocs/op are per round trip and datagrams/s is
// b.N over the elapsed time.
//
// Loss: loopback with 64 small datagrams in flight should drop none, but no
// wait is unbounded. The client's reads carry a deadline, re-armed echoWait
// ahead every echoRefresh reads (arming it on every read would add a timer
// update per datagram to net's figure). When it fires after echoes did
// arrive since it was armed, the reads were slow, not silent: it is re-armed
// and the wait goes on. When it fires with no echo since it was armed, a
// whole echoWait passed in silence: the datagrams in flight count as lost
// (the lost/op metric, and a log line), a new epoch starts and a fresh
// window is sent. Each datagram carries its epoch, so a late echo of one
// already counted lost is ignored rather than counted twice. echoMaxStalls
// silent waits in a row fail the benchmark.

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/ipv4"
)

const (
	echoWindow    = 64          // datagrams in flight, and the batch size
	echoSize      = 64          // payload bytes
	echoBufSize   = 2048        // receive buffer per message
	echoWait      = time.Second // a read waiting longer than this is loss
	echoMaxStalls = 5           // timeouts in a row before giving up
	echoRefresh   = 64          // reads between deadline refreshes
)

// echoClient is one implementation's client end.
type echoClient interface {
	// send sends k ≤ echoWindow datagrams to the server, each starting with
	// epoch, and returns once all are sent.
	send(k int, epoch uint64) error
	// recv waits for at least one datagram and returns how many it got.
	recv() (int, error)
	// payload is datagram i of the last recv.
	payload(i int) []byte
	setReadDeadline(t time.Time) error
}

func BenchmarkUDPEcho(b *testing.B) {
	b.Run("impl=net", func(b *testing.B) {
		srv, cl := netUDP(b), netUDP(b)
		to := srv.LocalAddr().(*net.UDPAddr).AddrPort()
		runEcho(b, &netEchoClient{c: cl, to: to, bufs: echoBufs(echoWindow, echoSize), rbuf: make([]byte, echoBufSize)},
			func() error { return netEchoServe(srv, b.N) }, func() { srv.Close() })
	})
	b.Run("impl=rawsock", func(b *testing.B) {
		srv, to := boundUDP(b)
		cl, _ := boundUDP(b)
		runEcho(b, newRawsockEchoClient(cl, to),
			func() error { return rawsockEchoServe(srv, b.N) }, func() { srv.Close() })
	})
	b.Run("impl=xnet", func(b *testing.B) {
		srv, cl := netUDP(b), netUDP(b)
		runEcho(b, newXnetEchoClient(cl, srv.LocalAddr()),
			func() error { return xnetEchoServe(ipv4.NewPacketConn(srv), b.N) }, func() { srv.Close() })
	})
}

// runEcho runs serve in a goroutine and drives cl for b.N echoes. stop
// closes the server's socket, which ends serve if it still waits.
func runEcho(b *testing.B, cl echoClient, serve func() error, stop func()) {
	done := make(chan error, 1)
	go func() { done <- serve() }()
	b.ReportAllocs()
	b.ResetTimer()
	cpuStop := cpuMeter(b)

	var epoch uint64 = 1
	sent, echoed, lost, inflight, stalls, calls := 0, 0, 0, 0, 0, 0
	sinceArm := echoRefresh // reads since the deadline was armed; this arms it first
	fill := func() {
		k := min(echoWindow-inflight, b.N-sent)
		if k <= 0 {
			return
		}
		if err := cl.send(k, epoch); err != nil {
			b.Fatalf("client send: %v", err)
		}
		sent += k
		inflight += k
	}
	fill()
	// Each pass receives at least one datagram, or times out: a re-arm
	// follows a pass that received, a silent wait ends in loss, and at most
	// b.N datagrams are sent, so the loop is bounded in count; the deadline
	// and echoMaxStalls bound it in time.
	for echoed+lost < b.N {
		if sinceArm >= echoRefresh {
			if err := cl.setReadDeadline(time.Now().Add(echoWait)); err != nil {
				b.Fatal(err)
			}
			sinceArm = 0
		}
		sinceArm++
		calls++
		n, err := cl.recv()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			rearm := sinceArm > 1 // echoes came since the deadline was armed
			sinceArm = echoRefresh
			if rearm {
				continue
			}
			stalls++
			if stalls >= echoMaxStalls {
				b.Fatalf("no echo for %d waits of %v: %d of %d echoed, %d lost", stalls, echoWait, echoed, b.N, lost)
			}
			b.Logf("no echo for %v: %d datagrams in flight counted lost", echoWait, inflight)
			lost += inflight
			inflight = 0
			epoch++
			fill()
			continue
		}
		if err != nil {
			b.Fatalf("client recv: %v", err)
		}
		stalls = 0
		for i := range n {
			if p := cl.payload(i); len(p) >= 8 && binary.LittleEndian.Uint64(p) == epoch {
				echoed++
				inflight--
			}
		}
		fill()
	}
	b.StopTimer()
	cpuStop()
	b.ReportMetric(float64(echoed)/b.Elapsed().Seconds(), "datagrams/s")
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
	// How full the client's batches were: 1 for net, up to echoWindow.
	b.ReportMetric(float64(echoed+lost)/float64(calls), "dgrams/read")

	stop()
	waitDone(b, done)
}

// echoBufs is k payloads of size bytes.
func echoBufs(k, size int) [][]byte {
	bufs := make([][]byte, k)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	return bufs
}

// stamp writes epoch into the first k payloads.
func stamp(bufs [][]byte, k int, epoch uint64) {
	for _, p := range bufs[:k] {
		binary.LittleEndian.PutUint64(p, epoch)
	}
}

// The standard library: one datagram per syscall.

type netEchoClient struct {
	c    *net.UDPConn
	to   netip.AddrPort
	bufs [][]byte
	rbuf []byte
	n    int
}

func (e *netEchoClient) send(k int, epoch uint64) error {
	stamp(e.bufs, k, epoch)
	for _, p := range e.bufs[:k] {
		if _, err := e.c.WriteToUDPAddrPort(p, e.to); err != nil {
			return err
		}
	}
	return nil
}

func (e *netEchoClient) recv() (int, error) {
	n, _, err := e.c.ReadFromUDPAddrPort(e.rbuf)
	e.n = n
	if err != nil {
		return 0, err
	}
	return 1, nil
}

func (e *netEchoClient) payload(int) []byte                { return e.rbuf[:e.n] }
func (e *netEchoClient) setReadDeadline(t time.Time) error { return e.c.SetReadDeadline(t) }

// netEchoServe echoes up to max datagrams, or until its socket is closed.
func netEchoServe(c *net.UDPConn, max int) error {
	buf := make([]byte, echoBufSize)
	for range max {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return err
		}
		if _, err := c.WriteToUDPAddrPort(buf[:n], from); err != nil {
			return err
		}
	}
	return nil
}

// rawsock: Recvmmsg and Sendmmsg in batches of echoWindow.

type rawsockEchoClient struct {
	c       *rawsock.Conn
	bufs    [][]byte
	out, in []rawsock.Message
}

func newRawsockEchoClient(c *rawsock.Conn, to netip.AddrPort) *rawsockEchoClient {
	e := &rawsockEchoClient{c: c, bufs: echoBufs(echoWindow, echoSize),
		out: make([]rawsock.Message, echoWindow), in: make([]rawsock.Message, echoWindow)}
	for i := range e.out {
		e.out[i] = rawsock.Message{Buf: e.bufs[i], Addr: to}
		e.in[i] = rawsock.Message{Buf: make([]byte, echoBufSize)}
	}
	return e
}

func (e *rawsockEchoClient) send(k int, epoch uint64) error {
	stamp(e.bufs, k, epoch)
	return sendAll(e.c.Sendmmsg, e.out[:k])
}

// sendAll sends all of msgs with send (Sendmmsg or WriteBatch), which may
// send fewer than asked: each pass sends at least one or fails.
func sendAll[M any](send func([]M, int) (int, error), msgs []M) error {
	for len(msgs) > 0 {
		n, err := send(msgs, 0)
		if err != nil {
			return err
		}
		if n <= 0 {
			return errors.New("batch send sent nothing")
		}
		msgs = msgs[n:]
	}
	return nil
}

func (e *rawsockEchoClient) recv() (int, error) { return e.c.Recvmmsg(e.in, rawsock.MSG_WAITFORONE) }

func (e *rawsockEchoClient) payload(i int) []byte {
	return e.in[i].Buf[:e.in[i].N]
}

func (e *rawsockEchoClient) setReadDeadline(t time.Time) error { return e.c.SetReadDeadline(t) }

// rawsockEchoServe echoes up to max datagrams, batch by batch.
func rawsockEchoServe(c *rawsock.Conn, max int) error {
	in, out := make([]rawsock.Message, echoWindow), make([]rawsock.Message, echoWindow)
	for i := range in {
		in[i].Buf = make([]byte, echoBufSize)
	}
	for served := 0; served < max; {
		n, err := c.Recvmmsg(in, rawsock.MSG_WAITFORONE)
		if err != nil {
			return err
		}
		for i := range n {
			out[i] = rawsock.Message{Buf: in[i].Buf[:in[i].N], Addr: in[i].Addr}
		}
		if err := sendAll(c.Sendmmsg, out[:n]); err != nil {
			return err
		}
		served += n
	}
	return nil
}

// x/net/ipv4: ReadBatch and WriteBatch in batches of echoWindow.

type xnetEchoClient struct {
	p       *ipv4.PacketConn
	bufs    [][]byte
	out, in []ipv4.Message
}

func newXnetEchoClient(c *net.UDPConn, to net.Addr) *xnetEchoClient {
	e := &xnetEchoClient{p: ipv4.NewPacketConn(c), bufs: echoBufs(echoWindow, echoSize),
		out: make([]ipv4.Message, echoWindow), in: make([]ipv4.Message, echoWindow)}
	for i := range e.out {
		e.out[i] = ipv4.Message{Buffers: [][]byte{e.bufs[i]}, Addr: to}
		e.in[i] = ipv4.Message{Buffers: [][]byte{make([]byte, echoBufSize)}}
	}
	return e
}

func (e *xnetEchoClient) send(k int, epoch uint64) error {
	stamp(e.bufs, k, epoch)
	return sendAll(e.p.WriteBatch, e.out[:k])
}

func (e *xnetEchoClient) recv() (int, error) { return e.p.ReadBatch(e.in, 0) }

func (e *xnetEchoClient) payload(i int) []byte {
	return e.in[i].Buffers[0][:e.in[i].N]
}

func (e *xnetEchoClient) setReadDeadline(t time.Time) error { return e.p.SetReadDeadline(t) }

// xnetEchoServe echoes up to max datagrams, batch by batch.
func xnetEchoServe(p *ipv4.PacketConn, max int) error {
	in, out := make([]ipv4.Message, echoWindow), make([]ipv4.Message, echoWindow)
	bufs := echoBufs(echoWindow, echoBufSize)
	for i := range in {
		in[i].Buffers = [][]byte{bufs[i]}
		out[i].Buffers = make([][]byte, 1)
	}
	for served := 0; served < max; {
		n, err := p.ReadBatch(in, 0)
		if err != nil {
			return err
		}
		for i := range n {
			out[i].Buffers[0] = bufs[i][:in[i].N]
			out[i].Addr = in[i].Addr
		}
		if err := sendAll(p.WriteBatch, out[:n]); err != nil {
			return err
		}
		served += n
	}
	return nil
}
