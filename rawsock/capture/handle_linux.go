package capture

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const (
	// 8 MiB in 64 blocks of 128 KiB. The kernel hands a block over when it
	// is full or at its timeout with whatever it holds, and the rest of the
	// block is wasted: a slow flood fills a fraction of each large block,
	// so many small blocks hold more time of traffic for a reader held off
	// the CPU (measured, 8 x 1 MiB against 64 x 128 KiB, in README.md,
	// "Capture under a loopback flood"). 128 KiB still holds a whole
	// 64 KiB segment of lo.
	defaultBlockSize = 128 << 10
	defaultBlocks    = 64
	kernelTimeout    = 8 * time.Millisecond // DEFAULT_PRB_RETIRE_TOV, for a ring made before bind
	maxInstructions  = 4096                 // BPF_MAXINSNS
)

var errClosed = fmt.Errorf("capture: %w", net.ErrClosed)

// The order is what keeps unfiltered packets out: a socket of protocol 0
// is on no receive path until bind(2) names a protocol, so the filter and
// the ring are in place before the first packet can reach it.
func open(cfg Config) (_ *Handle, err error) {
	if cfg.Snaplen < 0 || cfg.RingBlockSize < 0 || cfg.RingBlocks < 0 || cfg.RingTimeout < 0 {
		return nil, errors.New("capture: negative Snaplen, RingBlockSize, RingBlocks or RingTimeout")
	}
	if cfg.Promiscuous && cfg.Interface == "" {
		return nil, errors.New("capture: promiscuous mode needs an interface: it is set per interface")
	}
	h := &Handle{snaplen: cfg.Snaplen, linkType: 1}
	if h.snaplen == 0 {
		h.snaplen = DefaultSnaplen
	}
	prog, err := program(cfg.Filter, h.snaplen)
	if err != nil {
		return nil, err
	}
	h.prog = slices.Clone(cfg.Filter)
	bs, nb := cfg.RingBlockSize, cfg.RingBlocks
	if bs == 0 {
		bs = defaultBlockSize
	}
	if nb == 0 {
		nb = defaultBlocks
	}
	if page := os.Getpagesize(); bs%page != 0 {
		return nil, fmt.Errorf("capture: ring block size %d is not a multiple of the page size %d", bs, page)
	}
	if bs > math.MaxInt32 || nb > math.MaxInt32 || cfg.RingTimeout > math.MaxUint32*time.Millisecond {
		return nil, fmt.Errorf("capture: ring of %d blocks of %d bytes, timeout %v: past struct tpacket_req3's fields", nb, bs, cfg.RingTimeout)
	}

	h.conn, err = rawsock.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			h.r.unmap()
			h.conn.Close()
		}
	}()
	if h.rc, err = h.conn.SyscallConn(); err != nil {
		return nil, err
	}
	if cfg.Interface != "" {
		if err = h.lookup(cfg.Interface); err != nil {
			return nil, err
		}
	}
	if err = h.attach(prog); err != nil {
		return nil, err
	}
	if err = h.conn.SetsockoptInt(unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("capture: PACKET_VERSION TPACKET_V3: %w", err)
	}
	h.tov = kernelTimeout
	tovms := 0
	if cfg.RingTimeout > 0 {
		tovms = int((cfg.RingTimeout + time.Millisecond - 1) / time.Millisecond)
		h.tov = time.Duration(tovms) * time.Millisecond
	}
	if err = h.mapRing(bs, nb, tovms); err != nil {
		return nil, err
	}
	if cfg.Promiscuous {
		if err = h.membership(unix.PACKET_ADD_MEMBERSHIP); err != nil {
			return nil, err
		}
	}
	if err = h.bind(unix.ETH_P_ALL); err != nil {
		return nil, err
	}
	h.ready = h.readyOrError
	return h, nil
}

// lookup finds the interface's index and hardware type with ioctl(2) on
// the socket itself, so the name is looked up in the socket's network
// namespace whatever thread runs this.
func (h *Handle) lookup(name string) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("capture: interface %q: name longer than %d bytes", name, unix.IFNAMSIZ-1)
	}
	var ioerr error
	err = h.rc.Control(func(fd uintptr) {
		if ioerr = unix.IoctlIfreq(int(fd), unix.SIOCGIFINDEX, ifr); ioerr != nil {
			return
		}
		h.ifindex = int(ifr.Uint32())
		ioerr = unix.IoctlIfreq(int(fd), unix.SIOCGIFHWADDR, ifr)
	})
	if err == nil {
		err = ioerr
	}
	switch {
	case errors.Is(err, unix.ENODEV):
		return &ifaceError{name}
	case err != nil:
		return fmt.Errorf("capture: interface %q: %w", name, os.NewSyscallError("ioctl", err))
	}
	switch ifr.Uint16() { // ifr_hwaddr.sa_family: the ARPHRD_
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		h.linkType = 1 // LINKTYPE_ETHERNET: loopback frames carry a zeroed Ethernet header
	case unix.ARPHRD_NONE:
		h.linkType = 101 // LINKTYPE_RAW
	default:
		h.linkType = 0
	}
	return nil
}

// ifaceError is an interface name the kernel does not know; it matches
// unix.ENODEV.
type ifaceError struct{ name string }

func (e *ifaceError) Error() string {
	return fmt.Sprintf("capture: interface %q: no such network interface", e.name)
}
func (e *ifaceError) Unwrap() error { return unix.ENODEV }

// program checks a filter and converts it to the kernel's struct
// sock_filter; nil becomes "accept snaplen bytes".
func program(prog []bpf.RawInstruction, snaplen int) ([]unix.SockFilter, error) {
	if prog == nil {
		prog = []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: uint32(snaplen)}}
	}
	if len(prog) == 0 || len(prog) > maxInstructions {
		return nil, fmt.Errorf("capture: filter of %d instructions: the kernel takes 1 to %d", len(prog), maxInstructions)
	}
	f := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		f[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return f, nil
}

var dropAll = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}

// attach wraps setsockopt(SO_ATTACH_FILTER). The struct sock_fprog holds a
// pointer to f, so it goes to the kernel as bytes through the core (which
// traces it) with f kept alive across the call.
func (h *Handle) attach(f []unix.SockFilter) error {
	fp := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&fp)), unsafe.Sizeof(fp))
	err := h.conn.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, b)
	runtime.KeepAlive(f)
	if errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("capture: attach filter: %w (the kernel's checker refused the program)", err)
	}
	if err != nil {
		return fmt.Errorf("capture: attach filter: %w", err)
	}
	return nil
}

// mapRing asks for the ring (PACKET_RX_RING with a struct tpacket_req3)
// and maps it. TPACKET_V3 packs packets of any size into the blocks, so the
// frame size only has to be valid: one frame per block.
func (h *Handle) mapRing(blockSize, blocks, tovms int) error {
	req := unix.TpacketReq3{
		Block_size:     uint32(blockSize),
		Block_nr:       uint32(blocks),
		Frame_size:     uint32(blockSize),
		Frame_nr:       uint32(blocks),
		Retire_blk_tov: uint32(tovms),
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&req)), unsafe.Sizeof(req))
	if err := h.conn.SetsockoptBytes(unix.SOL_PACKET, unix.PACKET_RX_RING, b); err != nil {
		return fmt.Errorf("capture: PACKET_RX_RING of %d blocks of %d bytes: %w", blocks, blockSize, err)
	}
	var mem []byte
	var merr error
	err := h.rc.Control(func(fd uintptr) {
		mem, merr = unix.Mmap(int(fd), 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	})
	if err == nil {
		err = merr
	}
	if err != nil {
		return fmt.Errorf("capture: mapping the ring: %w", os.NewSyscallError("mmap", err))
	}
	h.r = ring{mem: mem, blockSize: blockSize, nblocks: blocks}
	return nil
}

func (r *ring) unmap() {
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
}

// membership adds or drops promiscuous mode on the interface.
func (h *Handle) membership(opt int) error {
	mr := unix.PacketMreq{Ifindex: int32(h.ifindex), Type: unix.PACKET_MR_PROMISC}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&mr)), unsafe.Sizeof(mr))
	if err := h.conn.SetsockoptBytes(unix.SOL_PACKET, opt, b); err != nil {
		return fmt.Errorf("capture: promiscuous mode: %w", err)
	}
	return nil
}

// bind puts the socket on the receive path of proto, on the interface or
// all of them.
func (h *Handle) bind(proto uint16) error {
	sa := &unix.SockaddrLinklayer{Protocol: proto<<8 | proto>>8, Ifindex: h.ifindex}
	if err := h.conn.Bind(sa); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}

// read returns the next packet, waiting through the runtime poller for the
// kernel to hand over a block. Called with rmu held.
func (h *Handle) read(ci *CaptureInfo) ([]byte, error) {
	for {
		if h.r.mem == nil {
			return nil, errClosed
		}
		b, ok, err := h.r.next(ci, h.snaplen)
		if ok || err != nil {
			return b, err
		}
		h.woken = false
		err = h.rc.Read(h.ready)
		switch {
		case err == nil && h.soerr != 0:
			e := h.soerr
			h.soerr = 0
			return nil, fmt.Errorf("capture: %w", os.NewSyscallError("getsockopt SO_ERROR", e))
		case err == nil:
		case h.closed.Load():
			return nil, errClosed
		case h.pausing.Load() && errors.Is(err, os.ErrDeadlineExceeded):
			// SetFilter woke us to take the ring: let it, then go on.
			h.rmu.Unlock()
			h.ctl.Lock()
			h.ctl.Unlock()
			h.rmu.Lock()
		default:
			return nil, fmt.Errorf("capture: %w", err)
		}
	}
}

// readyOrError is the runtime poller's test: a block handed over, or, when
// the poller woke it for none, a socket error (the kernel sets ENETDOWN and
// wakes the socket when the interface goes down or away).
func (h *Handle) readyOrError(fd uintptr) bool {
	if h.r.ready() {
		return true
	}
	if h.woken {
		if e, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); err == nil && e != 0 {
			h.soerr = syscall.Errno(e)
			return true
		}
	}
	h.woken = true
	return false
}

func (h *Handle) setFilter(prog []bpf.RawInstruction) error {
	f, err := program(prog, h.snaplen)
	if err != nil {
		return err
	}
	h.ctl.Lock()
	defer h.ctl.Unlock()
	if h.closed.Load() {
		return errClosed
	}
	// On failure the old filter goes back, on the usual protocol (the
	// packets drained, if any, are gone).
	restore := func(err error) error {
		if old, perr := program(h.prog, h.snaplen); perr == nil && h.attach(old) == nil {
			h.bind(unix.ETH_P_ALL)
		}
		return err
	}
	if err := h.attach(dropAll); err != nil {
		return err
	}
	// A protocol change makes the kernel take the socket off the receive
	// path and wait (synchronize_net) for packets past the old filter to
	// land before it puts it back. The stand-in protocol is the IEEE's
	// local experimental EtherType; the drop-all filter refuses it anyway.
	if err := h.bind(unix.ETH_P_802_EX1); err != nil {
		return restore(err)
	}
	// Take the ring from a reader parked on it: a deadline in the past
	// wakes it, and it waits on ctl until this returns.
	h.pausing.Store(true)
	h.conn.SetReadDeadline(time.Unix(1, 0))
	h.rmu.Lock()
	h.pausing.Store(false)
	h.conn.SetReadDeadline(h.dl)
	if h.r.mem == nil {
		err = errClosed
	} else {
		err = h.r.drain(h.tov, &h.closed)
	}
	h.rmu.Unlock()
	if err != nil {
		return restore(err)
	}
	if err := h.attach(f); err != nil {
		return restore(err)
	}
	h.prog = slices.Clone(prog)
	return h.bind(unix.ETH_P_ALL)
}

// readStats wraps getsockopt(PACKET_STATISTICS) with a struct
// tpacket_stats_v3 and adds what it read to the totals.
func (h *Handle) readStats() (Stats, error) {
	h.smu.Lock()
	defer h.smu.Unlock()
	if h.closed.Load() {
		return h.stats, nil
	}
	return h.statsLocked()
}

func (h *Handle) statsLocked() (Stats, error) {
	var st unix.TpacketStatsV3
	b := unsafe.Slice((*byte)(unsafe.Pointer(&st)), unsafe.Sizeof(st))
	if _, err := h.conn.GetsockoptBytes(unix.SOL_PACKET, unix.PACKET_STATISTICS, b); err != nil {
		return h.stats, fmt.Errorf("capture: PACKET_STATISTICS: %w", err)
	}
	h.stats.Packets += uint64(st.Packets)
	h.stats.Drops += uint64(st.Drops)
	h.stats.FreezeQueueCount += uint64(st.Freeze_q_cnt)
	return h.stats, nil
}

func (h *Handle) close() error {
	h.smu.Lock()
	if h.closed.Swap(true) {
		h.smu.Unlock()
		return nil
	}
	h.statsLocked() // the last counts, for Stats after Close
	h.smu.Unlock()
	err := h.conn.Close() // wakes a parked reader
	h.rmu.Lock()          // and waits for it to leave the ring
	h.r.unmap()
	h.rmu.Unlock()
	return err
}
