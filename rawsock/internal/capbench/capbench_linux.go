package capbench

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Blast sends f.Count UDP datagrams of f.Size bytes from fd (a UDP socket)
// to dst, paced in 1 ms slices at f.Rate per second, and stops at f.Limit.
// A send the socket refuses for want of buffer (ENOBUFS, EAGAIN) is retried:
// every datagram counted was handed to the kernel.
func Blast(fd int, dst unix.Sockaddr, f Flood) (Result, error) {
	if f.Count <= 0 || f.Size < 0 || f.Rate < 0 || f.Limit <= 0 {
		return Result{}, errBadFlood
	}
	buf := make([]byte, f.Size)
	start := time.Now()
	deadline := start.Add(f.Limit)
	sent := 0
	for sent < f.Count {
		now := time.Now()
		if now.After(deadline) {
			break
		}
		// Datagrams due by now; at most one slice's worth ahead.
		due := f.Count
		if f.Rate > 0 {
			due = min(f.Count, int(now.Sub(start).Seconds()*float64(f.Rate))+max(1, f.Rate/1000))
		}
		if sent >= due {
			time.Sleep(time.Millisecond / 4)
			continue
		}
		for sent < due {
			buf[0] = byte(sent)
			err := unix.Sendto(fd, buf, 0, dst)
			if err == unix.ENOBUFS || err == unix.EAGAIN || err == unix.EINTR {
				break
			}
			if err != nil {
				return Result{Sent: sent, Elapsed: time.Since(start)}, os.NewSyscallError("sendto", err)
			}
			sent++
		}
	}
	return Result{Sent: sent, Elapsed: time.Since(start)}, nil
}

// RecvLoop is the baseline capture: an AF_PACKET SOCK_RAW socket bound to
// every protocol and interface, no ring, no filter, read with one
// recvfrom(2) per packet into one buffer, as the simplest C sniffer does.
type RecvLoop struct {
	fd       int
	loopback int
	captured atomic.Uint64 // packets other than the loopback's outgoing copy
	stop     atomic.Bool
	pause    atomic.Int64 // nanoseconds to sleep before the next read
	done     sync.WaitGroup
	err      error
	cpu      time.Duration // the reading thread's, at its end
}

// OpenRecvLoop opens the socket in the calling thread's network namespace
// (run it inside netns.Namespace.Do) and starts reading on a goroutine of
// its own. loopback is the loopback's ifindex, whose outgoing copies are
// not counted (as libpcap skips them).
func OpenRecvLoop(loopback int) (*RecvLoop, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// A timeout so the loop sees Stop: 50 ms.
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 50000}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	r := &RecvLoop{fd: fd, loopback: loopback}
	r.done.Add(1)
	go r.run()
	return r, nil
}

func (r *RecvLoop) run() {
	defer r.done.Done()
	// A thread of its own, so its CPU time is the loop's alone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer func() {
		var ru unix.Rusage
		if unix.Getrusage(unix.RUSAGE_THREAD, &ru) == nil {
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}()
	buf := make([]byte, 65536)
	var sa unix.RawSockaddrLinklayer
	for !r.stop.Load() {
		if d := r.pause.Swap(0); d > 0 {
			time.Sleep(time.Duration(d))
		}
		salen := uint32(unsafe.Sizeof(sa))
		// The raw syscall: unix.Recvfrom allocates a Sockaddr per call,
		// which a C loop does not pay.
		_, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(r.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0,
			uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
		switch e {
		case 0:
			if int(sa.Ifindex) == r.loopback && sa.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			r.captured.Add(1)
		case unix.EAGAIN, unix.EINTR:
		default:
			r.err = os.NewSyscallError("recvfrom", e)
			return
		}
	}
}

// Pause makes the loop stop reading for d, as a reader descheduled that
// long would.
func (r *RecvLoop) Pause(d time.Duration) { r.pause.Store(int64(d)) }

// Stop ends the loop after it has read what is queued (it reads until a
// 50 ms wait finds nothing more is waiting first), closes the socket and
// returns the counts: packets captured and the kernel's PACKET_STATISTICS.
func (r *RecvLoop) Stop() (Summary, error) {
	// Let the queue drain: wait until the count stops moving.
	for last := r.captured.Load(); ; {
		time.Sleep(200 * time.Millisecond)
		now := r.captured.Load()
		if now == last {
			break
		}
		last = now
	}
	r.stop.Store(true)
	r.done.Wait()
	st, err := unix.GetsockoptTpacketStats(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	unix.Close(r.fd)
	if err != nil {
		return Summary{}, os.NewSyscallError("getsockopt", err)
	}
	if r.err != nil {
		return Summary{}, r.err
	}
	// tp_packets counts the drops too (net/packet/af_packet.c).
	return Summary{Captured: r.captured.Load(), Received: uint64(st.Packets), Dropped: uint64(st.Drops), CPU: r.cpu}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
