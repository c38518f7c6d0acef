package ping

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// queued is one entry of the error queue (ip(7) IP_RECVERR).
type queued struct {
	origin     uint8
	errno      unix.Errno
	typ, code  uint8
	info       uint32
	offender   netip.Addr // who sent the ICMP error
	target     netip.Addr // the destination of the request it is about
	payload    []byte     // the start of that request: its ICMP header
	receivedAt time.Time
}

// readErrQueue reads one entry of the error queue without waiting; ok is
// false when the queue is empty.
func (sc *sysConn) readErrQueue(q *queued) (ok bool, err error) {
	c := sc.c
	c.SetBlocking(false)
	n, oobn, _, from, err := c.Recvmsg(sc.ebuf, sc.eoob, unix.MSG_ERRQUEUE)
	c.SetBlocking(true)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return false, nil
		}
		return false, err
	}
	*q = queued{payload: sc.ebuf[:n]}
	if ap, ok := rawsock.AddrPortFromSockaddr(from); ok {
		q.target = ap.Addr().Unmap()
	}
	cms, _ := rawsock.ParseControlMessages(sc.eoob[:oobn])
	for _, cm := range cms {
		switch {
		case cm.Level == unix.SOL_SOCKET && cm.Type == unix.SO_TIMESTAMPNS:
			q.receivedAt, _ = cm.Timestamp()
		case cm.Level == unix.SOL_IP && cm.Type == unix.IP_RECVERR, cm.Level == unix.SOL_IPV6 && cm.Type == unix.IPV6_RECVERR:
			parseExtendedErr(q, cm.Data)
		}
	}
	if q.receivedAt.IsZero() {
		q.receivedAt = time.Now()
	}
	return true, nil
}

// parseExtendedErr reads a struct sock_extended_err and the offender's
// sockaddr after it (SO_EE_OFFENDER).
func parseExtendedErr(q *queued, d []byte) {
	const size = int(unsafe.Sizeof(unix.SockExtendedErr{}))
	if len(d) < size {
		return
	}
	q.errno = unix.Errno(binary.NativeEndian.Uint32(d[0:]))
	q.origin, q.typ, q.code = d[4], d[5], d[6]
	q.info = binary.NativeEndian.Uint32(d[8:])
	off := d[size:]
	if len(off) < 2 {
		return
	}
	switch binary.NativeEndian.Uint16(off) {
	case unix.AF_INET:
		if len(off) >= 8 {
			q.offender = netip.AddrFrom4([4]byte(off[4:8]))
		}
	case unix.AF_INET6:
		if len(off) >= 24 {
			q.offender = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
		}
	}
}

// queuedError matches an error queue entry to one of our requests, as
// iputils' receive_error_msg.
func (p *Pinger) queuedError(q *queued) {
	var seq uint16
	echo := len(q.payload) >= icmpEchoHeaderSize && (q.payload[0] == icmp4EchoRequest || q.payload[0] == icmp6EchoRequest)
	if echo {
		seq = uint16(q.payload[6])<<8 | uint16(q.payload[7])
	}
	switch q.origin {
	case unix.SO_EE_ORIGIN_LOCAL:
		if !echo {
			seq = uint16(p.st.ntx)
		}
		e := p.event(EventSendError, seq, q.receivedAt)
		e.Err = localError(q, p.v6)
		p.mu.Lock()
		p.stats.Errors++
		if echo {
			p.settle(seq)
		}
		p.mu.Unlock()
		p.pendingEv = true
	case unix.SO_EE_ORIGIN_ICMP, unix.SO_EE_ORIGIN_ICMP6:
		id := uint16(0)
		if echo {
			id = uint16(q.payload[4])<<8 | uint16(q.payload[5])
		}
		if !echo || id != p.id || !sameAddr(q.target, p.cfg.Dst) {
			p.ignored()
			return
		}
		p.icmpError(seq, q.offender, -1, q.receivedAt, q.typ, q.code, q.info)
	default:
		p.ignored()
	}
}

// localErr is iputils' "local error" line: "local error: message too
// long, mtu=1500" (ping6: "mtu: 1500"), else the errno's text.
type localErr struct {
	errno unix.Errno
	mtu   uint32
	v6    bool
}

func localError(q *queued, v6 bool) error { return &localErr{errno: q.errno, mtu: q.info, v6: v6} }

func (e *localErr) Error() string {
	if e.errno == unix.EMSGSIZE {
		sep := "="
		if e.v6 {
			sep = ": "
		}
		return "local error: message too long, mtu" + sep + strconv.FormatUint(uint64(e.mtu), 10)
	}
	return "local error: " + e.errno.Error()
}

func (e *localErr) Unwrap() error { return e.errno }

// MTU is the path MTU the kernel gave with EMSGSIZE, else 0.
func (e *localErr) MTU() int {
	if e.errno == unix.EMSGSIZE {
		return int(e.mtu)
	}
	return 0
}
