//go:build linux

package netns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

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
