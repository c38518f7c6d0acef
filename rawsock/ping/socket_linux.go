package ping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// recvBatch is how many datagrams one recvmmsg(2) may bring. A pinger
// gets one at a time (a reply, then it sends): asking for more makes the
// kernel look for a second datagram every time, which costs a flood more
// than it saves on the rare duplicate.
const recvBatch = 1

// sysConn is the socket and every buffer the hot path uses, allocated once.
type sysConn struct {
	c     *rawsock.Conn
	dst   netip.AddrPort
	raw4  bool // a raw IPv4 socket: data starts with the IP header
	out   []byte
	msgs  []rawsock.Message
	armed time.Time // the read deadline set on c

	ip   packet.IPv4 // parsed into, reused
	icmp packet.ICMP

	ebuf, eoob []byte // the error queue's

	zoneIndex, zone string // the last zone zoneName looked up, and its name

	direct bool   // a flood's Run took the socket off the poller: d has it
	d      direct // direct_linux.go
}

func (sc *sysConn) close() error {
	d := &sc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Swap(true) {
		return nil
	}
	if sc.direct {
		if d.running {
			d.wake() // the run closes the fd as it ends
		} else {
			d.closeFDs()
		}
		return nil
	}
	if sc.c == nil {
		return nil
	}
	return sc.c.Close()
}

// open is iputils' create_socket, then the options of ping4_run and
// ping6_run.
func (p *Pinger) open() error {
	af, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if p.v6 {
		af, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	c, kind, err := openSocket(af, proto, p.cfg.Socket)
	if err != nil {
		return err
	}
	p.kind = kind
	p.sys.c = c
	if err := p.setup(); err != nil {
		c.Close()
		return err
	}
	return nil
}

// openSocket tries the datagram ICMP socket, then the raw one, as
// iputils' create_socket: EACCES (group outside ping_group_range),
// EPROTONOSUPPORT and, on IPv4, EAFNOSUPPORT (no ping sockets in this
// kernel) fall back to raw.
func openSocket(af, proto int, want SocketKind) (*rawsock.Conn, SocketKind, error) {
	if want != SocketRaw {
		c, err := rawsock.Socket(af, unix.SOCK_DGRAM, proto)
		if err == nil {
			return c, SocketDgram, nil
		}
		fallback := errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EPROTONOSUPPORT) ||
			af == unix.AF_INET && errors.Is(err, unix.EAFNOSUPPORT)
		if want == SocketDgram || !fallback {
			return nil, 0, fmt.Errorf("ping: %w", err)
		}
	}
	c, err := rawsock.Socket(af, unix.SOCK_RAW, proto)
	if err == nil {
		return c, SocketRaw, nil
	}
	if want == SocketRaw || !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		return nil, 0, fmt.Errorf("ping: %w", err)
	}
	return nil, 0, &noSocketError{exe: exeName()}
}

// noSocketError is the one line that says what to do when neither socket
// may be opened.
type noSocketError struct{ exe string }

func (e *noSocketError) Error() string {
	return "ping: socket: Operation not permitted: no ICMP socket allowed (the group is outside net.ipv4.ping_group_range, and no CAP_NET_RAW): " +
		`run 'sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"', or 'sudo setcap cap_net_raw+ep ` + e.exe + "', or run as root"
}

func (e *noSocketError) Is(target error) bool { return target == ErrNoSocket || target == unix.EPERM }

func exeName() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "BINARY"
}

// setup binds, installs the filters, and asks for the ancillary data.
func (p *Pinger) setup() error {
	c, cfg := p.sys.c, &p.cfg
	if cfg.Interface != "" {
		if err := c.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte(cfg.Interface)); err != nil {
			return fmt.Errorf("ping: SO_BINDTODEVICE %s: %w", cfg.Interface, unwrapSyscall(err))
		}
	}
	if err := p.sys.resolveZone(cfg.Dst); err != nil {
		return err
	}
	if cfg.Broadcast {
		if err := c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
			return fmt.Errorf("ping: cannot set broadcasting: %w", unwrapSyscall(err))
		}
	}
	src, mtu, err := probeSource(p.v6, p.sys.dst.Addr(), cfg.Source, cfg.Interface, cfg.Broadcast)
	if err != nil {
		return err
	}
	p.src, p.mtu = src, mtu

	switch p.kind {
	case SocketDgram:
		// Bind now, so the kernel picks the port (our identifier) before
		// the first request and getsockname(2) can tell it.
		bindAddr := cfg.Source
		if !bindAddr.IsValid() {
			bindAddr = netip.IPv4Unspecified()
			if p.v6 {
				bindAddr = netip.IPv6Unspecified()
			}
		}
		if err := c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(bindAddr, uint16(cfg.ID)))); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		sa, err := c.Getsockname()
		if err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		ap, _ := rawsock.AddrPortFromSockaddr(sa)
		p.id = ap.Port()
	case SocketRaw:
		if cfg.Source.IsValid() {
			if err := c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(cfg.Source, 0))); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		}
		p.id = uint16(cfg.ID)
		if p.id == 0 {
			p.id = uint16(rand.N(0xffff)) + 1
		}
		if err := p.rawFilters(); err != nil {
			return err
		}
	}

	if cfg.TTL > 0 || cfg.ZeroTTL {
		level, opt := unix.IPPROTO_IP, unix.IP_TTL
		if p.v6 {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS
		}
		if err := c.SetsockoptInt(level, opt, cfg.TTL); err != nil {
			return fmt.Errorf("ping: cannot set unicast time-to-live: %w", unwrapSyscall(err))
		}
	}
	if err := p.ipOptions(); err != nil {
		return err
	}
	opts := [][2]int{{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS}}
	switch {
	case p.v6:
		opts = append(opts, [2]int{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT})
	case p.kind == SocketDgram:
		opts = append(opts, [2]int{unix.IPPROTO_IP, unix.IP_RECVTTL})
	}
	if p.kind == SocketDgram {
		// ICMP errors reach a datagram ICMP socket only through its error
		// queue. A raw socket gets them as data (see rawFilters).
		if p.v6 {
			opts = append(opts, [2]int{unix.IPPROTO_IPV6, unix.IPV6_RECVERR})
		} else {
			opts = append(opts, [2]int{unix.IPPROTO_IP, unix.IP_RECVERR})
		}
	}
	for _, o := range opts {
		if err := c.SetsockoptInt(o[0], o[1], 1); err != nil {
			return fmt.Errorf("ping: setsockopt(%s): %w", rawsock.OptName(o[0], o[1]), unwrapSyscall(err))
		}
	}
	p.buffers()
	return nil
}

// ipOptions sets -Q (IP_TOS, IPV6_TCLASS) and -M (IP_MTU_DISCOVER,
// IPV6_MTU_DISCOVER), with iputils' words when the kernel refuses.
func (p *Pinger) ipOptions() error {
	c, cfg := p.sys.c, &p.cfg
	if cfg.TOS != 0 {
		level, opt := unix.IPPROTO_IP, unix.IP_TOS
		if p.v6 {
			level, opt = unix.IPPROTO_IPV6, unix.IPV6_TCLASS
		}
		if err := c.SetsockoptInt(level, opt, cfg.TOS); err != nil {
			return fmt.Errorf("ping: error setting QOS sockopts: %w", unwrapSyscall(err))
		}
	}
	if cfg.PMTUDisc != PMTUDiscDefault {
		level, opt, name := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, "IP_MTU_DISCOVER"
		if p.v6 {
			level, opt, name = unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER"
		}
		// IP_PMTUDISC_DONT, _WANT and _DO are 0, 1 and 2 in both families.
		if err := c.SetsockoptInt(level, opt, int(cfg.PMTUDisc)-1); err != nil {
			return fmt.Errorf("ping: %s: %w", name, unwrapSyscall(err))
		}
	}
	return nil
}

// rawFilters installs ICMP_FILTER (or ICMPV6_FILTER) and the BPF program.
// A flood's BPF program waits for the first packet that is not ours
// (notOurs), as iputils' always does: alone on its host, a flood would run
// it on every reply for nothing (README, "Flood ping against iputils").
// Any other pinger attaches it at once: a flood next to it would fill its
// socket's buffer, and drop its replies, before it saw the first packet.
func (p *Pinger) rawFilters() error {
	c := p.sys.c
	if p.v6 {
		f := icmp6Filter()
		b := make([]byte, 32)
		for i, w := range f {
			binary.NativeEndian.PutUint32(b[4*i:], w)
		}
		if err := c.SetsockoptBytes(unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, b); err != nil {
			return fmt.Errorf("ping: setsockopt(ICMP6_FILTER): %w", unwrapSyscall(err))
		}
	} else {
		b := binary.NativeEndian.AppendUint32(nil, icmpFilter())
		if err := c.SetsockoptBytes(unix.SOL_RAW, unix.ICMP_FILTER, b); err != nil {
			return fmt.Errorf("ping: setsockopt(ICMP_FILTER): %w", unwrapSyscall(err))
		}
	}
	switch {
	case p.noBPF:
		return nil
	case p.cfg.Flood:
		p.lazyBPF = true
		return nil
	}
	return p.sys.attachFilter(echoFilter(p.id, p.v6))
}

// notOurs counts a packet the socket delivered that is not this pinger's,
// and on a raw socket attaches the BPF filter the first time, which keeps
// the rest of them out. The packets queued before it are still delivered
// and counted. A failed attach leaves them all to be counted here.
func (p *Pinger) notOurs() {
	p.ignored()
	if p.lazyBPF {
		p.lazyBPF = false
		p.sys.attachFilter(echoFilter(p.id, p.v6))
	}
}

// attachFilter sets SO_ATTACH_FILTER with a struct sock_fprog built by
// hand: the kernel copies the program during the call. A flood's Run has
// the fd itself (direct_linux.go).
func (sc *sysConn) attachFilter(prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("ping: BPF filter: %w", err)
	}
	var fprog unix.SockFprog
	fprog.Len = uint16(len(raw))
	fprog.Filter = (*unix.SockFilter)(unsafe.Pointer(&raw[0]))
	b := unsafe.Slice((*byte)(unsafe.Pointer(&fprog)), unsafe.Sizeof(fprog))
	if sc.direct {
		err = os.NewSyscallError("setsockopt", unix.SetsockoptString(sc.d.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, string(b)))
	} else {
		err = sc.c.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, b)
	}
	runtime.KeepAlive(raw)
	runtime.KeepAlive(&fprog)
	if err != nil {
		return fmt.Errorf("ping: setsockopt(SO_ATTACH_FILTER): %w", unwrapSyscall(err))
	}
	return nil
}

// probeSource finds the address the route to dst leaves from, as iputils
// does: connect(2) a UDP socket (bound like the pinger) and read
// getsockname(2). No packet is sent. It also returns the path MTU the
// kernel knows for that route (IP_MTU, IPV6_MTU: ip(7), ipv6(7)), or 0.
func probeSource(v6 bool, dst, src netip.Addr, iface string, broadcast bool) (netip.Addr, int, error) {
	af := unix.AF_INET
	if v6 {
		af = unix.AF_INET6
	}
	u, err := rawsock.Socket(af, unix.SOCK_DGRAM, 0)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("ping: %w", err)
	}
	defer u.Close()
	if iface != "" {
		if err := u.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte(iface)); err != nil {
			return netip.Addr{}, 0, fmt.Errorf("ping: SO_BINDTODEVICE %s: %w", iface, unwrapSyscall(err))
		}
	}
	if src.IsValid() {
		if err := u.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(src, 0))); err != nil {
			return netip.Addr{}, 0, fmt.Errorf("ping: %w", err)
		}
	}
	if broadcast {
		if err := u.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
			return netip.Addr{}, 0, fmt.Errorf("ping: cannot set broadcasting: %w", unwrapSyscall(err))
		}
	}
	if err := u.Connect(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(dst, 1025))); err != nil {
		if errors.Is(err, unix.EACCES) && !broadcast {
			// connect(2) refuses a broadcast address without SO_BROADCAST.
			return netip.Addr{}, 0, fmt.Errorf("ping: %w", ErrBroadcast)
		}
		return netip.Addr{}, 0, fmt.Errorf("ping: %w", err)
	}
	sa, err := u.Getsockname()
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("ping: %w", err)
	}
	ap, _ := rawsock.AddrPortFromSockaddr(sa)
	level, opt := unix.IPPROTO_IP, unix.IP_MTU
	if v6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_MTU
	}
	mtu, err := u.GetsockoptInt(level, opt)
	if err != nil {
		mtu = 0 // only informative: the ping goes on without it
	}
	return ap.Addr().Unmap(), mtu, nil
}

// unwrapSyscall drops the *os.SyscallError layer where the message names
// the call itself.
func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// buffers allocates the request, the receive batch and the error queue's
// buffers, once.
func (p *Pinger) buffers() {
	sc := &p.sys
	sc.raw4 = p.kind == SocketRaw && !p.v6
	sc.out = make([]byte, icmpEchoHeaderSize+p.size)
	sc.out[0] = icmp4EchoRequest
	if p.v6 {
		sc.out[0] = icmp6EchoRequest
	}
	binary.BigEndian.PutUint16(sc.out[4:], p.id)
	for i := range p.size {
		if pat := p.cfg.Pattern; len(pat) > 0 {
			sc.out[icmpEchoHeaderSize+i] = pat[i%len(pat)]
		} else {
			sc.out[icmpEchoHeaderSize+i] = byte(i) // iputils' fill: byte i is i
		}
	}
	// A reply, with the IPv4 header (up to 60 bytes) on a raw IPv4
	// socket; at least room for an ICMP error quoting a full header.
	n := icmpEchoHeaderSize + p.size + 60
	if n < 1500 {
		n = 1500
	}
	sc.msgs = make([]rawsock.Message, recvBatch)
	for i := range sc.msgs {
		sc.msgs[i].Buf = make([]byte, n)
		sc.msgs[i].OOB = make([]byte, 128)
	}
	sc.ebuf = make([]byte, 512)
	sc.eoob = make([]byte, 512)
}

// Payload returns the data each request carries after its ICMP header;
// the first TimestampLen bytes hold the send time in each request.
func (p *Pinger) Payload() []byte {
	return append([]byte(nil), p.sys.out[icmpEchoHeaderSize:]...)
}

// send writes seq and the time into the request and sends it.
func (sc *sysConn) send(seq uint16, timed bool, now time.Time) error {
	return sc.sendFlags(seq, timed, now, 0)
}

// warmUp runs the send path once without sending anything: MSG_OOB makes
// raw_sendmsg, rawv6_sendmsg and the ping sockets' sendmsg fail at once
// with EOPNOTSUPP. Run just before the first request, on its thread, it
// takes the cold start of that path out of the first round trip (README,
// "The first ping reply's round trip on loopback against iputils").
func (sc *sysConn) warmUp(timed bool) {
	sc.sendFlags(0, timed, time.Now(), unix.MSG_OOB)
}

func (sc *sysConn) sendFlags(seq uint16, timed bool, now time.Time, flags int) error {
	b := sc.out
	binary.BigEndian.PutUint16(b[6:], seq)
	if timed {
		binary.NativeEndian.PutUint64(b[8:], uint64(now.Unix()))
		binary.NativeEndian.PutUint64(b[16:], uint64(now.Nanosecond()))
	}
	if sc.raw4 {
		// Datagram sockets and raw ICMPv6 have the kernel compute it.
		b[2], b[3] = 0, 0
		binary.BigEndian.PutUint16(b[2:], packet.Checksum(b))
	}
	if sc.direct {
		return sc.d.sendto(b, flags)
	}
	_, err := sc.c.SendtoInet(b, flags, sc.dst)
	return err
}

// recv waits for datagrams until the loop must look again (wakeAt) and
// returns how many of p.sys.msgs it filled; 0 with a nil error when the
// wait ended first. It tries without waiting first: in a flood the reply
// is nearly always queued by the time sendto returns, and then neither the
// wake time nor a deadline is computed.
func (p *Pinger) recv(now time.Time) (int, error) {
	sc := &p.sys
	if sc.direct {
		return p.recvDirect()
	}
	c := sc.c
	if !sc.armed.IsZero() && !sc.armed.After(now) {
		// An expired deadline fails even a non-blocking call.
		sc.armed = time.Time{}
		if err := c.SetReadDeadline(sc.armed); err != nil {
			return 0, err
		}
	}
	c.SetBlocking(false)
	n, err := c.Recvmmsg(sc.msgs, 0)
	c.SetBlocking(true)
	if err == nil || !errors.Is(err, unix.EAGAIN) {
		return n, err
	}
	if wake := p.wakeAt(); !wake.Equal(sc.armed) {
		sc.armed = wake
		if err := c.SetReadDeadline(wake); err != nil {
			return 0, err
		}
	}
	if p.st.cancelled.Load() { // after arming: see Pinger.run
		return 0, nil
	}
	n, err = c.Recvmmsg(sc.msgs, unix.MSG_WAITFORONE)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil
	}
	return n, err
}

// wake makes a blocked recv return, from another goroutine.
func (sc *sysConn) wake() {
	d := &sc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if sc.direct {
		if d.running {
			d.wake()
		}
		return
	}
	sc.c.SetReadDeadline(time.Unix(1, 0))
}

// handle parses received datagram m and reports it.
func (p *Pinger) handle(m *rawsock.Message) {
	sc := &p.sys
	data := m.Buf[:m.N]
	ttl := -1
	var rx time.Time
	oob := m.OOB[:m.NN]
	for len(oob) > 0 {
		h, d, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		oob = rest
		cm := rawsock.ControlMessage{Level: int(h.Level), Type: int(h.Type), Data: d}
		switch {
		case cm.Level == unix.SOL_SOCKET && cm.Type == unix.SO_TIMESTAMPNS:
			if t, err := cm.Timestamp(); err == nil {
				rx = t
			}
		case cm.Level == unix.SOL_IP && cm.Type == unix.IP_TTL, cm.Level == unix.SOL_IPV6 && cm.Type == unix.IPV6_HOPLIMIT:
			if v, err := cm.TTL(); err == nil {
				ttl = v
			}
		}
	}
	if rx.IsZero() || p.cfg.UserLatency {
		rx = time.Now()
	}
	proto := packet.ProtoICMP
	if p.v6 {
		proto = packet.ProtoICMPv6
	}
	if sc.raw4 {
		payload, err := sc.ip.Parse(data)
		if err != nil || sc.ip.Protocol != packet.ProtoICMP {
			p.notOurs()
			return
		}
		ttl = int(sc.ip.TTL)
		data = payload
	}
	// The kernel checks ICMP checksums after raw IPv4 sockets got their
	// copy (and checks ICMPv6 ones before, and ping sockets'): iputils
	// checks it here, and so do we.
	badSum := sc.raw4 && packet.Checksum(data) != 0
	from := m.Addr.Addr().Unmap()
	if from.Zone() != "" {
		from = sc.zoneName(from)
	}
	msg := &sc.icmp
	err := msg.Parse(proto, data)
	switch {
	case err == nil && msg.IsEchoReply():
		if msg.ID != p.id {
			p.notOurs() // another pinger's
			return
		}
		p.reply(msg.Seq, from, ttl, len(data), rx, msg.Data, badSum)
	case err == nil && msg.IsError() && msg.Quoted.Version != 0:
		// Raw sockets only: a datagram socket gets errors on its queue.
		id, seq, ok := msg.Quoted.Echo()
		if !ok || id != p.id || !sameAddr(msg.Quoted.Dst(), p.cfg.Dst) {
			p.notOurs()
			return
		}
		p.icmpError(seq, from, ttl, rx, msg.Type, msg.Code, errorInfo(msg))
	default:
		p.notOurs()
	}
}

// sameAddr compares addresses without their zones: a reply's zone is the
// interface it came in on, which a link-local target may name otherwise.
func sameAddr(a, b netip.Addr) bool { return a.WithZone("") == b.WithZone("") }

// resolveZone sets the address requests go to: dst, with a zone named by
// an interface turned into its index now, in the network namespace New
// runs in (sendto(2) wants the index; a name would be looked up at each
// send, wherever that goroutine's thread happens to be). zoneName then
// knows that index's name without a lookup.
func (sc *sysConn) resolveZone(dst netip.Addr) error {
	sc.dst = netip.AddrPortFrom(dst, 0)
	z := dst.Zone()
	if z == "" {
		return nil
	}
	if _, err := strconv.ParseUint(z, 10, 32); err == nil {
		return nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return fmt.Errorf("ping: %s: no such interface", z)
	}
	sc.zoneIndex, sc.zone = strconv.Itoa(ifi.Index), z
	sc.dst = netip.AddrPortFrom(dst.WithZone(sc.zoneIndex), 0)
	return nil
}

// zoneName replaces the numeric zone the kernel's sockaddr gives (the
// interface index) with the interface's name, as iputils prints it; the
// last one is kept, so a link-local run looks it up once.
func (sc *sysConn) zoneName(a netip.Addr) netip.Addr {
	z := a.Zone()
	if z != sc.zoneIndex {
		i, err := strconv.Atoi(z)
		if err != nil {
			return a
		}
		ifi, err := net.InterfaceByIndex(i)
		if err != nil {
			return a
		}
		sc.zoneIndex, sc.zone = z, ifi.Name
	}
	return a.WithZone(sc.zone)
}

// errorInfo is what iputils prints beside an error: the MTU of a
// "fragmentation needed" or "packet too big", the pointer of a parameter
// problem.
func errorInfo(m *packet.ICMP) uint32 {
	if mtu := m.MTU(); mtu > 0 {
		return uint32(mtu)
	}
	if m.Type == icmp4ParamProblem && m.Proto == packet.ProtoICMP {
		return uint32(m.ID >> 8) // the pointer is the first byte after the checksum
	}
	if m.Type == icmp6ParamProblem && m.Proto == packet.ProtoICMPv6 {
		return uint32(m.ID)<<16 | uint32(m.Seq)
	}
	return 0
}

// socketGone reports errors after which the socket is of no more use.
func socketGone(err error) bool {
	return errors.Is(err, unix.EBADF) || errors.Is(err, unix.ENOTSOCK) || errors.Is(err, unix.EFAULT) || errors.Is(err, unix.EINVAL)
}
