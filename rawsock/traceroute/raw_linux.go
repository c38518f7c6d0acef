package traceroute

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/sys/unix"
)

// rawICMP is traceroute -I on a raw ICMP socket: echo requests out, and
// every ICMP packet of the host in, of which the matcher keeps the echo
// replies with this trace's identifier and the errors quoting its requests.
type rawICMP struct {
	readers
	v6   bool
	c    *rawsock.Conn
	m    matcher // the reader's
	dst  netip.Addr
	req  packet.ICMP
	data []byte // the echo data at its longest
	out  []byte
	oob  []byte
	base uint16
}

func newRawICMP(cfg *Config, src netip.Addr) (_ *rawICMP, err error) {
	v6 := cfg.Dst.Is6()
	af, proto := family(v6)
	id := uint16(rand.N(0xffff)) + 1
	t := &rawICMP{v6: v6, dst: cfg.Dst, base: uint16(cfg.Port), oob: make([]byte, unix.CmsgSpace(4)),
		m: matcher{method: ICMP, v6: v6, dst: cfg.Dst.WithZone(""), n: cfg.probes(), id: id, base: uint32(cfg.Port)}}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	if t.c, err = t.open(af, unix.SOCK_RAW, proto, cfg.Device); err != nil {
		return nil, err
	}
	if err := setFragment(t.c, v6, cfg.DontFragment); err != nil {
		return nil, err
	}
	if cfg.Src.IsValid() {
		if err := bindSource(t.c, src); err != nil {
			return nil, err
		}
	}
	if err := icmpFilter(t.c, v6, append(errorTypes(v6), echoReplyType(v6))...); err != nil {
		return nil, err
	}
	if err := attachBPF(t.c, echoFilter(id, v6)); err != nil {
		return nil, err
	}
	data := make([]byte, cfg.PacketLen-headerLen(ICMP, v6))
	fillData(data)
	t.data = data
	t.req = packet.ICMP{Proto: packet.ProtoICMP, Type: packet.ICMPv4EchoRequest, ID: id, Data: data}
	if v6 {
		t.req.Proto, t.req.Type = packet.ProtoICMPv6, packet.ICMPv6EchoRequest
	}
	return t, nil
}

func (t *rawICMP) socket() string { return "SOCK_RAW IPPROTO_ICMP" }

func (t *rawICMP) send(seq, ttl, size int) error {
	t.req.Seq = t.base + uint16(seq)
	t.req.Data = t.data[:size-headerLen(ICMP, t.v6)]
	// ICMPv4: the checksum is computed here; ICMPv6: by the kernel,
	// always, on a raw ICMPv6 socket (RFC 3542 section 3.1).
	b, err := t.req.Append(t.out[:0], netip.Addr{}, netip.Addr{})
	t.out = b
	if err != nil {
		return err
	}
	err = sendTTL(t.c, b, t.oob, t.v6, ttl, netip.AddrPortFrom(t.dst, 0))
	if errors.Is(err, unix.EMSGSIZE) {
		return errTooBig // a raw socket has no pending ICMP errors: this is the kernel's refusal
	}
	return err
}

func (t *rawICMP) start(out chan<- reply) {
	t.startRaw(out, rawReader{t.c, t.m.icmpPacket})
}

// rawTCP is traceroute -T: SYNs built here, sent on a raw TCP socket bound
// to the source address (their checksum covers it); the SYN-ACK or RST
// comes back on that socket, the ICMP errors on a raw ICMP one. The source
// port is reserved by an ordinary TCP socket bound to it (never
// listening), so no other connection uses it and the kernel answers the
// destination's SYN-ACK with a RST, closing the half-open connection.
type rawTCP struct {
	readers
	v6           bool
	tcp, icmp    *rawsock.Conn
	mt, mi       matcher // one per reader
	src, dst     netip.Addr
	sport, dport uint16
	isn          uint32
	out, oob     []byte
	opts         []byte
}

func newRawTCP(cfg *Config, src netip.Addr) (_ *rawTCP, err error) {
	v6 := cfg.Dst.Is6()
	af, icmpProto := family(v6)
	t := &rawTCP{v6: v6, src: src, dst: cfg.Dst, dport: uint16(cfg.Port), isn: rand.Uint32(), oob: make([]byte, unix.CmsgSpace(4))}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	reserve, err := rawsock.Socket(af, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, err
	}
	t.add(reserve)
	if err := bindSource(reserve, src); err != nil {
		return nil, err
	}
	sa, err := reserve.Getsockname()
	if err != nil {
		return nil, err
	}
	ap, _ := rawsock.AddrPortFromSockaddr(sa)
	t.sport = ap.Port()

	if t.tcp, err = t.open(af, unix.SOCK_RAW, unix.IPPROTO_TCP, cfg.Device); err != nil {
		return nil, err
	}
	if err := setFragment(t.tcp, v6, cfg.DontFragment); err != nil {
		return nil, err
	}
	if err := bindSource(t.tcp, src); err != nil {
		return nil, err
	}
	if t.icmp, err = t.open(af, unix.SOCK_RAW, icmpProto, cfg.Device); err != nil {
		return nil, err
	}
	if err := icmpFilter(t.icmp, v6, errorTypes(v6)...); err != nil {
		return nil, err
	}
	if err := attachBPF(t.tcp, dstPortFilter(t.sport, v6)); err != nil {
		return nil, err
	}
	if err := attachBPF(t.icmp, quotedPortFilter(t.sport, v6)); err != nil {
		return nil, err
	}
	m := matcher{method: TCP, v6: v6, dst: cfg.Dst.WithZone(""), n: cfg.probes(), base: t.isn, sport: t.sport, dport: t.dport}
	t.mt, t.mi = m, m
	mss := uint16(1460)
	if v6 {
		mss = 1440
	}
	t.opts = []byte{
		2, 4, byte(mss >> 8), byte(mss), // MSS
		4, 2, // SACK permitted
		8, 10, 0, 0, 0, 0, 0, 0, 0, 0, // timestamps: TSval set per probe, TSecr 0
		1,       // NOP
		3, 3, 7, // window scale 7
	}
	return t, nil
}

func (t *rawTCP) socket() string { return "SOCK_RAW IPPROTO_TCP and SOCK_RAW IPPROTO_ICMP" }

// send sends a SYN: TCP probes have one length, size is not used.
func (t *rawTCP) send(seq, ttl, size int) error {
	binary.BigEndian.PutUint32(t.opts[8:], uint32(time.Now().UnixMilli()))
	h := packet.TCP{SrcPort: t.sport, DstPort: t.dport, Seq: t.isn + uint32(seq), Flags: packet.TCPSyn, Window: 64240, Options: t.opts}
	b, err := h.Append(t.out[:0], t.src, t.dst, nil)
	t.out = b
	if err != nil {
		return err
	}
	return sendTTL(t.tcp, b, t.oob, t.v6, ttl, netip.AddrPortFrom(t.dst, 0))
}

func (t *rawTCP) start(out chan<- reply) {
	t.startRaw(out, rawReader{t.tcp, t.mt.tcpPacket}, rawReader{t.icmp, t.mi.icmpPacket})
}
