//go:build linux

package netns

import (
	"encoding/binary"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pinger sends ICMP echo requests from an unprivileged ICMP socket (which
// needs ping_group_range opened in the namespace) and counts the replies for
// each sequence number.
type pinger struct {
	fd    int
	dst   unix.Sockaddr
	v4    bool
	mu    sync.Mutex
	seen  map[uint16]int
	total int
	last  time.Time
}

func newPinger(t *testing.T, ns *Namespace, dst netip.Addr) *pinger {
	t.Helper()
	ns.Sysctl("net.ipv4.ping_group_range", "0 2147483647")
	p := &pinger{dst: sockaddr(dst, 0), v4: dst.Is4(), seen: map[uint16]int{}}
	proto := unix.IPPROTO_ICMPV6
	if p.v4 {
		proto = unix.IPPROTO_ICMP
	}
	p.fd = socketIn(t, ns, unix.SOCK_DGRAM, proto, dst, 0)
	tv := unix.NsecToTimeval(int64(300 * time.Millisecond))
	if err := unix.SetsockoptTimeval(p.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	// Room for every reply even if the reader is descheduled on a busy
	// machine: a full socket buffer would lose replies the rule did not drop.
	if err := unix.SetsockoptInt(p.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
		t.Fatal(err)
	}
	return p
}

// socketDrops returns how many packets the kernel dropped at the socket
// (SO_MEMINFO, SK_MEMINFO_DROPS).
func (p *pinger) socketDrops(t *testing.T) uint32 {
	var mi [unix.SK_MEMINFO_VARS]uint32
	l := uint32(unsafe.Sizeof(mi))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(p.fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&mi[0])), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
		t.Fatal(os.NewSyscallError("getsockopt(SO_MEMINFO)", e))
	}
	return mi[unix.SK_MEMINFO_DROPS]
}

// send sends n echo requests, sequence numbers 0 to n-1, in small bursts
// while a goroutine counts the replies until the end of the test (it ends
// before the socket is closed, so it never reads a reused fd).
func (p *pinger) send(t *testing.T, n int) {
	t.Helper()
	p.last = time.Now()
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			select {
			case <-stop:
				return
			default:
			}
			m, _, err := unix.Recvfrom(p.fd, buf, 0)
			if err != nil || m < 8 || p.v4 && buf[0] != 0 || !p.v4 && buf[0] != 129 {
				continue // timeouts, EINTR, or not an echo reply
			}
			p.mu.Lock()
			p.seen[binary.BigEndian.Uint16(buf[6:])]++
			p.total++
			p.last = time.Now()
			p.mu.Unlock()
		}
	}()
	typ := byte(128)
	if p.v4 {
		typ = 8
	}
	for seq := 0; seq < n; seq++ {
		// The kernel fills the identifier and the checksum.
		msg := []byte{typ, 0, 0, 0, 0, 0, byte(seq >> 8), byte(seq), 'r', 's', 'n', 's'}
		if err := unix.Sendto(p.fd, msg, 0, p.dst); err != nil {
			t.Fatalf("sendto: %v", err)
		}
		if seq%25 == 24 {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// wait returns once want() holds, or nothing came for a second, or after
// 20 seconds.
func (p *pinger) wait(want func(total int) bool) {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		total, last := p.total, p.last
		p.mu.Unlock()
		if want(total) || time.Since(last) > time.Second {
			return
		}
	}
}

// TestLoss drops 30% of the echo requests crossing r2: the replies missing
// are exactly what the rule's counter says it dropped, every request was
// counted by its match, and the fraction is near 30%.
func TestLoss(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 3)
	families(t, func(t *testing.T, v4 bool) {
		match := "icmpv6 type echo-request"
		if v4 {
			match = "icmp type echo-request"
		}
		rule := l.Routers[1].Loss(30, match)
		p := newPinger(t, l.A, pick(v4, l.B.Addr4(), l.B.Addr6()))
		const n = 500
		matched, dropped := sendThroughLoss(t, p, rule, n)
		p.mu.Lock()
		defer p.mu.Unlock()
		got := 0
		for seq, c := range p.seen {
			if c != 1 || int(seq) >= n {
				t.Errorf("seq %d: %d replies", seq, c)
			}
			got++
		}
		t.Logf("sent %d, replies %d, rule matched %d dropped %d", n, got, matched, dropped)
		if matched != n {
			t.Errorf("rule matched %d packets, want %d", matched, n)
		}
		if uint64(got)+dropped != n {
			t.Errorf("%d replies + %d dropped != %d sent (socket dropped %d)\n%s", got, dropped, n, p.socketDrops(t), rule)
		}
		// Binomial(500, 0.3): sd is 2%; 10 points is five sd.
		if f := float64(dropped) / n; f < 0.2 || f > 0.4 {
			t.Errorf("dropped %.0f%%, want 30%% within 10 points", 100*f)
		}
		if err := rule.Delete(); err != nil {
			t.Fatal(err)
		}
	})
}

// sendThroughLoss sends n echo requests through a loss rule and returns
// its counters once every request the rule let through has its reply.
func sendThroughLoss(t *testing.T, p *pinger, rule *Rule, n int) (matched, dropped uint64) {
	t.Helper()
	p.send(t, n)
	p.wait(func(total int) bool {
		_, dropped, err := rule.Counters()
		return err == nil && uint64(total)+dropped >= uint64(n)
	})
	matched, dropped, err := rule.Counters()
	if err != nil {
		t.Fatal(err)
	}
	return matched, dropped
}

// TestDup duplicates every echo reply crossing r2 toward A: each sequence
// number gets exactly two replies and the counters say 50 copies.
func TestDup(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 3)
	families(t, func(t *testing.T, v4 bool) {
		match := "icmpv6 type echo-reply"
		if v4 {
			match = "icmp type echo-reply"
		}
		rule := l.Routers[1].Dup(match, pick(v4, l.A.Addr4(), l.A.Addr6()))
		p := newPinger(t, l.A, pick(v4, l.B.Addr4(), l.B.Addr6()))
		const n = 50
		p.send(t, n)
		p.wait(func(total int) bool { return total >= 2*n })
		time.Sleep(50 * time.Millisecond) // a third copy would arrive by now
		matched, duped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.seen) != n {
			t.Errorf("replies for %d sequence numbers, want %d (socket dropped %d)", len(p.seen), n, p.socketDrops(t))
		}
		for seq, c := range p.seen {
			if c != 2 {
				t.Errorf("seq %d: %d replies, want 2", seq, c)
			}
		}
		if matched != n || duped != n {
			t.Errorf("rule matched %d, duplicated %d, want %d each\n%s", matched, duped, n, rule)
		}
	})
}

// TestLossBounds: 0 and 100 percent, the ends nft's numgen cannot express
// the same way, install and do what they say.
func TestLossBounds(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 1)
	for _, percent := range []int{0, 100} {
		rule := l.Routers[0].Loss(percent, "icmp type echo-request")
		p := newPinger(t, l.A, l.B.Addr4())
		const n = 20
		matched, dropped := sendThroughLoss(t, p, rule, n)
		if want := uint64(n * percent / 100); matched != n || dropped != want {
			t.Errorf("Loss(%d): matched %d dropped %d, want %d and %d", percent, matched, dropped, n, want)
		}
		if err := rule.Delete(); err != nil {
			t.Fatal(err)
		}
	}
}
