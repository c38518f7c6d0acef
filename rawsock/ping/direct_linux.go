package ping

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// direct is a flood's socket taken off the runtime poller, as C's ping
// has it: sendto(2), recvmsg(2) with MSG_DONTWAIT, and ppoll(2) on the
// socket and an eventfd when nothing is queued. A socket in the poller's
// epoll set has a waiter on its wait queue for life, so every reply queued
// and every request's buffer freed runs ep_poll_callback under the queue's
// lock; a flood pays that twice a packet whether anything waits or not
// (README, "Flood ping against iputils").
type direct struct {
	mu      sync.Mutex // orders close against the run's end
	fd, efd int        // the socket (off the poller) and the eventfd that wakes ppoll
	running bool
	closed  atomic.Bool

	hdr   unix.Msghdr
	iov   unix.Iovec
	from  unix.RawSockaddrInet6 // big enough for either family
	to    unix.RawSockaddrInet6
	tolen uintptr
	pfd   [2]unix.PollFd
	ts    unix.Timespec
}

// goDirect takes the socket off the poller for Run: the Conn hands over
// its fd (Detach) and is closed. It returns net.ErrClosed when Close came
// first.
func (sc *sysConn) goDirect() error {
	d := &sc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return net.ErrClosed
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	fd, err := sc.c.Detach()
	if err != nil {
		unix.Close(efd)
		return err
	}
	d.fd, d.efd, d.running = fd, efd, true
	sc.direct = true
	d.to = unix.RawSockaddrInet6{}
	if a := sc.dst.Addr(); a.Is4() {
		to := (*unix.RawSockaddrInet4)(unsafe.Pointer(&d.to))
		*to = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		d.tolen = unix.SizeofSockaddrInet4
	} else {
		d.to = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		if z, err := strconv.ParseUint(a.Zone(), 10, 32); err == nil {
			d.to.Scope_id = uint32(z)
		}
		d.tolen = unix.SizeofSockaddrInet6
	}
	d.hdr.Name = (*byte)(unsafe.Pointer(&d.from))
	d.hdr.Iov = &d.iov
	d.hdr.Iovlen = 1
	d.pfd = [2]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(efd), Events: unix.POLLIN}}
	return nil
}

// endDirect ends Run's use of the fd: a Close that came meanwhile left
// closing it to this.
func (sc *sysConn) endDirect() {
	d := &sc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running = false
	if d.closed.Load() {
		d.closeFDs()
	}
}

func (d *direct) closeFDs() {
	if d.fd >= 0 {
		unix.Close(d.fd)
		unix.Close(d.efd)
		d.fd, d.efd = -1, -1
	}
}

// wake makes ppoll return: the eventfd stays readable from then on, and
// the run ends (cancelled or closed).
func (d *direct) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(d.efd, one[:])
}

// sendto wraps sendto(2) of b to the destination. The fd is non-blocking
// (a full send buffer fails with EAGAIN) and so is recvmsg below: neither
// waits, so both skip the runtime's entersyscall and exitsyscall, a
// quarter of a flood's time outside the kernel (README, "Flood ping
// against iputils"). ppoll, which waits, goes through them.
func (d *direct) sendto(b []byte, flags int) error {
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(d.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		uintptr(flags), uintptr(unsafe.Pointer(&d.to)), d.tolen)
	if e != 0 {
		return os.NewSyscallError("sendto", e)
	}
	return nil
}

// recvDirect is recv for a direct socket: recvmsg(2) without waiting,
// then ppoll(2) until a datagram, the wake time, or a wake.
func (p *Pinger) recvDirect() (int, error) {
	sc := &p.sys
	d := &sc.d
	for {
		if d.closed.Load() {
			return 0, net.ErrClosed
		}
		n, err := d.recvmsg(&sc.msgs[0])
		if err != unix.EAGAIN {
			if err != nil {
				return 0, os.NewSyscallError("recvmsg", err)
			}
			return n, nil
		}
		if p.st.cancelled.Load() {
			return 0, nil
		}
		var ts *unix.Timespec
		if wake := p.wakeAt(); !wake.IsZero() {
			left := time.Until(wake)
			if left <= 0 {
				return 0, nil
			}
			d.ts = unix.NsecToTimespec(int64(left))
			ts = &d.ts
		}
		d.pfd[0].Revents, d.pfd[1].Revents = 0, 0
		k, err := unix.Ppoll(d.pfd[:], ts, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, os.NewSyscallError("ppoll", err)
		case k == 0 || d.pfd[1].Revents != 0:
			return 0, nil // the wake time, a cancel or Close: the loop looks
		}
	}
}

// recvmsg wraps recvmsg(2) with MSG_DONTWAIT into m, its address decoded
// without allocating.
func (d *direct) recvmsg(m *rawsock.Message) (int, error) {
	d.iov.Base = &m.Buf[0]
	d.iov.SetLen(len(m.Buf))
	d.hdr.Namelen = unix.SizeofSockaddrInet6
	d.hdr.Control = &m.OOB[0]
	d.hdr.SetControllen(len(m.OOB))
	d.hdr.Flags = 0
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(d.fd), uintptr(unsafe.Pointer(&d.hdr)), unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
	if e != 0 {
		return 0, e
	}
	m.N, m.NN, m.Flags = int(n), int(d.hdr.Controllen), int(d.hdr.Flags)
	switch d.from.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&d.from))
		m.Addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), 0)
	case unix.AF_INET6:
		a := netip.AddrFrom16(d.from.Addr)
		if d.from.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(d.from.Scope_id), 10))
		}
		m.Addr = netip.AddrPortFrom(a, 0)
	default:
		m.Addr = netip.AddrPort{}
	}
	return 1, nil
}
