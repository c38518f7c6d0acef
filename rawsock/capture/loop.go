package capture

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/net/bpf"
)

// Loop moves packets from a source (a Handle or a pcap Reader) to an output
// (a Printer or a Writer), as tcpdump's pcap_loop and its callback do: it
// skips the loopback device's outgoing copies, runs a user-space filter when
// there is one, counts what it keeps, and stops after Count packets or when
// Stop is called.
type Loop struct {
	// Count stops the loop after this many packets (0: no limit).
	Count uint64

	// Loopback is the ifindex of the loopback device (LoopbackIndex). A
	// packet sent on it reaches a packet socket twice, as PACKET_OUTGOING
	// on its way out and as PACKET_HOST on its way back in; libpcap
	// (pcap-linux.c) skips the outgoing copy so each packet is seen once,
	// and so does Loop. 0 skips nothing.
	Loopback int

	// Filter, when not nil, runs on each packet in user space: a packet it
	// returns 0 for is skipped. A Handle's filter runs in the kernel; this
	// is for pcap files, which have no kernel to run it.
	Filter *bpf.VM

	// Packet gets each packet kept, in order. Its error ends the loop.
	// frame is only valid until Packet returns.
	Packet func(ci CaptureInfo, frame []byte) error

	captured atomic.Uint64
	stopped  atomic.Bool

	mu   sync.Mutex
	wake func() // unblocks the source's read; set by Run
}

// Read returns the next packet from a source, or an error: io.EOF ends the
// loop cleanly.
type Read func() (CaptureInfo, []byte, error)

// Run reads packets until the source ends (io.EOF), Count packets have been
// kept, Stop is called, or an error: it returns nil in the first three
// cases. wake, if not nil, is called by Stop to unblock a read in progress
// (Handle.SetReadDeadline in the past, for instance); the error that read
// then returns ends the loop without being reported.
func (l *Loop) Run(read Read, wake func()) error {
	l.mu.Lock()
	l.wake = wake
	l.mu.Unlock()
	for l.Count == 0 || l.captured.Load() < l.Count {
		if l.stopped.Load() {
			return nil
		}
		ci, frame, err := read()
		if err != nil {
			if l.stopped.Load() || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if !l.keep(ci, frame) {
			continue
		}
		l.captured.Add(1)
		if l.Packet != nil {
			if err := l.Packet(ci, frame); err != nil {
				return err
			}
		}
	}
	return nil
}

// keep says whether a packet counts: not the loopback's outgoing copy, and
// accepted by the user-space filter.
func (l *Loop) keep(ci CaptureInfo, frame []byte) bool {
	if l.Loopback != 0 && ci.Ifindex == l.Loopback && ci.Outgoing() {
		return false
	}
	if l.Filter != nil {
		n, err := l.Filter.Run(frame)
		if err != nil || n == 0 {
			return false
		}
	}
	return true
}

// Stop ends Run after the packet in hand, waking a blocked read. It may be
// called from any goroutine (a signal handler's), more than once: it
// wakes the read once.
func (l *Loop) Stop() {
	if l.stopped.Swap(true) {
		return
	}
	l.mu.Lock()
	wake := l.wake
	l.mu.Unlock()
	if wake != nil {
		wake()
	}
}

// Captured returns how many packets the loop has kept: tcpdump's "packets
// captured".
func (l *Loop) Captured() uint64 { return l.captured.Load() }

// NewFilterVM returns a virtual machine that runs prog (from Compile) in
// user space, for Loop.Filter.
func NewFilterVM(prog []bpf.RawInstruction) (*bpf.VM, error) {
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		return nil, errors.New("capture: the filter program holds an instruction the BPF VM cannot run")
	}
	return bpf.NewVM(ins)
}

// LoopbackIndex returns the ifindex of the loopback device of the calling
// thread's network namespace (IFF_LOOPBACK; "lo" on Linux), for
// Loop.Loopback, or 0 when there is none.
func LoopbackIndex() (int, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return 0, err
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 {
			return ifi.Index, nil
		}
	}
	return 0, nil
}

// ReaderSource returns a Read for Loop.Run that reads r's records into one
// buffer, reused from record to record.
func ReaderSource(r *Reader) Read {
	var buf []byte
	return func() (CaptureInfo, []byte, error) {
		ci, b, err := r.ReadPacket(buf)
		buf = b
		return ci, b, err
	}
}
