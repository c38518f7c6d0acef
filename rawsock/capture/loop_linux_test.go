package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// source replays packets, then returns end (io.EOF by default).
func source(pkts []CaptureInfo, end error) Read {
	if end == nil {
		end = io.EOF
	}
	i := 0
	return func() (CaptureInfo, []byte, error) {
		if i == len(pkts) {
			return CaptureInfo{}, nil, end
		}
		ci := pkts[i]
		i++
		frame := make([]byte, ci.CaptureLength)
		frame[0] = byte(i) // which packet, for the filter tests
		return ci, frame, nil
	}
}

func pkt(ifindex int, typ uint8) CaptureInfo {
	return CaptureInfo{CaptureLength: 60, Length: 60, Ifindex: ifindex, PacketType: typ}
}

func TestLoop(t *testing.T) {
	const lo, eth = 1, 2
	// On lo every packet comes twice, outgoing then host; on eth once.
	traffic := []CaptureInfo{
		pkt(lo, unix.PACKET_OUTGOING), pkt(lo, unix.PACKET_HOST),
		pkt(eth, unix.PACKET_OUTGOING),
		pkt(lo, unix.PACKET_OUTGOING), pkt(lo, unix.PACKET_HOST),
		pkt(eth, unix.PACKET_HOST),
	}
	// Accepts packets whose first byte is odd (the 1st, 3rd, 5th read).
	odd, err := bpf.NewVM([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 1, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 262144},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		loopback int
		count    uint64
		filter   *bpf.VM
		want     []int // packets kept, by read order from 1
	}{
		{"all", 0, 0, nil, []int{1, 2, 3, 4, 5, 6}},
		{"loopback outgoing skipped", lo, 0, nil, []int{2, 3, 5, 6}},
		{"count", lo, 3, nil, []int{2, 3, 5}},
		{"count exact", lo, 4, nil, []int{2, 3, 5, 6}},
		{"filter", 0, 0, odd, []int{1, 3, 5}},
		{"filter and loopback", lo, 0, odd, []int{3, 5}},
		{"filter and count", lo, 1, odd, []int{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			l := &Loop{Count: tc.count, Loopback: tc.loopback, Filter: tc.filter, Packet: func(ci CaptureInfo, frame []byte) error {
				got = append(got, int(frame[0]))
				return nil
			}}
			if err := l.Run(source(traffic, nil), nil); err != nil {
				t.Fatal(err)
			}
			if !equalInts(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
			if l.Captured() != uint64(len(tc.want)) {
				t.Errorf("Captured() = %d, want %d", l.Captured(), len(tc.want))
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoopErrors(t *testing.T) {
	errRead := errors.New("read failed")
	l := &Loop{}
	if err := l.Run(source([]CaptureInfo{pkt(2, 0)}, errRead), nil); !errors.Is(err, errRead) {
		t.Errorf("a read error: Run = %v, want %v", err, errRead)
	}
	if l.Captured() != 1 {
		t.Errorf("Captured() = %d, want 1", l.Captured())
	}
	errOut := errors.New("write failed")
	l = &Loop{Packet: func(CaptureInfo, []byte) error { return errOut }}
	if err := l.Run(source([]CaptureInfo{pkt(2, 0), pkt(2, 0)}, nil), nil); !errors.Is(err, errOut) {
		t.Errorf("an output error: Run = %v, want %v", err, errOut)
	}
}

// TestLoopStop: Stop from another goroutine wakes the blocked read and Run
// returns nil, though the read failed.
func TestLoopStop(t *testing.T) {
	woken := make(chan struct{})
	var once bool
	read := func() (CaptureInfo, []byte, error) {
		if !once {
			once = true
			return pkt(2, 0), make([]byte, 60), nil
		}
		<-woken
		return CaptureInfo{}, nil, errors.New("i/o timeout")
	}
	l := &Loop{}
	done := make(chan error, 1)
	go func() { done <- l.Run(read, func() { close(woken) }) }()
	for l.Captured() == 0 {
		time.Sleep(time.Millisecond)
	}
	l.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after Stop = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not end Run")
	}
	if l.Captured() != 1 {
		t.Errorf("Captured() = %d, want 1", l.Captured())
	}
	l.Stop() // again: no second close of woken, no panic
}

// TestLoopStopBeforeRun: a Stop that comes before Run (a signal during
// setup) still ends it at once.
func TestLoopStopBeforeRun(t *testing.T) {
	l := &Loop{}
	l.Stop()
	if err := l.Run(func() (CaptureInfo, []byte, error) { t.Fatal("read after Stop"); return CaptureInfo{}, nil, nil }, nil); err != nil {
		t.Fatal(err)
	}
}

// TestWriteSummary: tcpdump 4.99.3's lines, copied from its output on this
// machine, singular for 1 as its PLURAL_SUFFIX.
func TestWriteSummary(t *testing.T) {
	for _, tc := range []struct {
		captured uint64
		st       Stats
		want     string
	}{
		{4, Stats{Packets: 8}, "4 packets captured\n8 packets received by filter\n0 packets dropped by kernel\n"},
		{1, Stats{Packets: 4}, "1 packet captured\n4 packets received by filter\n0 packets dropped by kernel\n"},
		{0, Stats{Packets: 1, Drops: 1}, "0 packets captured\n1 packet received by filter\n1 packet dropped by kernel\n"},
		{200000, Stats{Packets: 400000, Drops: 12}, "200000 packets captured\n400000 packets received by filter\n12 packets dropped by kernel\n"},
	} {
		var b bytes.Buffer
		if err := WriteSummary(&b, tc.captured, tc.st); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("WriteSummary(%d, %+v):\n%s\nwant\n%s", tc.captured, tc.st, b.String(), tc.want)
		}
	}
}

func TestNewFilterVM(t *testing.T) {
	prog, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 1}})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := NewFilterVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := vm.Run(make([]byte, 14)); n != 1 || err != nil {
		t.Errorf("Run = %d, %v", n, err)
	}
	if _, err := NewFilterVM([]bpf.RawInstruction{{Op: 0xffff}}); err == nil {
		t.Error("an undecodable instruction was accepted")
	}
}

func TestLoopbackIndex(t *testing.T) {
	i, err := LoopbackIndex()
	if err != nil {
		t.Fatal(err)
	}
	if i <= 0 {
		t.Skip("no loopback device in this namespace")
	}
	ifi, err := net.InterfaceByIndex(i)
	if err != nil || ifi.Flags&net.FlagLoopback == 0 {
		t.Errorf("index %d: %v %v", i, ifi, err)
	}
}

// TestLoopAllocs: the per-packet path (skip, filter, count, hand over)
// allocates nothing.
func TestLoopAllocs(t *testing.T) {
	frame := make([]byte, 60)
	vm, err := bpf.NewVM([]bpf.Instruction{bpf.LoadAbsolute{Off: 12, Size: 2}, bpf.RetA{}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	read := func() (CaptureInfo, []byte, error) {
		n++
		if n%2 == 0 {
			return pkt(1, unix.PACKET_OUTGOING), frame, nil
		}
		return pkt(1, unix.PACKET_HOST), frame, nil
	}
	frame[12] = 8
	out := func(CaptureInfo, []byte) error { return nil }
	l := &Loop{Loopback: 1, Filter: vm, Packet: out}
	allocs := testing.AllocsPerRun(10, func() {
		l.Count = l.Captured() + 1000
		if err := l.Run(read, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 1000 packets, want 0", allocs)
	}
}

func TestPacketOutgoing(t *testing.T) {
	if PacketOutgoing != unix.PACKET_OUTGOING || hardwareEther != unix.ARPHRD_ETHER || hardwareLoopback != unix.ARPHRD_LOOPBACK {
		t.Errorf("PacketOutgoing = %d, unix.PACKET_OUTGOING = %d; ARPHRD_ETHER, ARPHRD_LOOPBACK %d, %d here, %d, %d in x/sys",
			PacketOutgoing, unix.PACKET_OUTGOING, hardwareEther, hardwareLoopback, unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK)
	}
}

// BenchmarkLoopWrite: the user-space cost per packet of rawsock sniff -w,
// the ring aside: the loop's checks and a pcap record into a buffer.
func BenchmarkLoopWrite(b *testing.B) {
	frame := make([]byte, 14+20+8+64)
	ci := pkt(1, unix.PACKET_HOST)
	ci.CaptureLength, ci.Length = len(frame), len(frame)
	ci.Timestamp = time.Now()
	bw := bufio.NewWriterSize(io.Discard, 256<<10)
	w, err := NewWriter(bw, 262144, LinkTypeEthernet)
	if err != nil {
		b.Fatal(err)
	}
	l := &Loop{Loopback: 1, Count: uint64(b.N), Packet: w.WritePacket}
	b.ReportAllocs()
	b.ResetTimer()
	if err := l.Run(func() (CaptureInfo, []byte, error) { return ci, frame, nil }, nil); err != nil {
		b.Fatal(err)
	}
}
