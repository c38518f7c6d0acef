package capture_test

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/capture"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// BenchmarkCapture floods lo, in a namespace of its own, with b.N UDP
// datagrams of 64 bytes (each seen twice on lo: leaving and arriving), sent
// with sendmmsg(2) in batches of 32, paced in 1 ms bursts at a given rate
// of datagrams per second or unpaced, while one goroutine reads them with
// the ring (ReadPacket) or with a plain recvfrom(2) loop on an AF_PACKET
// socket without a ring, given the same filter and the same memory: the
// ring's blocks, or SO_RCVBUFFORCE for the socket's queue. It reports the
// share of packets captured and dropped by the kernel, and the packet rate
// on lo.
//
//	go test -run '^$' -bench Capture -benchtime 300000x ./rawsock/capture
func BenchmarkCapture(b *testing.B) {
	needCapture(b)
	for _, mem := range []int{1 << 20, 8 << 20} {
		for _, rate := range []int{50_000, 200_000, 0} {
			for _, rd := range []struct {
				name string
				open func(b *testing.B, ns nsDoer, prog []bpf.RawInstruction, mem int) reader
			}{
				{"ring", openRing},
				{"recvfrom", openRecvfrom},
			} {
				r := fmt.Sprint(rate)
				if rate == 0 {
					r = "max"
				}
				name := fmt.Sprintf("mem=%dMiB/rate=%s/%s", mem>>20, r, rd.name)
				b.Run(name, func(b *testing.B) { benchCapture(b, rate, mem, rd.open) })
			}
		}
	}
}

type nsDoer interface{ Do(func() error) error }

// reader reads packets until closed; stats returns the kernel's totals.
type reader interface {
	read() error
	close()
	stats() (packets, drops uint64)
}

func benchCapture(b *testing.B, rate, mem int, open func(*testing.B, nsDoer, []bpf.RawInstruction, int) reader) {
	ns := host(b)
	sink := socketIn(b, ns, unix.SOCK_DGRAM, 0, loopback)
	src := socketIn(b, ns, unix.SOCK_DGRAM, 0, loopback)
	psink := port(b, sink)
	r := open(b, ns, udpPortFilter(b, psink), mem)
	var captured atomic.Int64
	rdone := make(chan error, 1)
	go func() {
		for {
			if err := r.read(); err != nil {
				rdone <- err
				return
			}
			captured.Add(1)
		}
	}()
	msgs := make([]rawsock.Message, 32)
	for i := range msgs {
		msgs[i] = rawsock.Message{Buf: make([]byte, 64), Addr: netip.AddrPortFrom(loopback.Addr(), psink)}
	}
	burst := rate / 1000
	b.ResetTimer()
	start := time.Now()
	next := start
	for i, inBurst := 0, 0; i < b.N; {
		if burst > 0 && inBurst >= burst {
			inBurst = 0
			next = next.Add(time.Millisecond)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
		k := min(len(msgs), b.N-i)
		if burst > 0 {
			k = min(k, burst-inBurst)
		}
		n, err := src.Sendmmsg(msgs[:k], 0)
		if err != nil {
			b.Fatal(err)
		}
		i += n
		inBurst += n
	}
	sent := time.Since(start)
	b.StopTimer()
	// Done when nothing more arrives for 100 ms (the ring's blocks are
	// handed over within 8 ms), or after 5 s.
	for last, idle := captured.Load(), time.Now(); time.Since(idle) < 100*time.Millisecond && time.Since(start) < sent+5*time.Second; {
		time.Sleep(10 * time.Millisecond)
		if n := captured.Load(); n != last {
			last, idle = n, time.Now()
		}
	}
	packets, drops := r.stats()
	r.close()
	if err := <-rdone; !errors.Is(err, errReaderClosed) {
		b.Logf("reader: %v", err)
	}
	want := 2 * float64(b.N)
	b.ReportMetric(100*float64(captured.Load())/want, "%captured")
	b.ReportMetric(100*float64(drops)/want, "%dropped")
	b.ReportMetric(want/sent.Seconds(), "pkts/s")
	if packets != uint64(2*b.N) {
		b.Logf("the kernel counted %d packets through the filter, %d sent", packets, 2*b.N)
	}
}

var errReaderClosed = errors.New("closed")

type ringReader struct{ h *capture.Handle }

func openRing(b *testing.B, ns nsDoer, prog []bpf.RawInstruction, mem int) reader {
	var h *capture.Handle
	if err := ns.Do(func() (err error) {
		h, err = capture.Open(capture.Config{Interface: "lo", Filter: prog, RingBlockSize: mem / 8, RingBlocks: 8})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return ringReader{h}
}

func (r ringReader) read() error {
	_, _, err := r.h.ReadPacket()
	if err != nil && r.h.Close() == nil {
		return errReaderClosed
	}
	return err
}
func (r ringReader) close() { r.h.Close() }
func (r ringReader) stats() (uint64, uint64) {
	st, _ := r.h.Stats()
	return st.Packets, st.Drops
}

// recvfromReader is the plain loop: one recvfrom(2) per packet into a
// buffer of its own, the packet socket's queue in between.
type recvfromReader struct {
	c   *rawsock.Conn
	buf []byte
}

func openRecvfrom(b *testing.B, ns nsDoer, prog []bpf.RawInstruction, mem int) reader {
	var c *rawsock.Conn
	err := ns.Do(func() (err error) {
		if c, err = rawsock.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0); err != nil {
			return err
		}
		f := make([]unix.SockFilter, len(prog))
		for i, ins := range prog {
			f[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		}
		fp := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
		err = c.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, unsafe.Slice((*byte)(unsafe.Pointer(&fp)), unsafe.Sizeof(fp)))
		runtime.KeepAlive(f)
		if err == nil {
			err = c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, mem/2) // the kernel doubles it
		}
		if err == nil {
			err = c.Bind(&unix.SockaddrLinklayer{Protocol: unix.ETH_P_ALL<<8 | unix.ETH_P_ALL>>8, Ifindex: 1})
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return &recvfromReader{c: c, buf: make([]byte, 65536)}
}

func (r *recvfromReader) read() error {
	_, err := r.c.Recv(r.buf, 0)
	if err != nil && r.c.Close() == nil {
		return errReaderClosed
	}
	return err
}
func (r *recvfromReader) close() { r.c.Close() }
func (r *recvfromReader) stats() (uint64, uint64) {
	var st unix.TpacketStats
	r.c.GetsockoptBytes(unix.SOL_PACKET, unix.PACKET_STATISTICS, unsafe.Slice((*byte)(unsafe.Pointer(&st)), unsafe.Sizeof(st)))
	return uint64(st.Packets), uint64(st.Drops)
}
