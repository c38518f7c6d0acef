package capture

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring walks a TPACKET_V3 receive ring (packet_mmap.rst): blocks of
// blockSize bytes, each a struct tpacket_block_desc followed by packets.
// The kernel fills one block at a time and hands it to user space by
// setting its block_status to TP_STATUS_USER; the reader takes the blocks
// in order, walks their packets by tp_next_offset, and gives each back
// with TP_STATUS_KERNEL. The status word is the only thing both sides
// write, so it is read and written with atomics: the load that sees
// TP_STATUS_USER orders the reads of the block after the kernel's writes,
// and the store of TP_STATUS_KERNEL comes after the last read.
type ring struct {
	mem       []byte // the mapping, nil once unmapped
	blockSize int
	nblocks   int

	block int  // index of the block being walked, or awaited
	held  bool // block is the user's, and being walked
	left  int  // packets left in it
	off   int  // offset of the next one within it
}

// Offsets in struct tpacket_block_desc: version, offset_to_priv, then
// struct tpacket_hdr_v1.
const (
	bdStatus   = 8  // block_status
	bdNumPkts  = 12 // num_pkts
	bdFirstPkt = 16 // offset_to_first_pkt
	bdLen      = 48 // the whole descriptor
)

// sllOff is where the struct sockaddr_ll follows the struct tpacket3_hdr:
// TPACKET_ALIGN(sizeof(struct tpacket3_hdr)).
const sllOff = (unix.SizeofTpacket3Hdr + unix.TPACKET_ALIGNMENT - 1) &^ (unix.TPACKET_ALIGNMENT - 1)

func (r *ring) word(i int) *uint32 { return (*uint32)(unsafe.Pointer(&r.mem[i])) }

func (r *ring) status(block int) *uint32 { return r.word(block*r.blockSize + bdStatus) }

// ready reports whether the awaited block is the user's: the test the
// runtime poller runs on each wake-up.
func (r *ring) ready() bool {
	return r.held || atomic.LoadUint32(r.status(r.block))&unix.TP_STATUS_USER != 0
}

// release gives the block being walked back to the kernel and moves on.
func (r *ring) release() {
	atomic.StoreUint32(r.status(r.block), unix.TP_STATUS_KERNEL)
	r.held = false
	r.left = 0
	r.block++
	if r.block == r.nblocks {
		r.block = 0
	}
}

// next returns the next packet, or ok false when the kernel has handed over
// no block yet. Empty blocks are given back at once.
func (r *ring) next(ci *CaptureInfo, snaplen int) (b []byte, ok bool, err error) {
	for {
		if r.held {
			if r.left > 0 {
				b, err = r.packet(ci, snaplen)
				return b, err == nil, err
			}
			r.release()
		}
		if atomic.LoadUint32(r.status(r.block))&unix.TP_STATUS_USER == 0 {
			return nil, false, nil
		}
		base := r.block * r.blockSize
		r.held = true
		r.left = int(*r.word(base + bdNumPkts))
		r.off = int(*r.word(base + bdFirstPkt))
	}
}

// packet decodes the packet at r.off and steps past it. The kernel's
// offsets are checked, so that a corrupt ring is an error and not a read
// outside the mapping.
func (r *ring) packet(ci *CaptureInfo, snaplen int) ([]byte, error) {
	off := r.off
	if off < bdLen || off > r.blockSize-sllOff-unix.SizeofSockaddrLinklayer {
		return nil, r.corrupt("a packet header at offset %d", off)
	}
	p := r.block*r.blockSize + off
	hdr := (*unix.Tpacket3Hdr)(unsafe.Pointer(&r.mem[p]))
	start, caplen := off+int(hdr.Mac), int(hdr.Snaplen)
	if int(hdr.Mac) < sllOff || caplen > r.blockSize-start {
		return nil, r.corrupt("%d bytes at offset %d", caplen, start)
	}
	ll := p + sllOff
	*ci = CaptureInfo{
		Timestamp:     time.Unix(int64(hdr.Sec), int64(hdr.Nsec)),
		CaptureLength: min(caplen, snaplen),
		Length:        int(hdr.Len),
		Ifindex:       int(*(*int32)(unsafe.Pointer(&r.mem[ll+4]))),
		PacketType:    r.mem[ll+10],
		Protocol:      uint16(r.mem[ll+2])<<8 | uint16(r.mem[ll+3]), // network order
		HardwareType:  *(*uint16)(unsafe.Pointer(&r.mem[ll+8])),
	}
	r.left--
	if hdr.Next_offset == 0 {
		r.left = 0
	}
	r.off += int(hdr.Next_offset)
	s := r.block*r.blockSize + start
	e := s + ci.CaptureLength
	return r.mem[s:e:e], nil
}

// corrupt gives the block back and says what was wrong in it.
func (r *ring) corrupt(format string, args ...any) error {
	block := r.block
	r.release()
	return fmt.Errorf("capture: corrupt ring block %d: "+format+" past its end", append([]any{block}, args...)...)
}

// drain gives every block holding packets back to the kernel, once nothing
// can reach the ring any more: blocks already handed over at once, the
// block the kernel is filling once it hands that one over (its timer does,
// within about twice timeout). It stops at the first block the kernel owns
// with no packets, or when it has gone round the whole ring. stop ends the
// wait early (the Handle was closed).
func (r *ring) drain(timeout time.Duration, stop *atomic.Bool) error {
	deadline := time.Now().Add(2*timeout + time.Second)
	for released := 0; released < r.nblocks; {
		if r.held {
			r.release()
			released++
			continue
		}
		st := r.status(r.block)
		if atomic.LoadUint32(st)&unix.TP_STATUS_USER != 0 {
			r.held = true
			continue
		}
		if atomic.LoadUint32(r.word(r.block*r.blockSize+bdNumPkts)) == 0 {
			return nil
		}
		// The kernel's current block, with packets: wait for its timer.
		// A sleep, not the poller: the wait must not be cut short by the
		// caller's read deadline, and it is over within milliseconds.
		if stop.Load() {
			return errClosed
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("capture: ring block %d not handed over %v after its last packet", r.block, 2*timeout+time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}
