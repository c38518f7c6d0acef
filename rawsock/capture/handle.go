package capture

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/bpf"
)

// Config says what Open captures and how.
type Config struct {
	// Interface is the name of the interface to capture on ("lo",
	// "eth0"); "" captures on all of them.
	Interface string

	// Filter is a classic BPF program run by the kernel on each packet
	// (Compile builds one from a tcpdump expression): it returns how many
	// bytes to keep, 0 to drop the packet. nil captures everything.
	Filter []bpf.RawInstruction

	// Snaplen is how many bytes of each packet to keep; 0 means 262144,
	// tcpdump's default. A packet larger than a ring block can hold is cut
	// to what fits.
	Snaplen int

	// Promiscuous asks the interface for every frame on its link, not only
	// those addressed to it (PACKET_MR_PROMISC, dropped again at Close). It
	// needs a named Interface.
	Promiscuous bool

	// The PACKET_RX_RING (TPACKET_V3): RingBlocks blocks of RingBlockSize
	// bytes each (a multiple of the page size), shared with the kernel. The
	// kernel fills one block at a time and hands it over when it is full
	// or RingTimeout after its first packet (tp_retire_blk_tov, in whole
	// milliseconds). 0 means the defaults: 64 blocks of 128 KiB, and the
	// kernel's timeout (8 ms for a ring made before bind(2), as here).
	// Use 4 blocks or more: with 2, the kernel (6.18) now and then dropped
	// a packet, counted in Stats.Drops, with the ring all but empty, as it
	// handed a block over.
	RingBlockSize int
	RingBlocks    int
	RingTimeout   time.Duration
}

// Handle is an open capture: an AF_PACKET socket of the core, with its
// filter attached and its receive ring mapped before it was bound, so that
// it never held a packet its filter would have refused.
//
// ReadPacket may run beside SetFilter, Stats, SetReadDeadline and Close in
// other goroutines; two ReadPackets take turns.
type Handle struct {
	conn     *rawsock.Conn
	rc       syscall.RawConn
	ifindex  int
	linkType int
	snaplen  int
	tov      time.Duration // the ring's block timeout, for SetFilter's drain

	rmu   sync.Mutex // the reader: guards r
	r     ring
	ready func(fd uintptr) bool // r's readiness test for the runtime poller, bound once
	woken bool                  // ready has run before in this wait: the poller woke it
	soerr syscall.Errno         // SO_ERROR, read when woken with no block ready

	ctl     sync.Mutex           // SetFilter and SetReadDeadline
	dl      time.Time            // the caller's read deadline, under ctl
	prog    []bpf.RawInstruction // the filter attached, under ctl
	pausing atomic.Bool          // SetFilter is taking the ring from a parked reader
	closed  atomic.Bool

	smu   sync.Mutex // guards stats
	stats Stats
}

// Open opens a capture as cfg says. It needs CAP_NET_RAW; without it the
// error carries the core's hint on how to grant it.
func Open(cfg Config) (*Handle, error) { return open(cfg) }

// ReadPacket returns the next packet and its metadata, waiting for one
// through the runtime poller. The bytes alias the ring shared with the
// kernel: they are valid until the next ReadPacket, SetFilter or Close on
// h, and must not be modified. It allocates nothing. Use ReadPacketInto to
// keep a copy.
//
// When the interface goes down or is deleted, the kernel reports ENETDOWN
// and ReadPacket returns an error matching unix.ENETDOWN; a later call
// waits for the interface to come back up, as the kernel rebinds then.
func (h *Handle) ReadPacket() (CaptureInfo, []byte, error) {
	var ci CaptureInfo
	h.rmu.Lock()
	b, err := h.read(&ci)
	h.rmu.Unlock()
	return ci, b, err
}

// ReadPacketInto is ReadPacket copying the packet into buf: it returns how
// many bytes it copied, fewer than ci.CaptureLength when buf is shorter.
func (h *Handle) ReadPacketInto(buf []byte) (ci CaptureInfo, n int, err error) {
	h.rmu.Lock()
	b, err := h.read(&ci)
	n = copy(buf, b)
	h.rmu.Unlock()
	return ci, n, err
}

// SetFilter replaces the filter; nil captures everything. No packet the
// old filter let through is returned by ReadPacket once SetFilter returns:
// it attaches a filter that drops everything, rebinds the socket (so the
// kernel waits out packets already past the old filter), releases every
// ring block still holding packets, waits for the kernel to hand over the
// block it was filling, and only then attaches prog. Packets that arrive
// meanwhile are lost, and not counted. If the kernel refuses prog, the old
// filter is put back (the packets drained are gone) and the error returned.
func (h *Handle) SetFilter(prog []bpf.RawInstruction) error { return h.setFilter(prog) }

// Stats returns the running totals of the kernel's PACKET_STATISTICS since
// Open. The kernel resets its counters on each read; the Handle adds them
// up. After Close it returns the totals as they were at Close.
//
// Packets counts every packet the filter accepted, those the kernel then
// dropped for want of ring space included (it adds tp_drops into tp_packets
// before returning them); Drops counts those. They include packets still in
// the ring, not yet read. libpcap 1.10 (pcap_stats_linux) sums the same two
// counters into ps_recv and ps_drop, so tcpdump's "N packets received by
// filter" is Packets and "N packets dropped by kernel" is Drops; "N packets
// captured" is what tcpdump read, which the caller counts. (libpcap asks for
// 8 bytes, struct tpacket_stats; this reads all 12 of struct
// tpacket_stats_v3, whose tp_freeze_q_cnt is FreezeQueueCount.) On lo the
// kernel counts both copies of each packet (PACKET_OUTGOING and PACKET_HOST)
// while libpcap drops the outgoing one in user space: tcpdump -i lo around
// "ping -c 2 127.0.0.1" says 8 packets received by filter.
func (h *Handle) Stats() (Stats, error) { return h.readStats() }

// SetReadDeadline sets a deadline for ReadPacket, including one waiting
// now; zero means none. A ReadPacket past it fails with an error matching
// os.ErrDeadlineExceeded.
func (h *Handle) SetReadDeadline(t time.Time) error {
	h.ctl.Lock()
	defer h.ctl.Unlock()
	if err := h.conn.SetReadDeadline(t); err != nil {
		return err
	}
	h.dl = t
	return nil
}

// Close closes the socket and unmaps the ring. A ReadPacket waiting in
// another goroutine returns at once with an error matching net.ErrClosed.
// Closing again does nothing.
func (h *Handle) Close() error { return h.close() }

// Ifindex returns the index of the interface captured on, 0 for all.
func (h *Handle) Ifindex() int { return h.ifindex }

// LinkType returns the pcap LINKTYPE_ of the captured packets: 1
// (LINKTYPE_ETHERNET) on Ethernet, veth and loopback interfaces, 101
// (LINKTYPE_RAW, the packet starts at its IP header) on interfaces with no
// link header such as tun, 0 for a link this package does not name (the
// ARPHRD_ is then in each CaptureInfo.HardwareType). On all interfaces it
// is 1, and a packet from an interface of another kind says so in its
// CaptureInfo.HardwareType.
func (h *Handle) LinkType() int { return h.linkType }

// Snaplen returns the snap length in force.
func (h *Handle) Snaplen() int { return h.snaplen }
