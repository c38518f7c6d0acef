package traceroute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// newTransport opens the sockets of cfg's method.
//
// UDP probes go out of one unconnected UDP socket with IP_RECVERR set, and
// their ICMP errors come back on its error queue (ip(7)), as the classic
// Linux traceroute's default method does. That needs no privilege, and the
// kernel itself matches each error to the socket by the datagram it quotes;
// the error queue then gives the ICMP type and code, the router that sent
// it (SO_EE_OFFENDER) and the quoted destination port, which is the probe's
// number. A raw ICMP socket would need CAP_NET_RAW and see every ICMP
// packet of the host, to be sifted by hand.
//
// ICMP probes use the same scheme on an unprivileged ICMP datagram socket
// where net.ipv4.ping_group_range allows it (echo replies come as data,
// errors on the error queue), and a raw ICMP socket otherwise. TCP probes
// need raw sockets: SYNs are built here and sent on a raw TCP socket, which
// also receives the SYN-ACK or RST, and a raw ICMP socket receives the
// errors. On raw sockets every answer is matched to its probe by what it
// quotes or acknowledges (see matcher).
func newTransport(cfg *Config, src netip.Addr) (transport, error) {
	switch cfg.Method {
	case ICMP:
		if cfg.Socket == SocketRaw {
			return newRawICMP(cfg, src)
		}
		t, err := newDgram(cfg, src)
		if err == nil || cfg.Socket == SocketDgram || !(errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) ||
			errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT)) {
			return t, err
		}
		r, rerr := newRawICMP(cfg, src)
		if rerr != nil && (errors.Is(rerr, unix.EPERM) || errors.Is(rerr, unix.EACCES)) {
			// Neither socket: say what would open each.
			return nil, fmt.Errorf("%w, and %w", err, rerr)
		}
		return r, rerr
	case TCP:
		return newRawTCP(cfg, src)
	case UDPPort:
		return newUDPPort(cfg, src)
	}
	return newDgram(cfg, src)
}

// family returns the socket family and ICMP protocol for v6 or not.
func family(v6 bool) (af, icmpProto int) {
	if v6 {
		return unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	return unix.AF_INET, unix.IPPROTO_ICMP
}

// readers is what a transport's reading goroutines share: the channel is
// closed by close, which also closes the sockets, so a reader stuck in
// either a receive or a delivery returns.
type readers struct {
	wg    sync.WaitGroup
	done  chan struct{}
	conns []*rawsock.Conn
	once  sync.Once
}

func (r *readers) add(c *rawsock.Conn) { r.conns = append(r.conns, c) }

// deliver hands rep to the engine; false when the transport is closing.
func (r *readers) deliver(out chan<- reply, rep reply) bool {
	select {
	case out <- rep:
		return true
	case <-r.done:
		return false
	}
}

// fail ends the trace with err, unless the transport is closing (then the
// error is only the closing).
func (r *readers) fail(out chan<- reply, err error) {
	if errors.Is(err, net.ErrClosed) {
		return
	}
	r.deliver(out, reply{err: err})
}

func (r *readers) run(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

func (r *readers) close() error {
	var err error
	r.once.Do(func() {
		if r.done != nil {
			close(r.done)
		}
		for _, c := range r.conns {
			if e := c.Close(); err == nil {
				err = e
			}
		}
		r.wg.Wait()
	})
	return err
}

// open opens a socket that the transport closes, with SO_TIMESTAMPNS on:
// each answer carries its arrival time, so a slow reader does not lengthen
// the round-trip times. With a device, the socket is bound to it
// (SO_BINDTODEVICE): it sends through it and hears only what came in by it.
func (r *readers) open(family, typ, proto int, device string) (*rawsock.Conn, error) {
	c, err := rawsock.Socket(family, typ, proto)
	if err != nil {
		return nil, err
	}
	r.add(c)
	if err := bindDevice(c, device); err != nil {
		return nil, err
	}
	if err := c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return nil, err
	}
	// Each answer's TTL, as traceroute asks for it: the engine guesses
	// from it where a final answer that came late belongs.
	level, opt := unix.IPPROTO_IP, unix.IP_RECVTTL
	if family == unix.AF_INET6 {
		level, opt = unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT
	}
	if err := c.SetsockoptInt(level, opt, 1); err != nil {
		return nil, err
	}
	return c, nil
}

// bindDevice binds c to the network interface device (SO_BINDTODEVICE,
// socket(7)), unless device is empty.
func bindDevice(c *rawsock.Conn, device string) error {
	if device == "" {
		return nil
	}
	if err := c.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_BINDTODEVICE, []byte(device)); err != nil {
		return fmt.Errorf("interface %s: %w", device, err)
	}
	return nil
}

// setFragment says whether the probes sent on c may be fragmented: by
// default they may (IP_PMTUDISC_DONT, no DF bit), as traceroute sends them;
// with df they may not, and the kernel sends them at the local link's MTU
// whatever path MTU it learned (IP_PMTUDISC_PROBE, as traceroute -F), so
// each too small link on the way answers "fragmentation needed".
func setFragment(c *rawsock.Conn, v6, df bool) error {
	level, opt, val := unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT
	if v6 {
		level, opt, val = unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DONT
	}
	if df {
		val = unix.IP_PMTUDISC_PROBE // IPV6_PMTUDISC_PROBE has the same value
	}
	return c.SetsockoptInt(level, opt, val)
}

// hopLimitCmsg writes into b the ancillary message that sets one datagram's
// TTL (IP_TTL) or hop limit (IPV6_HOPLIMIT): probes of several TTLs leave
// the same socket at once.
func hopLimitCmsg(b []byte, v6 bool, ttl int) []byte {
	b = b[:unix.CmsgSpace(4)]
	clear(b)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_TTL
	if v6 {
		h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT
	}
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(ttl))
	return b
}

// fillData is traceroute's probe data: '@', 'A', 'B', ... repeating.
func fillData(b []byte) {
	for i := range b {
		b[i] = 0x40 + byte(i&0x3f)
	}
}

// received is what the ancillary data of one received message says.
type received struct {
	at       time.Time
	ttl      int // the answer's TTL or hop limit as it arrived (IP_RECVTTL, IPV6_RECVHOPLIMIT)
	ee       *unix.SockExtendedErr
	offender netip.Addr
}

// parseCmsgs reads the arrival time, the answer's TTL and, from the error
// queue, the extended error and its offender (struct sock_extended_err,
// then the offender's sockaddr: SO_EE_OFFENDER in ip(7)).
func parseCmsgs(oob []byte) (rc received) {
	cms, _ := rawsock.ParseControlMessages(oob)
	for _, cm := range cms {
		switch {
		case cm.Level == unix.SOL_SOCKET && cm.Type == unix.SO_TIMESTAMPNS:
			rc.at, _ = cm.Timestamp()
		case (cm.Level == unix.IPPROTO_IP && cm.Type == unix.IP_TTL || cm.Level == unix.IPPROTO_IPV6 && cm.Type == unix.IPV6_HOPLIMIT) && len(cm.Data) >= 4:
			rc.ttl = int(binary.NativeEndian.Uint32(cm.Data))
		case cm.Level == unix.SOL_IP && cm.Type == unix.IP_RECVERR, cm.Level == unix.SOL_IPV6 && cm.Type == unix.IPV6_RECVERR:
			rc.ee, rc.offender = parseExtendedErr(cm.Data)
		}
	}
	return rc
}

func parseExtendedErr(d []byte) (*unix.SockExtendedErr, netip.Addr) {
	const size = int(unsafe.Sizeof(unix.SockExtendedErr{}))
	if len(d) < size {
		return nil, netip.Addr{}
	}
	ee := &unix.SockExtendedErr{
		Errno:  binary.NativeEndian.Uint32(d[0:]),
		Origin: d[4], Type: d[5], Code: d[6], Pad: d[7],
		Info: binary.NativeEndian.Uint32(d[8:]),
		Data: binary.NativeEndian.Uint32(d[12:]),
	}
	off := d[size:]
	var a netip.Addr
	switch {
	case len(off) >= 8 && binary.NativeEndian.Uint16(off) == unix.AF_INET:
		a = netip.AddrFrom4([4]byte(off[4:8]))
	case len(off) >= 24 && binary.NativeEndian.Uint16(off) == unix.AF_INET6:
		a = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
	}
	return ee, a
}

// icmpError reports whether a call failed only because an ICMP error set
// the socket's pending error (sk_err), which the next call on the socket
// returns once: the errno of an ICMP error (icmp_err_convert and
// icmpv6_err_convert in the kernel). The error itself waits on the queue.
func icmpError(err error) bool {
	for _, e := range [...]unix.Errno{unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN,
		unix.ENONET, unix.ENOPROTOOPT, unix.EOPNOTSUPP, unix.EPROTO, unix.EACCES, unix.EMSGSIZE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// dgram is a UDP socket, or an ICMP datagram ("ping") socket, with
// IP_RECVERR: probes go out of it, ICMP errors come back on its error
// queue, and data (the destination's echo replies, or a UDP answer) on a
// second fd of the same socket (dup), so that each has its own reader.
type dgram struct {
	readers
	v6, icmp bool
	c, d     *rawsock.Conn
	dst      netip.Addr
	base     int // UDP: the first port; ICMP: the first sequence number
	n        int
	data     []byte // the probe: UDP data, or the echo request, at its longest
	hdr      int    // the IP and UDP or ICMP headers: the probe's length less len(data)
	df       bool
	oob      []byte
	one      int // UDPPort: the socket is probe one's alone, and every answer on it is; else -1
}

func newDgram(cfg *Config, src netip.Addr) (_ *dgram, err error) {
	v6 := cfg.Dst.Is6()
	af, proto := family(v6)
	icmp := cfg.Method == ICMP
	if !icmp {
		proto = unix.IPPROTO_UDP
	}
	t := &dgram{v6: v6, icmp: icmp, dst: cfg.Dst, base: cfg.Port, n: cfg.probes(), oob: make([]byte, unix.CmsgSpace(4)),
		hdr: headerLen(cfg.Method, v6), df: cfg.DontFragment, one: -1}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	if t.c, err = t.open(af, unix.SOCK_DGRAM, proto, cfg.Device); err != nil {
		return nil, err
	}
	if icmp || cfg.Src.IsValid() {
		// An ICMP socket's port is its echo identifier: bind takes one
		// now. Replies come only for it (icmp(7)).
		bindTo := cfg.Src
		if !bindTo.IsValid() {
			bindTo = netip.IPv4Unspecified()
			if v6 {
				bindTo = netip.IPv6Unspecified()
			}
		}
		if err := t.c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(bindTo, 0))); err != nil {
			return nil, err
		}
	}
	level, recverr := unix.IPPROTO_IP, unix.IP_RECVERR
	if v6 {
		level, recverr = unix.IPPROTO_IPV6, unix.IPV6_RECVERR
	}
	if err := t.c.SetsockoptInt(level, recverr, 1); err != nil {
		return nil, err
	}
	if err := setFragment(t.c, v6, cfg.DontFragment); err != nil {
		return nil, err
	}
	if t.d, err = t.c.Dup(); err != nil {
		return nil, err
	}
	t.add(t.d)
	t.data = make([]byte, cfg.PacketLen-t.hdr)
	fillData(t.data)
	if icmp {
		t.hdr -= 8 // the echo header is part of the data
		// The kernel writes the identifier and the checksum.
		hdr := []byte{8, 0, 0, 0, 0, 0, 0, 0}
		if v6 {
			hdr[0] = 128
		}
		t.data = append(hdr, t.data...)
	}
	return t, nil
}

func (t *dgram) socket() string {
	if t.icmp {
		return "SOCK_DGRAM ICMP (ping socket), errors by IP_RECVERR"
	}
	return "SOCK_DGRAM IPPROTO_UDP, errors by IP_RECVERR"
}

func (t *dgram) send(seq, ttl, size int) error {
	to := netip.AddrPortFrom(t.dst, uint16(t.base+seq))
	if t.one >= 0 {
		to = netip.AddrPortFrom(t.dst, uint16(t.base))
	}
	if t.icmp {
		binary.BigEndian.PutUint16(t.data[6:], uint16(t.base+seq))
		to = netip.AddrPortFrom(t.dst, 0)
	}
	b := t.data[:size-t.hdr]
	// A pending ICMP error fails one send without sending: each error
	// can do that once, so the retries are bounded by the errors.
	for try := 0; ; try++ {
		err := sendTTL(t.c, b, t.oob, t.v6, ttl, to)
		if t.df && errors.Is(err, unix.EMSGSIZE) && try > 0 {
			// The first EMSGSIZE may be a frag needed's pending
			// error; the second is the kernel's refusal.
			return errTooBig
		}
		if err == nil || !icmpError(err) || try > 4*t.n+8 {
			return err
		}
	}
}

func (t *dgram) start(out chan<- reply) {
	t.done = make(chan struct{})
	t.run(func() { t.readErrors(out) })
	t.run(func() { t.readData(out) })
}

// readErrors reads the error queue: each entry is an ICMP error about one
// probe, its payload the start of what the probe carried.
func (t *dgram) readErrors(out chan<- reply) {
	buf, oob := make([]byte, 512), make([]byte, 512)
	for {
		n, oobn, _, from, err := t.c.Recvmsg(buf, oob, unix.MSG_ERRQUEUE)
		if err != nil {
			t.fail(out, err)
			return
		}
		rc := parseCmsgs(oob[:oobn])
		target, _ := rawsock.AddrPortFromSockaddr(from)
		if rc.ee == nil || rc.ee.Origin != unix.SO_EE_ORIGIN_ICMP && rc.ee.Origin != unix.SO_EE_ORIGIN_ICMP6 || target.Addr().Unmap().WithZone("") != t.dst.WithZone("") {
			continue // a local error (origin LOCAL): the probe just goes unanswered
		}
		seq := int(target.Port()) - t.base
		switch {
		case t.one >= 0:
			seq = t.one
		case t.icmp:
			if n < 8 {
				continue
			}
			seq = int(uint16(binary.BigEndian.Uint16(buf[6:]) - uint16(t.base)))
		}
		if seq < 0 || seq >= t.n {
			continue
		}
		r := reply{seq: seq, from: rc.offender, at: rc.at, ttl: rc.ttl, typ: rc.ee.Type, code: rc.ee.Code}
		if t.v6 && r.typ == icmp6PacketTooBig || !t.v6 && r.typ == icmp4DestUnreach && r.code == 4 {
			r.mtu = int(rc.ee.Info) // the MTU the error reports
		}
		r.kind, r.annotation, r.final = classifyICMP(t.v6, r.typ, r.code, r.mtu)
		if !t.deliver(out, r) {
			return
		}
	}
}

// readData reads what comes as data: echo replies on an ICMP socket, an
// answer from the destination's port on a UDP socket.
func (t *dgram) readData(out chan<- reply) {
	buf, oob := make([]byte, 2048), make([]byte, 128)
	for {
		n, oobn, _, from, err := t.d.Recvmsg(buf, oob, 0)
		if err != nil {
			if icmpError(err) {
				continue // sk_err of an ICMP error: readErrors has it
			}
			t.fail(out, err)
			return
		}
		ap, _ := rawsock.AddrPortFromSockaddr(from)
		rc := parseCmsgs(oob[:oobn])
		r := reply{from: ap.Addr().Unmap(), at: rc.at, ttl: rc.ttl, final: true}
		if t.icmp {
			if n < 8 || buf[0] != 0 && buf[0] != 129 { // echo reply, ICMPv4 or ICMPv6
				continue
			}
			r.seq, r.kind, r.typ = int(uint16(binary.BigEndian.Uint16(buf[6:])-uint16(t.base))), EchoReply, buf[0]
		} else {
			if r.from.WithZone("") != t.dst.WithZone("") {
				continue
			}
			r.seq, r.kind = int(ap.Port())-t.base, UDPReply
			if t.one >= 0 {
				r.seq = t.one
			}
		}
		if r.seq >= 0 && r.seq < t.n && !t.deliver(out, r) {
			return
		}
	}
}

// icmpFilter installs ICMP_FILTER (raw(7)) or ICMPV6_FILTER (RFC 3542) on
// a raw ICMP socket so that only the types named reach it.
func icmpFilter(c *rawsock.Conn, v6 bool, pass ...uint8) error {
	if v6 {
		var f [8]uint32 // a set bit blocks the type
		for i := range f {
			f[i] = ^uint32(0)
		}
		for _, t := range pass {
			f[t>>5] &^= 1 << (t & 31)
		}
		b := make([]byte, 32)
		for i, w := range f {
			binary.NativeEndian.PutUint32(b[4*i:], w)
		}
		return c.SetsockoptBytes(unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, b)
	}
	mask := ^uint32(0)
	for _, t := range pass {
		mask &^= 1 << t
	}
	return c.SetsockoptBytes(unix.SOL_RAW, unix.ICMP_FILTER, binary.NativeEndian.AppendUint32(nil, mask))
}

// attachBPF sets the classic BPF program prog on c (SO_ATTACH_FILTER,
// socket(7)); the kernel copies it during the call.
func attachBPF(c *rawsock.Conn, prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return err
	}
	// bpf.RawInstruction has struct sock_filter's layout.
	fprog := unix.SockFprog{Len: uint16(len(raw)), Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0]))}
	err = c.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, unsafe.Slice((*byte)(unsafe.Pointer(&fprog)), unsafe.Sizeof(fprog)))
	runtime.KeepAlive(raw)
	return err
}

// errorTypes are the ICMP errors a raw socket lets through: destination
// unreachable, time exceeded, parameter problem (ICMPv4); destination
// unreachable, packet too big, time exceeded, parameter problem (ICMPv6).
func errorTypes(v6 bool) []uint8 {
	if v6 {
		return []uint8{1, 2, 3, 4}
	}
	return []uint8{3, 11, 12}
}

// sendTTL sends b to to on c with the TTL (hop limit) ttl for this datagram
// alone, the ancillary message written into oob.
func sendTTL(c *rawsock.Conn, b, oob []byte, v6 bool, ttl int, to netip.AddrPort) error {
	_, err := c.Sendmsg(b, hopLimitCmsg(oob, v6, ttl), rawsock.SockaddrFromAddrPort(to), 0)
	return err
}

// rawReader is a raw socket and the matcher of what it receives.
type rawReader struct {
	c     *rawsock.Conn
	match func(b []byte, from netip.Addr) (reply, bool)
}

// startRaw starts a reader for each raw socket.
func (r *readers) startRaw(out chan<- reply, rs ...rawReader) {
	r.done = make(chan struct{})
	for _, rr := range rs {
		r.run(func() { r.readRaw(out, rr.c, rr.match) })
	}
}

// readRaw reads a raw socket and hands each packet match accepts to the
// engine.
func (r *readers) readRaw(out chan<- reply, c *rawsock.Conn, match func(b []byte, from netip.Addr) (reply, bool)) {
	buf, oob := make([]byte, 2048), make([]byte, 128)
	for {
		n, oobn, _, from, err := c.Recvmsg(buf, oob, 0)
		if err != nil {
			r.fail(out, err)
			return
		}
		ap, _ := rawsock.AddrPortFromSockaddr(from)
		// The matcher knows addresses without zones: the engine puts
		// the trace's back on link-local answers.
		rep, ok := match(buf[:n], ap.Addr().Unmap().WithZone(""))
		if !ok {
			continue
		}
		rc := parseCmsgs(oob[:oobn])
		rep.at = rc.at
		if rep.ttl == 0 { // IPv6: no header to read it from
			rep.ttl = rc.ttl
		}
		if !r.deliver(out, rep) {
			return
		}
	}
}

// bindSource binds a raw socket to src, so the kernel sends from the
// address the checksums were computed with.
func bindSource(c *rawsock.Conn, src netip.Addr) error {
	return c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(src, 0)))
}

// udpPort is traceroute -U: every probe to one port, each from a socket of
// its own (a dgram for one probe), whose ephemeral source port the
// kernel's matching of ICMP errors to sockets tells apart. The sockets are
// opened by New, in its network namespace, one per probe of the trace;
// a probe's readers start when it is sent, and its socket is closed when
// the engine gives it up, or by Close.
type udpPort struct {
	out   chan<- reply
	mu    sync.Mutex
	socks []*dgram // by seq; nil once closed
	run   []bool   // the probe's readers are started
}

func newUDPPort(cfg *Config, src netip.Addr) (_ *udpPort, err error) {
	t := &udpPort{socks: make([]*dgram, cfg.probes()), run: make([]bool, cfg.probes())}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	for seq := range t.socks {
		d, err := newDgram(cfg, src)
		if err != nil {
			return nil, err
		}
		d.one = seq
		t.socks[seq] = d
	}
	return t, nil
}

func (t *udpPort) socket() string {
	return "SOCK_DGRAM IPPROTO_UDP, one per probe, errors by IP_RECVERR"
}

func (t *udpPort) start(out chan<- reply) { t.out = out }

func (t *udpPort) send(seq, ttl, size int) error {
	t.mu.Lock()
	d := t.socks[seq]
	if d != nil && !t.run[seq] {
		t.run[seq] = true
		d.start(t.out)
	}
	t.mu.Unlock()
	if d == nil {
		return net.ErrClosed
	}
	return d.send(seq, ttl, size)
}

// expired closes probe seq's socket: the engine gave it up.
func (t *udpPort) expired(seq int) {
	t.mu.Lock()
	d := t.socks[seq]
	t.socks[seq] = nil
	t.mu.Unlock()
	if d != nil {
		d.close()
	}
}

func (t *udpPort) close() error {
	for seq := range t.socks {
		t.expired(seq)
	}
	return nil
}
