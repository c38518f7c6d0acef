//go:build linux

package netns

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// families runs f once for IPv4 and once for IPv6.
func families(t *testing.T, f func(t *testing.T, v4 bool)) {
	for _, v4 := range []bool{true, false} {
		name := "ipv6"
		if v4 {
			name = "ipv4"
		}
		t.Run(name, func(t *testing.T) { f(t, v4) })
	}
}

func pick(v4 bool, a4, a6 netip.Addr) netip.Addr {
	if v4 {
		return a4
	}
	return a6
}

func sockaddr(a netip.Addr, port int) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

func addrOf(sa unix.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr)
	}
	return netip.Addr{}
}

// socketIn opens a socket inside ns, bound to bind:port when bind is valid,
// with a receive timeout, closed at the end of the test.
func socketIn(t *testing.T, ns *Namespace, typ, proto int, bind netip.Addr, port int) int {
	t.Helper()
	fam := unix.AF_INET6
	if bind.Is4() {
		fam = unix.AF_INET
	}
	fd := -1
	err := ns.Do(func() (err error) {
		if fd, err = unix.Socket(fam, typ|unix.SOCK_CLOEXEC, proto); err != nil {
			return os.NewSyscallError("socket", err)
		}
		if typ == unix.SOCK_DGRAM && proto == 0 {
			return os.NewSyscallError("bind", unix.Bind(fd, sockaddr(bind, port)))
		}
		return nil
	})
	if fd >= 0 {
		t.Cleanup(func() { unix.Close(fd) })
	}
	if err != nil {
		t.Fatalf("%s: %v", ns.Label, err)
	}
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

// recvfrom and recvmsg retry EINTR: a blocking socket call with a timeout
// (SO_RCVTIMEO) is never restarted after a signal, and the Go runtime sends
// its threads signals (preemption).
func recvfrom(fd int, buf []byte) (int, unix.Sockaddr, error) {
	for {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if !errors.Is(err, unix.EINTR) {
			return n, from, err
		}
	}
}

func recvmsg(fd int, buf, oob []byte) (n, oobn, flags int, from unix.Sockaddr, err error) {
	for {
		n, oobn, flags, from, err = unix.Recvmsg(fd, buf, oob, 0)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

func localPort(t *testing.T, fd int) int {
	t.Helper()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return sa.Port
	case *unix.SockaddrInet6:
		return sa.Port
	}
	t.Fatalf("getsockname: %T", sa)
	return 0
}

// TestLineForwards proves the line carries datagrams both ways through all
// three routers (the TTL drops by three), and that sockets opened by Do stay
// in their namespace when used later from the test goroutine.
func TestLineForwards(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 3)
	families(t, func(t *testing.T, v4 bool) {
		aAddr, bAddr := pick(v4, l.A.Addr4(), l.A.Addr6()), pick(v4, l.B.Addr4(), l.B.Addr6())
		a := socketIn(t, l.A, unix.SOCK_DGRAM, 0, aAddr, 0)
		b := socketIn(t, l.B, unix.SOCK_DGRAM, 0, bAddr, 0)
		if v4 {
			if err := unix.SetsockoptInt(b, unix.IPPROTO_IP, unix.IP_RECVTTL, 1); err != nil {
				t.Fatal(err)
			}
		} else if err := unix.SetsockoptInt(b, unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1); err != nil {
			t.Fatal(err)
		}

		// A's address exists only inside A: the test goroutine is not there.
		fam := unix.AF_INET6
		if v4 {
			fam = unix.AF_INET
		}
		probe, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = unix.Bind(probe, sockaddr(aAddr, 0))
		unix.Close(probe)
		if !errors.Is(err, unix.EADDRNOTAVAIL) {
			t.Fatalf("bind %s outside the namespace: got %v, want EADDRNOTAVAIL", aAddr, err)
		}

		if err := unix.Sendto(a, []byte("ping"), 0, sockaddr(bAddr, localPort(t, b))); err != nil {
			t.Fatal(err)
		}
		buf, oob := make([]byte, 64), make([]byte, 128)
		n, oobn, _, from, err := recvmsg(b, buf, oob)
		if err != nil {
			t.Fatalf("B got nothing from A: %v", err)
		}
		if string(buf[:n]) != "ping" || addrOf(from) != aAddr {
			t.Fatalf("B got %q from %v, want \"ping\" from %v", buf[:n], addrOf(from), aAddr)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 || len(msgs[0].Data) < 4 {
			t.Fatalf("no TTL control message: %v %v", msgs, err)
		}
		if ttl := binary.NativeEndian.Uint32(msgs[0].Data); ttl != 64-3 {
			t.Errorf("B saw TTL %d, want %d (64 less 3 routers)", ttl, 64-3)
		}

		if err := unix.Sendto(b, []byte("pong"), 0, from); err != nil {
			t.Fatal(err)
		}
		n, from, err = recvfrom(a, buf)
		if err != nil {
			t.Fatalf("A got nothing from B: %v", err)
		}
		if string(buf[:n]) != "pong" || addrOf(from) != bAddr {
			t.Fatalf("A got %q from %v (%v), want \"pong\" from %v", buf[:n], from, err, bAddr)
		}
	})
}

type icmpErr struct {
	from       netip.Addr
	typ, code  uint8
	errno      syscall.Errno
	originICMP bool
}

// readErrs collects up to n ICMP errors from a socket's error queue
// (IP_RECVERR, IPV6_RECVERR) within d.
func readErrs(t *testing.T, fd, n int, d time.Duration) []icmpErr {
	t.Helper()
	var out []icmpErr
	buf, oob := make([]byte, 512), make([]byte, 512)
	deadline := time.Now().Add(d)
	for len(out) < n {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		pfd := []unix.PollFd{{Fd: int32(fd)}} // POLLERR is always reported
		if _, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatal(err)
		}
		for {
			_, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			if errors.Is(err, unix.EAGAIN) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				v4 := m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR
				v6 := m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR
				if !v4 && !v6 || len(m.Data) < 16+8 {
					continue
				}
				e := icmpErr{
					errno:      syscall.Errno(binary.NativeEndian.Uint32(m.Data)),
					originICMP: m.Data[4] == unix.SO_EE_ORIGIN_ICMP || m.Data[4] == unix.SO_EE_ORIGIN_ICMP6,
					typ:        m.Data[5], code: m.Data[6],
				}
				sa := m.Data[16:] // the offender, struct sockaddr_in or sockaddr_in6
				if v4 {
					e.from = netip.AddrFrom4([4]byte(sa[4:8]))
				} else if len(sa) >= 24 {
					e.from = netip.AddrFrom16([16]byte(sa[8:24]))
				}
				out = append(out, e)
			}
		}
	}
	return out
}

// errSocket opens a UDP socket in A with IP_RECVERR (IPV6_RECVERR) and the
// given TTL.
func errSocket(t *testing.T, ns *Namespace, v4 bool, ttl int) int {
	t.Helper()
	fd := socketIn(t, ns, unix.SOCK_DGRAM, 0, pick(v4, ns.Addr4(), ns.Addr6()), 0)
	var err error
	if v4 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl)
		}
	} else {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// sendProbes sends n datagrams to dst. A queued ICMP error is also reported
// by the next send (sock_error); that send is simply repeated.
func sendProbes(t *testing.T, fd, n int, dst unix.Sockaddr) {
	t.Helper()
	for sent, tries := 0, 0; sent < n; tries++ {
		if tries > 10*n {
			t.Fatalf("sent only %d of %d probes", sent, n)
		}
		err := unix.Sendto(fd, []byte("probe"), 0, dst)
		switch {
		case err == nil:
			sent++
		case errors.Is(err, unix.EHOSTUNREACH), errors.Is(err, unix.ECONNREFUSED),
			errors.Is(err, unix.ENETUNREACH), errors.Is(err, unix.EACCES):
		default:
			t.Fatal(err)
		}
	}
}

const closedPort = 33434 // nothing listens in B: B answers port unreachable

// TestTimeExceeded sends bursts of 20 probes with TTL 1..4 through three
// routers: every probe is answered, by the right router, and the destination
// answers port unreachable. Under default ICMP rate limits a router answers
// only a handful of a burst (the control subtest shows it), so this also
// proves the helper's rate-limit sysctls.
func TestTimeExceeded(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 3)
	const burst = 20
	families(t, func(t *testing.T, v4 bool) {
		hops := l.Hops4
		dst := sockaddr(l.B.Addr4(), closedPort)
		wantTE, wantPU := icmpErr{typ: 11, code: 0}, icmpErr{typ: 3, code: 3}
		if !v4 {
			hops, dst = l.Hops6, sockaddr(l.B.Addr6(), closedPort)
			wantTE, wantPU = icmpErr{typ: 3, code: 0}, icmpErr{typ: 1, code: 4}
		}
		for ttl := 1; ttl <= len(hops); ttl++ {
			fd := errSocket(t, l.A, v4, ttl)
			sendProbes(t, fd, burst, dst)
			errs := readErrs(t, fd, burst, 3*time.Second)
			want := wantTE
			if ttl == len(hops) {
				want = wantPU
			}
			want.from = hops[ttl-1]
			if len(errs) != burst {
				t.Errorf("ttl %d: %d errors for %d probes", ttl, len(errs), burst)
			}
			for _, e := range errs {
				if !e.originICMP || e.from != want.from || e.typ != want.typ || e.code != want.code {
					t.Errorf("ttl %d: ICMP type %d code %d from %v (icmp origin %v), want type %d code %d from %v",
						ttl, e.typ, e.code, e.from, e.originICMP, want.typ, want.code, want.from)
					break
				}
			}
		}
	})
	t.Run("control", func(t *testing.T) {
		// Back to the kernel defaults on r1: the same burst loses answers.
		l.Routers[0].Sysctl("net.ipv4.icmp_ratelimit", "1000")
		l.Routers[0].Sysctl("net.ipv4.icmp_ratemask", "6168")
		fd := errSocket(t, l.A, true, 1)
		sendProbes(t, fd, burst, sockaddr(l.B.Addr4(), closedPort))
		if errs := readErrs(t, fd, burst, 500*time.Millisecond); len(errs) >= burst {
			t.Errorf("with icmp_ratelimit=1000 r1 still answered %d of %d probes: the test cannot see rate limiting", len(errs), burst)
		} else {
			t.Logf("with icmp_ratelimit=1000, r1 answered %d of %d", len(errs), burst)
		}
	})
}

// TestUnreachable proves the Line's unreachable and prohibited addresses are
// answered by the last router with the ICMP error of their route type.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 2)
	last := l.Hops4[len(l.Routers)-1]
	last6 := l.Hops6[len(l.Routers)-1]
	cases := []struct {
		name      string
		dst, from netip.Addr
		typ, code uint8
		errno     syscall.Errno
	}{
		{"unreachable4", l.Unreachable4, last, 3, 1, unix.EHOSTUNREACH},
		{"prohibited4", l.Prohibited4, last, 3, 13, unix.EHOSTUNREACH},
		{"unreachable6", l.Unreachable6, last6, 1, 0, unix.ENETUNREACH},
		{"prohibited6", l.Prohibited6, last6, 1, 1, unix.EACCES},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fd := errSocket(t, l.A, c.dst.Is4(), 64)
			sendProbes(t, fd, 1, sockaddr(c.dst, closedPort))
			errs := readErrs(t, fd, 1, 3*time.Second)
			if len(errs) != 1 {
				t.Fatalf("no ICMP error for %v\n%s", c.dst, l.Dump())
			}
			e := errs[0]
			if e.from != c.from || e.typ != c.typ || e.code != c.code || e.errno != c.errno {
				t.Errorf("got type %d code %d (%v) from %v, want type %d code %d (%v) from %v",
					e.typ, e.code, e.errno, e.from, c.typ, c.code, c.errno, c.from)
			}
		})
	}
}

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
		p.send(t, n)
		// Stop as soon as every request the rule let through has its reply.
		p.wait(func(total int) bool {
			_, dropped, err := rule.Counters()
			return err == nil && uint64(total)+dropped >= n
		})
		matched, dropped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
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

// TestSysctl proves the per-namespace sysctls: set where asked and nowhere
// else, and the ones the helper sets itself.
func TestSysctl(t *testing.T) {
	t.Parallel()
	l := NewLine(t, 1)
	root, err := readSysctl("net.ipv4.ping_group_range")
	if err != nil {
		t.Fatal(err)
	}
	l.A.Sysctl("net.ipv4.ping_group_range", "100 200")
	if got := l.A.ReadSysctl("net.ipv4.ping_group_range"); got != "100\t200" {
		t.Errorf("A: ping_group_range %q, want \"100\\t200\"", got)
	}
	if got := l.B.ReadSysctl("net/ipv4/ping_group_range"); got == "100\t200" {
		t.Errorf("B sees A's ping_group_range")
	}
	if now, _ := readSysctl("net.ipv4.ping_group_range"); now != root {
		t.Errorf("root namespace ping_group_range changed from %q to %q", root, now)
	}
	for _, c := range []struct {
		ns   *Namespace
		key  string
		want string
	}{
		{l.Routers[0], "net.ipv4.ip_forward", "1"},
		{l.Routers[0], "net.ipv6.conf.all.forwarding", "1"},
		{l.Routers[0], "net.ipv6.conf.eth1.forwarding", "1"},
		{l.A, "net.ipv4.ip_forward", "0"},
		{l.A, "net.ipv6.conf.all.forwarding", "0"},
		{l.A, "net.ipv4.icmp_ratelimit", "0"},
		{l.B, "net.ipv6.icmp.ratelimit", "0"},
		{l.Routers[0], "net.ipv4.icmp_msgs_burst", "1000000"},
		{l.Routers[0], "net.ipv6.conf.eth0.accept_dad", "0"},
	} {
		if got := c.ns.ReadSysctl(c.key); got != c.want {
			t.Errorf("%s: %s = %q, want %q", c.ns.Label, c.key, got, c.want)
		}
	}
	if up := l.B.IP("-o", "link", "show", "lo"); !strings.Contains(up, "UP") {
		t.Errorf("loopback not up in B: %s", up)
	}
}

// TestCommandAndStart proves both ways of running a binary inside a
// namespace, the second as an unprivileged user.
func TestCommandAndStart(t *testing.T) {
	t.Parallel()
	tp := New(t)
	ns := tp.Host("h")
	want := fmt.Sprintf("net:[%d]", ns.id.ino)

	out, err := ns.Command("readlink", "/proc/self/ns/net").Output()
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("Command: %q %v, want %s", out, err, want)
	}

	cmd := exec.Command("sh", "-c", "id -u; readlink /proc/self/ns/net")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var buf strings.Builder
	cmd.Stdout = &buf
	if err := ns.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "65534\n"+want+"\n" {
		t.Errorf("Start as nobody: %q, want uid 65534 in %s", got, want)
	}
}

// threadsOutside lists this process's threads that are not in the root
// network namespace.
func threadsOutside(t *testing.T) []string {
	// This goroutine's thread never joins a namespace; the main thread
	// (/proc/self) might, if Do let it.
	root, err := statNS("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if id, err := statNS("/proc/self/task/" + e.Name() + "/ns/net"); err == nil && id != root {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestDoThreads proves that no thread stays behind in a namespace once Do
// returns (so no goroutine is ever scheduled there), that panics and
// Goexit inside f reach the caller, and that Do after cleanup is an error.
// Not parallel: it looks at every thread of the process.
func TestDoThreads(t *testing.T) {
	Require(t)
	var gone *Namespace
	t.Run("build", func(t *testing.T) {
		tp := New(t)
		ns := tp.Host("h")
		gone = ns
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ns.Do(func() error { runtime.Gosched(); return nil }); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// The locked threads exit just after their goroutines; give them time.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			left := threadsOutside(t)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("threads %v still in another network namespace after Do returned", left)
			}
		}

		sentinel := errors.New("from f")
		if err := ns.Do(func() error { return sentinel }); err != sentinel {
			t.Errorf("Do returned %v, want f's error", err)
		}
		for _, c := range []struct {
			name string
			f    func() error
			want string
		}{
			{"panic", func() error { panic("boom") }, "boom"},
			{"goexit", func() error { runtime.Goexit(); return nil }, "Goexit"},
		} {
			func() {
				defer func() {
					p := recover()
					if s, _ := p.(string); !strings.Contains(s, c.want) || !strings.Contains(s, "panic in "+ns.Name) {
						t.Errorf("%s: recovered %v, want a panic naming %q", c.name, p, c.want)
					}
				}()
				ns.Do(c.f)
				t.Errorf("%s: Do returned", c.name)
			}()
		}
	})
	if err := gone.Do(func() error { return nil }); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("Do after cleanup: %v, want an error saying the namespace is gone", err)
	}
}

// netnsState is what the system shows of this package's namespaces.
func netnsState(t *testing.T) (files, listed, mounts []string) {
	t.Helper()
	ents, _ := os.ReadDir(netnsDir)
	for _, e := range ents {
		files = append(files, e.Name())
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed = append(listed, f[0])
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, netnsDir+"/") {
			mounts = append(mounts, line)
		}
	}
	return files, listed, mounts
}

// assertGone fails if any of names is still a file, a listed namespace or a
// mount.
func assertGone(t *testing.T, names []string) {
	t.Helper()
	files, listed, mounts := netnsState(t)
	for _, n := range names {
		if slices.Contains(files, n) {
			t.Errorf("%s still in %s", n, netnsDir)
		}
		if slices.Contains(listed, n) {
			t.Errorf("%s still in ip netns list", n)
		}
		for _, m := range mounts {
			if strings.Contains(m, "/"+n+" ") {
				t.Errorf("%s still mounted: %s", n, m)
			}
		}
	}
}

// waitExit waits for cmd with a bound and reports whether it ended.
func waitExit(cmd *exec.Cmd, d time.Duration) error {
	c := make(chan error, 1)
	go func() { c <- cmd.Wait() }()
	select {
	case err := <-c:
		return err
	case <-time.After(d):
		return errors.New("still running")
	}
}

// TestCleanup proves a topology leaves nothing: files, ip netns list
// entries and mounts are gone, processes started inside are killed, and the
// namespaces are really destroyed, which a veth end in a witness namespace
// of another topology shows by disappearing.
func TestCleanup(t *testing.T) {
	t.Parallel()
	witness := New(t).Host("witness")
	var names []string
	var cmds []*exec.Cmd
	var sawW *Link
	t.Run("topology", func(t *testing.T) {
		l := NewLine(t, 2)
		for _, ns := range []*Namespace{l.A, l.B, l.Routers[0], l.Routers[1]} {
			names = append(names, ns.Name)
		}
		// The same observation as assertGone sees the names while they live.
		files, listed, mounts := netnsState(t)
		for _, n := range names {
			if !slices.Contains(files, n) || !slices.Contains(listed, n) ||
				!slices.ContainsFunc(mounts, func(m string) bool { return strings.Contains(m, "/"+n+" ") }) {
				t.Fatalf("%s not visible: files %v, listed %v", n, files, listed)
			}
		}
		var err error
		if sawW, err = l.Topology.connect(witness, l.B); err != nil {
			t.Fatal(err)
		}
		cmd := l.A.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		cmd = exec.Command("sleep", "600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if err := l.Routers[0].Start(cmd); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	})
	if t.Failed() {
		return
	}
	assertGone(t, names)
	for _, cmd := range cmds {
		if err := waitExit(cmd, 5*time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("%v (pid %d): %v, want killed at cleanup", cmd.Args, cmd.Process.Pid, err)
		}
	}
	// B's namespace is destroyed only when nothing holds it any more; then
	// its veth pairs are deleted, the witness's end with them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := witness.run("", "ip", "link", "show", sawW.AIf); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of the witness survives: B's namespace was never destroyed", sawW.AIf)
		}
	}
}

// childReport is what TestHelperChild writes for its parent.
type childReport struct {
	Names []string
	Sleep int
}

// TestHelperChild is not a test: the tests below run it in a child process
// (RSNETNS_CHILD set) to build a topology and then fail, panic or hang.
func TestHelperChild(t *testing.T) {
	mode := os.Getenv("RSNETNS_CHILD")
	if mode == "" {
		return
	}
	l := NewLine(t, 1)
	cmd := l.A.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// ip netns exec takes a moment to join the namespace and exec sleep.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if id, err := statNS(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)); err == nil && id == l.A.id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sleep never entered A's namespace")
		}
	}
	rep := childReport{Names: []string{l.A.Name, l.Routers[0].Name, l.B.Name}, Sleep: cmd.Process.Pid}
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(os.Getenv("RSNETNS_OUT"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "fail":
		t.Fatal("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "hang":
		fmt.Println("ready")
		time.Sleep(time.Minute)
	}
}

func startChild(t *testing.T, mode string) (*exec.Cmd, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChild$", "-test.v", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), "RSNETNS_CHILD="+mode, "RSNETNS_OUT="+out)
	return cmd, out
}

func readReport(t *testing.T, path string) childReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("child wrote no report: %v", err)
	}
	var rep childReport
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Names) != 3 || rep.Sleep <= 0 {
		t.Fatalf("bad report %q: %v", b, err)
	}
	return rep
}

// alive reports whether pid runs inside one of this package's namespaces
// (a zombie, or a pid reused by an unrelated process, does not count).
func aliveInNS(pid int) bool {
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return false
	}
	root, _ := os.Readlink("/proc/thread-self/ns/net")
	return link != root
}

// TestCleanupAfterFailure proves cleanup runs when a test fails or panics:
// a child test process builds a line, starts a process in it, and fails.
// Not parallel, like TestSweep: a child's own first sweep must not race the
// parent's.
func TestCleanupAfterFailure(t *testing.T) {
	Require(t)
	for _, mode := range []string{"fail", "panic"} {
		t.Run(mode, func(t *testing.T) {
			cmd, path := startChild(t, mode)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("child passed:\n%s", out)
			}
			if !strings.Contains(string(out), "on purpose") {
				t.Fatalf("child did not get to fail:\n%s", out)
			}
			rep := readReport(t, path)
			assertGone(t, rep.Names)
			if aliveInNS(rep.Sleep) {
				t.Errorf("process %d started in the child's namespace survived", rep.Sleep)
			}
		})
	}
}

// TestSweep kills a child test process that holds a topology (SIGKILL: no
// cleanup can run) and proves Sweep removes its namespaces and the process
// left in one, while keeping live ones: this process's, and a name carrying
// a pid that exists (1). A name with this process's pid that it did not make
// (a reused pid) is stale.
func TestSweep(t *testing.T) {
	Require(t)
	cmd, path := startChild(t, "hang")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child never got ready")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	rep := readReport(t, path)
	if !aliveInNS(rep.Sleep) {
		t.Fatalf("process %d in the killed child's namespace is not there to sweep", rep.Sleep)
	}

	mine := New(t).Host("mine")
	keep := fmt.Sprintf("%s1-%d-keep", Prefix, os.Getpid()) // pid 1 exists
	reused := nsName(1<<40, "reused")                       // this pid, not made by this process
	for _, n := range []string{keep, reused} {
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v %s", n, err, out)
		}
		t.Cleanup(func() { removeNS(nsPath(n)) })
	}

	// Another test process on the machine may sweep the child's namespaces
	// first: the same code, so they only have to be gone.
	files, _, _ := netnsState(t)
	present := map[string]bool{}
	for _, f := range files {
		present[f] = true
	}
	removed, err := Sweep()
	if err != nil {
		t.Error(err)
	}
	want := append([]string{reused}, rep.Names...)
	for _, n := range want {
		found := false
		for _, r := range removed {
			found = found || r == n
		}
		if !found && present[n] {
			t.Errorf("Sweep did not remove %s (removed %v)", n, removed)
		} else if !found {
			t.Logf("%s was swept by another process", n)
		}
	}
	for _, r := range removed {
		if r == keep || r == mine.Name {
			t.Errorf("Sweep removed %s, which is not stale", r)
		}
	}
	assertGone(t, want)
	if _, err := os.Stat(nsPath(keep)); err != nil {
		t.Errorf("%s: %v", keep, err)
	}
	if err := mine.Do(func() error { return nil }); err != nil {
		t.Errorf("live namespace harmed by Sweep: %v", err)
	}
	if aliveInNS(rep.Sleep) {
		t.Errorf("process %d inside a swept namespace survived", rep.Sleep)
	}
}

// TestParallelTopologies builds several lines at once with the same labels:
// names stay unique and each line works.
func TestParallelTopologies(t *testing.T) {
	Require(t)
	t.Parallel()
	var mu sync.Mutex
	names := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				l := NewLine(t, 1)
				mu.Lock()
				for _, ns := range []*Namespace{l.A, l.Routers[0], l.B} {
					if names[ns.Name] {
						t.Errorf("name %s used twice", ns.Name)
					}
					names[ns.Name] = true
				}
				mu.Unlock()
				a := socketIn(t, l.A, unix.SOCK_DGRAM, 0, l.A.Addr4(), 0)
				b := socketIn(t, l.B, unix.SOCK_DGRAM, 0, l.B.Addr4(), 0)
				if err := unix.Sendto(a, []byte{byte(i)}, 0, sockaddr(l.B.Addr4(), localPort(t, b))); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 8)
				if n, _, err := recvfrom(b, buf); err != nil || n != 1 || buf[0] != byte(i) {
					t.Fatalf("got %v %v\n%s", buf[:max(n, 0)], err, l.Dump())
				}
			})
		}
	})
	if len(names) != 12 && !t.Failed() {
		t.Errorf("%d names for 4 lines of 3", len(names))
	}
}

// TestAutoRoutes checks the routes chosen for a diamond with one long side,
// A—r1—B and A—r2—r3—B, without making namespaces.
func TestAutoRoutes(t *testing.T) {
	tp := &Topology{}
	ns := map[string]*Namespace{}
	for _, n := range []string{"a", "b", "r1", "r2", "r3"} {
		ns[n] = &Namespace{Label: n, tp: tp}
	}
	link := func(x, y string) *Link {
		i := len(tp.links) + 1
		l := &Link{A: ns[x], B: ns[y],
			Net4: netip.MustParsePrefix(fmt.Sprintf("10.0.%d.0/24", i)),
			Net6: netip.MustParsePrefix(fmt.Sprintf("fd00:0:0:%x::/64", i)),
			A4:   netip.MustParseAddr(fmt.Sprintf("10.0.%d.1", i)), B4: netip.MustParseAddr(fmt.Sprintf("10.0.%d.2", i)),
			A6: netip.MustParseAddr(fmt.Sprintf("fd00:0:0:%x::1", i)), B6: netip.MustParseAddr(fmt.Sprintf("fd00:0:0:%x::2", i)),
		}
		tp.links = append(tp.links, l)
		ns[x].links = append(ns[x].links, l)
		ns[y].links = append(ns[y].links, l)
		return l
	}
	link("a", "r1")  // 1
	link("r1", "b")  // 2
	link("a", "r2")  // 3
	link("r2", "r3") // 4
	link("r3", "b")  // 5
	got := strings.Join(autoRoutes(ns["a"], tp.links), "\n")
	want := strings.Join([]string{
		"route replace 10.0.2.0/24 via 10.0.1.2", "route replace fd00:0:0:2::/64 via fd00:0:0:1::2",
		"route replace 10.0.4.0/24 via 10.0.3.2", "route replace fd00:0:0:4::/64 via fd00:0:0:3::2",
		"route replace 10.0.5.0/24 via 10.0.1.2", "route replace fd00:0:0:5::/64 via fd00:0:0:1::2",
	}, "\n")
	if got != want {
		t.Errorf("routes of a:\n%s\nwant:\n%s", got, want)
	}
	// r3 reaches link 1 (a—r1) in two hops either way; the first link
	// found wins: r3's link 4 to r2 comes before link 5 to b.
	got = strings.Join(autoRoutes(ns["r3"], tp.links), "\n")
	if !strings.Contains(got, "route replace 10.0.1.0/24 via 10.0.4.1") || !strings.Contains(got, "route replace 10.0.2.0/24 via 10.0.5.2") {
		t.Errorf("routes of r3:\n%s", got)
	}
}

// TestBadInput checks that bad arguments are one-line errors naming the
// cause, without touching the system.
func TestBadInput(t *testing.T) {
	ns := &Namespace{Name: "x", tp: &Topology{}}
	router := &Namespace{Name: "y", Router: true, tp: &Topology{}}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"percent<0", errOf(ns.loss(-1, "icmp type echo-request")), "outside 0..100"},
		{"percent>100", errOf(ns.loss(101, "icmp type echo-request")), "outside 0..100"},
		{"empty match", errOf(ns.loss(30, " ")), "empty match"},
		{"two statements", errOf(ns.loss(30, "udp; flush ruleset")), "one nft expression"},
		{"dup on a host", errOf(ns.dup("icmp type echo-reply", netip.MustParseAddr("10.0.1.1"))), "not a router"},
		{"dup empty match", errOf(router.dup("", netip.MustParseAddr("10.0.1.1"))), "empty match"},
		{"sysctl ..", errOf(sysctlPath("net/../../etc/passwd")), "bad sysctl name"},
		{"self link", errOf(ns.tp.connect(ns, ns)), "itself"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || strings.Contains(c.err.Error(), "\n") {
			t.Errorf("%s: %v, want one line containing %q", c.name, c.err, c.want)
		}
	}
	for name, want := range map[string]int{
		Prefix + "123-4-a":  123,
		Prefix + "123-4-":   123,
		Prefix + "123":      0,
		Prefix + "x-4-a":    0,
		Prefix + "-1-4-a":   0,
		"rsnetns123-4-a":    0,
		"other-123-4-a":     0,
		nsName(7, "a b/c!"): os.Getpid(),
	} {
		if pid, _ := namePID(name); pid != want {
			t.Errorf("namePID(%q) = %d, want %d", name, pid, want)
		}
	}
	if p, _ := sysctlPath("net.ipv4.ip_forward"); p != "/proc/sys/net/ipv4/ip_forward" {
		t.Errorf("sysctlPath: %s", p)
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestProbe proves the probe reports a missing ip(8) by name.
func TestProbe(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if err := probe(); err == nil || !strings.Contains(err.Error(), "ip (iproute2) not found") {
		t.Errorf("probe without ip in PATH: %v", err)
	}
}

// TestUnprivilegedSkips proves that without CAP_SYS_ADMIN the probe fails
// and tests skip with the reason. As root it runs itself again as nobody.
func TestUnprivilegedSkips(t *testing.T) {
	if os.Geteuid() == 0 && os.Getenv("RSNETNS_UNPRIV") == "" {
		// t.TempDir's parent is private to root: nobody could not exec.
		dir, err := os.MkdirTemp("", "netns-unpriv-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "netns.test")
		b, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestUnprivilegedSkips$", "-test.v")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "RSNETNS_UNPRIV=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- SKIP: TestUnprivilegedSkips/line") ||
			!strings.Contains(string(out), "CAP_SYS_ADMIN") {
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
		t.Logf("as nobody:\n%s", out)
		return
	}
	if hasCapSysAdmin(t) {
		t.Skip("this process has CAP_SYS_ADMIN: nothing to prove here")
	}
	if err := Check(); err == nil {
		t.Fatal("Check passed without CAP_SYS_ADMIN")
	} else {
		t.Logf("Check: %v", err)
	}
	ran := false
	sub := t.Run("line", func(t *testing.T) {
		NewLine(t, 1)
		ran = true
	})
	if ran || !sub {
		t.Errorf("NewLine did not skip without privilege")
	}
}

func hasCapSysAdmin(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<unix.CAP_SYS_ADMIN) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

// cleanupTB collects cleanups so that a benchmark can end a topology per
// iteration.
type cleanupTB struct {
	testing.TB
	fns []func()
}

func (c *cleanupTB) Cleanup(f func()) { c.fns = append(c.fns, f) }

func (c *cleanupTB) runCleanup() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
	c.fns = nil
}

// BenchmarkNewLine measures building A — r1 — r2 — r3 — B (five
// namespaces, four links, routes), the first IPv6 datagram from A to B, and
// the cleanup. "back-to-back" builds while the kernel still destroys the
// previous iteration's namespaces (which holds RTNL and delays linkwatch,
// which Connect waits for); "settled" first lets it finish.
func BenchmarkNewLine(b *testing.B) {
	Require(b)
	for _, pause := range []time.Duration{0, time.Second} {
		name := "back-to-back"
		if pause > 0 {
			name = "settled"
		}
		b.Run(name, func(b *testing.B) {
			var setup, first, cleanup time.Duration
			for i := 0; i < b.N; i++ {
				if pause > 0 {
					time.Sleep(pause)
				}
				tb := &cleanupTB{TB: b}
				t0 := time.Now()
				l := NewLine(tb, 3)
				t1 := time.Now()
				var sa, sb int
				l.A.Do(func() (err error) {
					sa, err = unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
					return err
				})
				l.B.Do(func() (err error) {
					sb, err = unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
					return err
				})
				if err := unix.Bind(sb, sockaddr(l.B.Addr6(), 7)); err != nil {
					b.Fatal(err)
				}
				if err := unix.Sendto(sa, []byte("x"), 0, sockaddr(l.B.Addr6(), 7)); err != nil {
					b.Fatal(err)
				}
				if _, _, err := recvfrom(sb, make([]byte, 8)); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				unix.Close(sa)
				unix.Close(sb)
				tb.runCleanup()
				setup, first, cleanup = setup+t1.Sub(t0), first+t2.Sub(t1), cleanup+time.Since(t2)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(setup.Microseconds())/1e3/float64(b.N), "ms-setup/op")
			b.ReportMetric(float64(first.Microseconds())/float64(b.N), "us-first-v6-datagram/op")
			b.ReportMetric(float64(cleanup.Microseconds())/1e3/float64(b.N), "ms-cleanup/op")
		})
	}
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
		p.send(t, n)
		p.wait(func(total int) bool {
			_, dropped, err := rule.Counters()
			return err == nil && uint64(total)+dropped >= n
		})
		matched, dropped, err := rule.Counters()
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(n * percent / 100); matched != n || dropped != want {
			t.Errorf("Loss(%d): matched %d dropped %d, want %d and %d", percent, matched, dropped, n, want)
		}
		if err := rule.Delete(); err != nil {
			t.Fatal(err)
		}
	}
}
