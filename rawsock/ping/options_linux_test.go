package ping

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/internal/netns"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/sys/unix"
)

// TestPattern sends iputils' -p pattern: the requests carry it after the
// timestamp, the replies echo it and match (Mismatch -1).
func TestPattern(t *testing.T) {
	ns := pingNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 1, Size: 40, Pattern: []byte{0xff, 0x00, 0x5a}, Socket: SocketDgram})
	want := p.Payload()
	for i := TimestampLen; i < 40; i++ {
		if want[i] != []byte{0xff, 0x00, 0x5a}[i%3] {
			t.Fatalf("payload byte %d is %#x, want the pattern's %#x", i, want[i], []byte{0xff, 0x00, 0x5a}[i%3])
		}
	}
	var r record
	st, err := p.Run(context.Background(), func(e *Event) {
		r.add(e)
		if e.Kind == EventReply && !bytes.Equal(e.Data[TimestampLen:], want[TimestampLen:]) {
			t.Errorf("reply data % x, want % x", e.Data[TimestampLen:], want[TimestampLen:])
		}
	})
	if err != nil || st.Received != 1 {
		t.Fatalf("%+v, %v", st, err)
	}
	if e := r.kind(EventReply)[0]; e.Mismatch != -1 {
		t.Errorf("Mismatch %d on a reply that echoes the request", e.Mismatch)
	}
}

// echoReply4 is an IPv4 datagram carrying an echo reply from 127.0.0.1.
func echoReply4(t testing.TB, id, seq uint16, data []byte) []byte {
	t.Helper()
	m := packet.ICMP{Proto: packet.ProtoICMP, Type: icmp4EchoReply, ID: id, Seq: seq, Data: data}
	icmp, err := m.Append(nil, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	h := make([]byte, 20)
	h[0], h[8], h[9] = 0x45, 64, packet.ProtoICMP
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(icmp)))
	copy(h[12:], []byte{127, 0, 0, 1})
	copy(h[16:], []byte{127, 0, 0, 1})
	return append(h, icmp...)
}

// deliver hands p datagram b from 127.0.0.1, with ancillary data oob, as
// Run does with what recvmmsg(2) brought.
func deliver(p *Pinger, r *record, b, oob []byte) {
	m := &p.sys.msgs[0]
	m.N = copy(m.Buf, b)
	m.NN = copy(m.OOB, oob)
	m.Addr = netip.MustParseAddrPort("127.0.0.1:0")
	p.handle(m)
	p.flush(r.add)
}

// timestampCmsg is the SO_TIMESTAMPNS control message the kernel attaches,
// for time t (a 64-bit struct cmsghdr and struct timespec).
func timestampCmsg(t time.Time) []byte {
	b := make([]byte, unix.CmsgSpace(16))
	binary.NativeEndian.PutUint64(b[0:], uint64(unix.CmsgLen(16)))
	binary.NativeEndian.PutUint32(b[8:], unix.SOL_SOCKET)
	binary.NativeEndian.PutUint32(b[12:], unix.SO_TIMESTAMPNS)
	binary.NativeEndian.PutUint64(b[unix.CmsgLen(0):], uint64(t.Unix()))
	binary.NativeEndian.PutUint64(b[unix.CmsgLen(0)+8:], uint64(t.Nanosecond()))
	return b
}

// TestUserLatency is -U: a reply is timed by the clock when the pinger
// reads it, not by the kernel's receive time (made an hour old here).
func TestUserLatency(t *testing.T) {
	socktest.NeedRaw(t)
	if unix.CmsgLen(0) != 16 {
		t.Skip("the hand-built control message assumes a 64-bit struct cmsghdr")
	}
	ns := rawNS(t)
	old := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	for _, user := range []bool{false, true} {
		p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), UserLatency: user, Socket: SocketRaw})
		p.initState(time.Now())
		var r record
		p.send(r.add)
		before := time.Now()
		deliver(p, &r, echoReply4(t, p.ID(), 1, p.Payload()), timestampCmsg(old))
		replies := r.kind(EventReply)
		if len(replies) != 1 {
			t.Fatalf("UserLatency %v: events %+v, want a reply", user, r.events)
		}
		if got := replies[0].Time; user && got.Before(before) || !user && !got.Equal(old) {
			t.Errorf("UserLatency %v: reply time %v, want %v", user, got, map[bool]string{false: "the kernel's " + old.String(), true: "after " + before.String()}[user])
		}
	}
}

// TestHandleCorrupt hands a raw IPv4 pinger replies as the kernel would
// deliver them: one whose data differs from the request (iputils' "wrong
// data byte"), one with a bad checksum (BAD CHECKSUM, counted Corrupted,
// not Received), and a truncated error after a good one, which must not
// be taken for the one before (the parse error is checked).
func TestHandleCorrupt(t *testing.T) {
	socktest.NeedRaw(t)
	ns := rawNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Socket: SocketRaw})
	p.initState(time.Now())
	var r record
	p.send(r.add)
	deliver := func(b []byte) { deliver(p, &r, b, nil) }

	data := p.Payload()
	data[20] ^= 0xff
	deliver(echoReply4(t, p.ID(), 1, data))
	bad := echoReply4(t, p.ID(), 1, p.Payload())
	bad[20+2] ^= 0x01 // the ICMP checksum
	deliver(bad)

	replies := r.kind(EventReply)
	if len(replies) != 2 {
		t.Fatalf("events %+v, want 2 replies", r.events)
	}
	if e := replies[0]; e.Mismatch != 20 || e.BadChecksum || !e.Timed {
		t.Errorf("altered data: Mismatch %d BadChecksum %v Timed %v, want 20, false, true", e.Mismatch, e.BadChecksum, e.Timed)
	}
	if e := replies[1]; !e.BadChecksum || e.Dup {
		t.Errorf("bad checksum: BadChecksum %v Dup %v, want true, false", e.BadChecksum, e.Dup)
	}
	if st := p.Statistics(); st.Received != 1 || st.Corrupted != 1 || st.Duplicates != 0 {
		t.Errorf("statistics %+v, want 1 received, 1 corrupted", st)
	}

	// An error about our request, then the same bytes cut short.
	quoted := echoReply4(t, p.ID(), 1, p.Payload())[:28]
	quoted[20] = icmp4EchoRequest
	unreach := packet.ICMP{Proto: packet.ProtoICMP, Type: icmp4DestUnreach, Code: 1, Data: quoted}
	msg, err := unreach.Append(nil, netip.Addr{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	full := echoReply4(t, 0, 0, nil)[:20]
	full = append(full, msg...)
	binary.BigEndian.PutUint16(full[2:], uint16(len(full)))
	deliver(full)
	deliver(full[:20+4]) // type and code only: Parse fails
	if n := len(r.kind(EventError)); n != 1 {
		t.Errorf("%d error events, want 1 (the truncated copy must be ignored)", n)
	}
}

// TestPreload sends -l 3: three requests leave back to back, before any
// interval; the fourth waits for the interval.
func TestPreload(t *testing.T) {
	ns := pingNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 4, Interval: 10 * time.Second, Preload: 3, Socket: SocketDgram})
	var r record
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := p.Run(ctx, func(e *Event) {
		r.add(e)
		if e.Kind == EventReply && e.Seq == 3 {
			cancel() // the fourth would come 10 s after the start
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Transmitted != 3 || st.Received != 3 {
		t.Errorf("statistics %+v: want 3 requests sent and answered before the first interval", st)
	}
}

// TestAdaptive is -A: once a reply has come, the interval is the round
// trip (a few milliseconds at most on loopback, root), not the 10 s asked
// for, so four requests go out long before one interval has passed.
func TestAdaptive(t *testing.T) {
	socktest.NeedRaw(t)
	ns := rawNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 4, Interval: 10 * time.Second, Adaptive: true, Socket: SocketRaw})
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
	defer cancel()
	st, err := p.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transmitted != 4 || st.Received != 4 {
		t.Errorf("statistics %+v: want 4 requests answered within one 10 s interval", st)
	}
}

// TestSocketOptions checks -Q and -M reach the socket, -b SO_BROADCAST, and
// a broadcast target without -b gets iputils' question.
func TestSocketOptions(t *testing.T) {
	ns := pingNS(t)
	lo, lo6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	for _, tc := range []struct {
		cfg       Config
		level, op int
		want      int
	}{
		{Config{Dst: lo, TOS: 0x10}, unix.IPPROTO_IP, unix.IP_TOS, 0x10},
		{Config{Dst: lo6, TOS: 0x20}, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 0x20},
		{Config{Dst: lo, PMTUDisc: PMTUDiscDo}, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO},
		{Config{Dst: lo, PMTUDisc: PMTUDiscDont}, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT},
		{Config{Dst: lo6, PMTUDisc: PMTUDiscWant}, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_WANT},
		{Config{Dst: lo, Broadcast: true}, unix.SOL_SOCKET, unix.SO_BROADCAST, 1},
		{Config{Dst: lo6, ZeroTTL: true}, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 0},
	} {
		tc.cfg.Socket = SocketDgram
		p := openIn(t, ns, tc.cfg)
		if v, err := p.sys.c.GetsockoptInt(tc.level, tc.op); err != nil || v != tc.want {
			t.Errorf("%+v: %s = %d, %v; want %d", tc.cfg, rawsock.OptName(tc.level, tc.op), v, err, tc.want)
		}
	}
	// lo's MTU is 65536; an IPv4 route caps it at 65535 (IP_MAX_MTU), as
	// iputils' "local error: message too long, mtu=65535" shows.
	for dst, want := range map[netip.Addr]int{lo: 65535, lo6: 65536} {
		if p := openIn(t, ns, Config{Dst: dst, Socket: SocketDgram}); p.MTU() != want {
			t.Errorf("MTU toward %v: %d, want %d", dst, p.MTU(), want)
		}
	}
	// IP_TTL takes 1 to 255: iputils -t 0 toward IPv4 fails with EINVAL.
	err := ns.Do(func() error {
		_, err := New(Config{Dst: lo, ZeroTTL: true, Socket: SocketDgram})
		return err
	})
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "cannot set unicast time-to-live") {
		t.Errorf("ZeroTTL toward IPv4: %v, want EINVAL", err)
	}
	bcast := netip.MustParseAddr("127.255.255.255")
	err = ns.Do(func() error {
		_, err := New(Config{Dst: bcast, Socket: SocketDgram})
		return err
	})
	if !errors.Is(err, ErrBroadcast) || err.Error() != "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules" {
		t.Errorf("broadcast without -b: %v, want iputils' question", err)
	}
	openIn(t, ns, Config{Dst: bcast, Broadcast: true, Socket: SocketDgram})
}

// TestPMTUDisc sends 2000 data bytes across a 1500-byte link: with
// PMTUDiscDont the request is fragmented and answered; with PMTUDiscDo
// the kernel refuses it locally (message too long).
func TestPMTUDisc(t *testing.T) {
	l := netns.NewLine(t, 1)
	kinds(t, l.A, func(t *testing.T, kind SocketKind) {
		for _, tc := range []struct {
			mode             PMTUDisc
			received, errors int
		}{{PMTUDiscDont, 1, 0}, {PMTUDiscDo, 0, 1}} {
			p := openIn(t, l.A, Config{Dst: l.B.Addr4(), Count: 1, Size: 2000, Timeout: 2 * time.Second, PMTUDisc: tc.mode, Socket: kind})
			var r record
			st, err := p.Run(context.Background(), r.add)
			if err != nil {
				t.Fatal(err)
			}
			if st.Received != tc.received || st.Errors != tc.errors {
				t.Errorf("mode %d: %+v, want %d received, %d errors", tc.mode, st, tc.received, tc.errors)
			}
			if tc.errors > 0 {
				se := r.kind(EventSendError)
				if len(se) != 1 || !errors.Is(se[0].Err, unix.EMSGSIZE) || se[0].Err.Error() != "local error: message too long, mtu=1500" {
					t.Errorf("mode %d: send errors %+v, want iputils' \"local error: message too long, mtu=1500\" (EMSGSIZE)", tc.mode, se)
				}
			}
		}
	})
}

// linkLocalPair joins a and b by a veth pair with the link-local
// addresses fe80::a and fe80::b (no duplicate address detection to wait
// for) and returns a and b's address with a's zone, "fe80::b%eth0".
func linkLocalPair(t *testing.T) (*netns.Namespace, string) {
	tp := netns.New(t)
	a, b := tp.Host("a"), tp.Host("b")
	link := tp.Connect(a, b)
	a.IP("addr", "add", "fe80::a/64", "dev", link.AIf, "nodad")
	b.IP("addr", "add", "fe80::b/64", "dev", link.BIf, "nodad")
	return a, "fe80::b%" + link.AIf
}

// TestLinkLocal pings a link-local address with its zone across a veth
// pair: the replies come from the target (same address, the zone named as
// the interface, as iputils prints it), not from a "different address".
func TestLinkLocal(t *testing.T) {
	a, ll := linkLocalPair(t)
	err := a.Do(func() error {
		_, err := New(Config{Dst: netip.MustParseAddr("fe80::b%no-such-if0")})
		return err
	})
	if err == nil || err.Error() != "ping: no-such-if0: no such interface" {
		t.Errorf("unknown zone: %v, want \"ping: no-such-if0: no such interface\"", err)
	}
	kinds(t, a, func(t *testing.T, kind SocketKind) {
		dst := netip.MustParseAddr(ll)
		p := openIn(t, a, Config{Dst: dst, Count: 2, Interval: 100 * time.Millisecond, Timeout: 5 * time.Second, Deadline: 10 * time.Second, Socket: kind})
		var r record
		st, err := p.Run(context.Background(), r.add)
		if err != nil {
			t.Fatal(err)
		}
		if st.Received != 2 {
			t.Fatalf("statistics %+v, want 2 replies", st)
		}
		for _, e := range r.kind(EventReply) {
			if e.From != dst {
				t.Errorf("reply from %v, want %v", e.From, dst)
			}
		}
	})
}

// TestSendStamp checks that a request carries the time it was sent, read
// at the send, not a clock read earlier: the run loop's clock, read
// before its Gosched, expiry and schedule, made the first round trip on
// loopback two to three times iputils'. (Before the fix send took that
// clock as its argument; given one an hour old, this test failed.)
func TestSendStamp(t *testing.T) {
	ns := pingNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Socket: SocketDgram})
	p.initState(time.Now().Add(-time.Hour))
	before := time.Now()
	p.send(func(*Event) {})
	b := p.sys.out[icmpEchoHeaderSize:]
	stamp := time.Unix(int64(binary.NativeEndian.Uint64(b)), int64(binary.NativeEndian.Uint64(b[8:])))
	if stamp.Before(before) {
		t.Errorf("request stamped %v, %v before send was called", stamp, before.Sub(stamp))
	}
}

// TestQueuedLocalError hands a datagram pinger a local error from its
// error queue about request 1, sent without error: the request is settled
// by it (one EventSendError) and does not also time out at the end.
func TestQueuedLocalError(t *testing.T) {
	ns := pingNS(t)
	p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Socket: SocketDgram})
	p.initState(time.Now())
	var r record
	p.send(r.add)
	q := &queued{origin: unix.SO_EE_ORIGIN_LOCAL, errno: unix.EMSGSIZE, info: 1500, payload: append([]byte(nil), p.sys.out[:icmpEchoHeaderSize]...), receivedAt: time.Now()}
	p.queuedError(q)
	p.flush(r.add)
	p.expireAll(r.add)
	if n, m := len(r.kind(EventSendError)), len(r.kind(EventTimeout)); n != 1 || m != 0 {
		t.Errorf("%d send errors and %d timeouts, want 1 and 0: %+v", n, m, r.events)
	}
}

// TestLocalErrorText checks iputils' two wordings of a local EMSGSIZE
// (ping4 "mtu=N", ping6 "mtu: N") and the errno text of the others.
func TestLocalErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    localErr
		want string
	}{
		{localErr{errno: unix.EMSGSIZE, mtu: 1500}, "local error: message too long, mtu=1500"},
		{localErr{errno: unix.EMSGSIZE, mtu: 65536, v6: true}, "local error: message too long, mtu: 65536"},
		{localErr{errno: unix.ENETUNREACH}, "local error: network is unreachable"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// outEchos reads the echo requests the namespace has sent (Icmp OutEchos,
// /proc/net/snmp), from a thread inside it.
func outEchos(t *testing.T, ns *netns.Namespace) int {
	t.Helper()
	var n int
	err := ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		var names []string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != "Icmp:" {
				continue
			}
			if names == nil {
				names = f
				continue
			}
			for i, name := range names {
				if name == "OutEchos" && i < len(f) {
					n, err = strconv.Atoi(f[i])
					return err
				}
			}
		}
		return errors.New("no Icmp OutEchos in /proc/net/snmp")
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWarmUpSendsNothing checks that the warm-up before the first request
// (a send the kernel refuses) puts nothing on the wire: the namespace's
// count of echo requests sent grows by exactly the requests transmitted,
// on both sockets.
func TestWarmUpSendsNothing(t *testing.T) {
	ns := pingNS(t)
	for _, kind := range []SocketKind{SocketDgram, SocketRaw} {
		before := outEchos(t, ns)
		p := openIn(t, ns, Config{Dst: netip.MustParseAddr("127.0.0.1"), Count: 2, Interval: 10 * time.Millisecond, Timeout: 5 * time.Second, Socket: kind})
		st, err := p.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if sent := outEchos(t, ns) - before; sent != st.Transmitted || st.Transmitted != 2 {
			t.Errorf("%v: the kernel sent %d echo requests, the pinger transmitted %d (want 2)", kind, sent, st.Transmitted)
		}
	}
}
