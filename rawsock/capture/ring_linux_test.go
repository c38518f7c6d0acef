package capture

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeRing is a ring in ordinary memory, filled as the kernel would.
func fakeRing(blocks, size int) *ring {
	return &ring{mem: make([]byte, blocks*size), blockSize: size, nblocks: blocks}
}

// fakeBlock writes a block descriptor: handed to user space, n packets, the
// first at first.
func (r *ring) fakeBlock(i, n, first int) {
	b := r.mem[i*r.blockSize:]
	binary.NativeEndian.PutUint32(b[bdStatus:], unix.TP_STATUS_USER)
	binary.NativeEndian.PutUint32(b[bdNumPkts:], uint32(n))
	binary.NativeEndian.PutUint32(b[bdFirstPkt:], uint32(first))
}

// fakePacket writes a struct tpacket3_hdr and sockaddr_ll at off in block
// i, with the packet's bytes at off+mac.
func (r *ring) fakePacket(i, off, next, mac int, data []byte, wire int, ifindex int32, ptype uint8) {
	b := r.mem[i*r.blockSize+off:]
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(next))
	ne.PutUint32(b[4:], 1700000000) // tp_sec
	ne.PutUint32(b[8:], 123)        // tp_nsec
	ne.PutUint32(b[12:], uint32(len(data)))
	ne.PutUint32(b[16:], uint32(wire))
	ne.PutUint16(b[24:], uint16(mac))
	ll := b[sllOff:]
	binary.BigEndian.PutUint16(ll[2:], unix.ETH_P_IP)
	ne.PutUint32(ll[4:], uint32(ifindex))
	ne.PutUint16(ll[8:], unix.ARPHRD_ETHER)
	ll[10] = ptype
	copy(b[mac:], data)
}

// TestRingWalk walks blocks as the kernel lays them out: packets by
// tp_next_offset, empty blocks skipped, each block given back after its
// last packet, the snap length applied.
func TestRingWalk(t *testing.T) {
	r := fakeRing(3, 4096)
	r.fakeBlock(0, 2, bdLen)
	r.fakePacket(0, bdLen, 160, 82, []byte("first packet"), 60, 7, unix.PACKET_OUTGOING)
	r.fakePacket(0, bdLen+160, 0, 82, []byte("second"), 6, 7, unix.PACKET_HOST)
	r.fakeBlock(1, 0, bdLen) // empty
	r.fakeBlock(2, 1, bdLen)
	r.fakePacket(2, bdLen, 0, 82, []byte("third, cut to 5"), 15, 9, unix.PACKET_HOST)

	want := []struct {
		data         string
		wire, ifx    int
		ptype        uint8
		statusBlock0 uint32
	}{
		{"first packet", 60, 7, unix.PACKET_OUTGOING, unix.TP_STATUS_USER},
		{"second", 6, 7, unix.PACKET_HOST, unix.TP_STATUS_USER},
		{"third", 15, 9, unix.PACKET_HOST, unix.TP_STATUS_KERNEL},
	}
	for i, w := range want {
		snaplen := 1000
		if i == 2 {
			snaplen = 5
		}
		var ci CaptureInfo
		b, ok, err := r.next(&ci, snaplen)
		if !ok || err != nil {
			t.Fatalf("packet %d: ok %v, err %v", i, ok, err)
		}
		if string(b) != w.data || ci.CaptureLength != len(w.data) || ci.Length != w.wire || ci.Ifindex != w.ifx ||
			ci.PacketType != w.ptype || ci.Protocol != unix.ETH_P_IP || ci.HardwareType != unix.ARPHRD_ETHER ||
			ci.Timestamp.Unix() != 1700000000 || ci.Timestamp.Nanosecond() != 123 {
			t.Errorf("packet %d: %q %+v; want %q, length %d, ifindex %d, type %d", i, b, ci, w.data, w.wire, w.ifx, w.ptype)
		}
		if cap(b) != len(b) {
			t.Errorf("packet %d: capacity %d past its length %d: an append would write into the ring", i, cap(b), len(b))
		}
		if st := *r.status(0); st != w.statusBlock0 {
			t.Errorf("after packet %d: block 0 status %d, want %d", i, st, w.statusBlock0)
		}
	}
	if st := *r.status(1); st != unix.TP_STATUS_KERNEL {
		t.Errorf("the empty block was not given back: status %d", st)
	}
	if _, ok, err := r.next(new(CaptureInfo), 1000); ok || err != nil {
		t.Errorf("past the last packet: ok %v, err %v; want a wait", ok, err)
	}
	if r.ready() {
		t.Error("ready with every block the kernel's")
	}
}

// TestRingCorrupt: offsets the kernel would never write give an error,
// not a read outside the mapping, and the walk goes on with the next block.
func TestRingCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(r *ring)
	}{
		{"first packet past the block", func(r *ring) { r.fakeBlock(0, 1, 4090) }},
		{"first packet inside the descriptor", func(r *ring) { r.fakeBlock(0, 1, 8) }},
		{"bytes past the block", func(r *ring) {
			r.fakeBlock(0, 1, bdLen)
			r.fakePacket(0, bdLen, 0, 82, []byte("x"), 1, 1, 0)
			binary.NativeEndian.PutUint32(r.mem[bdLen+12:], 5000) // tp_snaplen
		}},
		{"mac inside the header", func(r *ring) {
			r.fakeBlock(0, 1, bdLen)
			r.fakePacket(0, bdLen, 0, 82, []byte("x"), 1, 1, 0)
			binary.NativeEndian.PutUint16(r.mem[bdLen+24:], 4) // tp_mac
		}},
		{"next offset out of the block", func(r *ring) {
			r.fakeBlock(0, 2, bdLen)
			r.fakePacket(0, bdLen, 1<<20, 82, []byte("x"), 1, 1, 0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fakeRing(2, 4096)
			tc.setup(r)
			r.fakeBlock(1, 1, bdLen)
			r.fakePacket(1, bdLen, 0, 82, []byte("next block"), 10, 1, 0)
			var ci CaptureInfo
			var err error
			var b []byte
			for range 3 {
				var ok bool
				b, ok, err = r.next(&ci, 1000)
				if err != nil || !ok || string(b) == "next block" {
					break
				}
			}
			if err == nil {
				t.Fatalf("no error; last packet %q", b)
			}
			t.Log(err)
			b, ok, err := r.next(&ci, 1000)
			if !ok || err != nil || string(b) != "next block" {
				t.Errorf("after the corrupt block: %q, %v, %v; want the next block's packet", b, ok, err)
			}
		})
	}
}

// FuzzRingWalk: whatever a block holds, walking it neither panics nor
// returns bytes outside the block.
func FuzzRingWalk(f *testing.F) {
	f.Add([]byte{}) // and testdata/fuzz/FuzzRingWalk: a block of two packets, a corrupt one
	f.Fuzz(func(t *testing.T, block []byte) {
		r := fakeRing(2, 4096)
		copy(r.mem, block)
		binary.NativeEndian.PutUint32(r.mem[bdStatus:], unix.TP_STATUS_USER)
		for range 100 {
			b, ok, err := r.next(new(CaptureInfo), 262144)
			if !ok && err == nil {
				return
			}
			if len(b) > r.blockSize {
				t.Fatalf("%d bytes returned from a %d-byte block", len(b), r.blockSize)
			}
		}
	})
}
