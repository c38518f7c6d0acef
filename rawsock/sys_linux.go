package rawsock

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// One function per syscall: the call and its trace line, nothing else.
// Waiting, retries, deadlines and error wrapping are the callers' (fd_linux.go
// and the op). The calls the op makes return the bare errno, which costs no
// allocation on the hot path. The raw calls go to syscall.Syscall6 itself:
// x/sys/unix's is an assembly jump to it through an ABI wrapper, about 20
// instructions a call more.

// sysSocket makes socket(2).
func sysSocket(family, typ, proto int) (int, error) {
	fd, err := unix.Socket(family, typ, proto)
	if t := traceOut.Load(); t != nil {
		t.printf("socket(%s, %s, %s)%s", FamilyName(family), TypeName(typ), ProtoName(family, proto), traceRet(fd, err))
	}
	return fd, err
}

// sysSocketpair makes socketpair(2).
func sysSocketpair(family, typ, proto int) ([2]int, error) {
	fds, err := unix.Socketpair(family, typ, proto)
	if t := traceOut.Load(); t != nil {
		res := traceRet(0, err)
		if err == nil {
			res += " [" + itoa(fds[0]) + ", " + itoa(fds[1]) + "]"
		}
		t.printf("socketpair(%s, %s, %s)%s", FamilyName(family), TypeName(typ), ProtoName(family, proto), res)
	}
	return fds, err
}

// sysDupCloexec makes fcntl(fd, F_DUPFD_CLOEXEC, 0).
func sysDupCloexec(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if t := traceOut.Load(); t != nil {
		t.printf("fcntl(%d, F_DUPFD_CLOEXEC, 0)%s", fd, traceRet(nfd, err))
	}
	return nfd, err
}

// sysSetNonblock sets O_NONBLOCK with fcntl(2) (F_GETFL, then F_SETFL if
// the flag is not set yet). It has never been traced.
func sysSetNonblock(fd int) error { return unix.SetNonblock(fd, true) }

// sysClose makes close(2) of an fd no os.File owns.
func sysClose(fd int) error {
	err := unix.Close(fd)
	if t := traceOut.Load(); t != nil {
		t.printf("close(%d)%s", fd, traceRet(0, err))
	}
	return err
}

// sysCloseFile closes fd through f, its owner, which makes close(2) once
// no call is using the fd.
func sysCloseFile(f *os.File, fd int) error {
	err := f.Close()
	var errno syscall.Errno
	if err != nil && !errors.As(err, &errno) {
		errno = unix.EBADF
	}
	if t := traceOut.Load(); t != nil {
		t.printf("close(%d)%s", fd, traceRet(0, errOrNil(errno)))
	}
	return errOrNil(errno)
}

// sysBind makes bind(2); a nil address fails with EINVAL before it, traced
// as the call's result.
func sysBind(fd int, sa unix.Sockaddr) error {
	err := checkSockaddr(sa)
	if err == nil {
		var rsa unix.RawSockaddrAny
		err = sockaddrCall(unix.SYS_BIND, fd, sa, &rsa)
	}
	if t := traceOut.Load(); t != nil {
		t.printf("bind(%d, {%s})%s", fd, SockaddrString(sa), traceRet(0, err))
	}
	return err
}

// sysConnect makes connect(2), with sa encoded into rsa.
func sysConnect(fd int, sa unix.Sockaddr, rsa *unix.RawSockaddrAny) error {
	err := sockaddrCall(unix.SYS_CONNECT, fd, sa, rsa)
	if t := traceOut.Load(); t != nil {
		t.printf("connect(%d, {%s})%s", fd, SockaddrString(sa), traceRet(0, err))
	}
	return err
}

// sockaddrCall makes bind(2) or connect(2) (nr) with sa encoded into rsa,
// which belongs to the call: x/sys/unix's Bind and Connect encode into
// the Sockaddr value itself, a data race when goroutines share one
// address. Families encodeSockaddr does not know still go through x/sys.
func sockaddrCall(nr uintptr, fd int, sa unix.Sockaddr, rsa *unix.RawSockaddrAny) error {
	n, ok, err := encodeSockaddr(sa, rsa)
	switch {
	case err != nil:
		return err
	case !ok && nr == unix.SYS_BIND:
		return unix.Bind(fd, sa)
	case !ok:
		return unix.Connect(fd, sa)
	}
	_, _, e := syscall.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(n))
	return errOrNil(e)
}

// sysListen makes listen(2).
func sysListen(fd, backlog int) error {
	err := unix.Listen(fd, backlog)
	if t := traceOut.Load(); t != nil {
		t.printf("listen(%d, %d)%s", fd, backlog, traceRet(0, err))
	}
	return err
}

// sysShutdown makes shutdown(2).
func sysShutdown(fd, how int) error {
	err := unix.Shutdown(fd, how)
	if t := traceOut.Load(); t != nil {
		t.printf("shutdown(%d, %s)%s", fd, ShutName(how), traceRet(0, err))
	}
	return err
}

// sysGetsockname makes getsockname(2) into rsa and returns the length.
func sysGetsockname(fd int, rsa *unix.RawSockaddrAny) (uint32, error) {
	return sockname(nameGetsockname, unix.SYS_GETSOCKNAME, fd, rsa)
}

// sysGetpeername makes getpeername(2) into rsa and returns the length.
func sysGetpeername(fd int, rsa *unix.RawSockaddrAny) (uint32, error) {
	return sockname(nameGetpeername, unix.SYS_GETPEERNAME, fd, rsa)
}

// sockname makes getsockname(2) or getpeername(2) (nr): unix.Getsockname
// would add a getsockopt(SO_PROTOCOL) for AF_INET.
func sockname(name string, nr uintptr, fd int, rsa *unix.RawSockaddrAny) (uint32, error) {
	l := uint32(unix.SizeofSockaddrAny)
	_, _, e := unix.RawSyscall(nr, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&l)))
	if t := traceOut.Load(); t != nil {
		var sa unix.Sockaddr
		if e == 0 {
			sa = decodeSockaddr(rsa, l)
		}
		t.printf("%s(%d)%s%s", name, fd, traceRet(0, errOrNil(e)), traceAddr(sa))
	}
	return l, errOrNil(e)
}

// sysGetsockoptInt makes getsockopt(2) for an int option.
func sysGetsockoptInt(fd, level, opt int) (int, error) {
	v, err := unix.GetsockoptInt(fd, level, opt)
	if t := traceOut.Load(); t != nil {
		t.printf("getsockopt(%d, %s, %s)%s [%d]", fd, LevelName(level), OptName(level, opt), traceRet(0, err), v)
	}
	return v, err
}

// sysGetsockoptSOError makes getsockopt(SOL_SOCKET, SO_ERROR), whose value
// the trace names as the errno it is.
func sysGetsockoptSOError(fd int) (int, error) {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if t := traceOut.Load(); t != nil {
		note := ""
		if err == nil {
			note = " [0]"
			if v != 0 {
				note = " [" + unix.ErrnoName(syscall.Errno(v)) + "]"
			}
		}
		t.printf("getsockopt(%d, SOL_SOCKET, SO_ERROR)%s%s", fd, traceRet(0, err), note)
	}
	return v, err
}

// sysSetsockoptInt makes setsockopt(2) for an int option.
func sysSetsockoptInt(fd, level, opt, v int) error {
	err := unix.SetsockoptInt(fd, level, opt, v)
	if t := traceOut.Load(); t != nil {
		t.printf("setsockopt(%d, %s, %s, %d)%s", fd, LevelName(level), OptName(level, opt), v, traceRet(0, err))
	}
	return err
}

// sysSetsockoptBytes makes setsockopt(2) with the option's bytes.
func sysSetsockoptBytes(fd, level, opt int, b []byte) error {
	_, _, e := syscall.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(bufPtr(b)), uintptr(len(b)), 0)
	err := errOrNil(e)
	if t := traceOut.Load(); t != nil {
		t.printf("setsockopt(%d, %s, %s, %d bytes)%s", fd, LevelName(level), OptName(level, opt), len(b), traceRet(0, err))
	}
	return err
}

// sysGetsockoptBytes makes getsockopt(2) into b and returns the length.
func sysGetsockoptBytes(fd, level, opt int, b []byte) (int, error) {
	l := uint32(len(b))
	_, _, e := syscall.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(bufPtr(b)), uintptr(unsafe.Pointer(&l)), 0)
	err := errOrNil(e)
	if t := traceOut.Load(); t != nil {
		t.printf("getsockopt(%d, %s, %s, %d bytes)%s [%d bytes]", fd, LevelName(level), OptName(level, opt), len(b), traceRet(0, err), l)
	}
	return int(l), err
}

// sysSetsockoptLinger makes setsockopt(SOL_SOCKET, SO_LINGER).
func sysSetsockoptLinger(fd int, l *unix.Linger) error {
	err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, l)
	if t := traceOut.Load(); t != nil {
		t.printf("setsockopt(%d, SOL_SOCKET, SO_LINGER, {onoff=%d, linger=%d})%s", fd, l.Onoff, l.Linger, traceRet(0, err))
	}
	return err
}

// sysSetsockoptTimeval makes setsockopt(2) for a struct timeval option.
func sysSetsockoptTimeval(fd, level, opt int, tv *unix.Timeval) error {
	err := unix.SetsockoptTimeval(fd, level, opt, tv)
	if t := traceOut.Load(); t != nil {
		t.printf("setsockopt(%d, %s, %s, {tv_sec=%d, tv_usec=%d})%s", fd, LevelName(level), OptName(level, opt), tv.Sec, tv.Usec, traceRet(0, err))
	}
	return err
}

// sysAccept4 makes accept4(2) with SOCK_CLOEXEC|SOCK_NONBLOCK, the peer's
// address into rsa (*rsalen in, its length out).
func sysAccept4(fd int, rsa *unix.RawSockaddrAny, rsalen *uint32) (int, syscall.Errno) {
	r, _, e := syscall.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(rsalen)),
		unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0, 0)
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		addr := ""
		if e == 0 {
			addr = traceAddr(decodeSockaddr(rsa, *rsalen))
		}
		t.printf("accept4(%d)%s%s", fd, traceRet(n, errOrNil(e)), addr)
	}
	return n, e
}

// rawMax is the most bytes a call that cannot wait copies on
// RawSyscall6: a few microseconds at most, so holding the P through it
// costs the scheduler less than entersyscall and exitsyscall cost the call
// (README, "What changed in the core").
const rawMax = 64 << 10

// cannotWait reports a send or receive that returns at once whatever the
// fd's mode: MSG_DONTWAIT, not O_NONBLOCK, which another holder of the
// open file description can clear.
func cannotWait(flags, size int) bool {
	return flags&unix.MSG_DONTWAIT != 0 && size <= rawMax
}

// sysRecvfrom makes recvfrom(2); rsa nil asks for no address.
func sysRecvfrom(fd int, b []byte, flags int, rsa *unix.RawSockaddrAny, rsalen *uint32) (int, syscall.Errno) {
	// Pointers, converted in the call (unsafe.Pointer rule 4).
	var from, fromlen unsafe.Pointer
	if rsa != nil {
		from, fromlen = unsafe.Pointer(rsa), unsafe.Pointer(rsalen)
	}
	var r uintptr
	var e syscall.Errno
	if cannotWait(flags, len(b)) {
		r, _, e = syscall.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(bufPtr(b)), uintptr(len(b)), uintptr(flags), uintptr(from), uintptr(fromlen))
	} else {
		r, _, e = syscall.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(bufPtr(b)), uintptr(len(b)), uintptr(flags), uintptr(from), uintptr(fromlen))
	}
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		addr := ""
		if rsa != nil && e == 0 {
			addr = traceAddr(decodeSockaddr(rsa, *rsalen))
		}
		t.printf("recvfrom(%d, %d%s)%s%s", fd, len(b), traceFlags(flags), traceRet(n, errOrNil(e)), addr)
	}
	return n, e
}

// sysSendto makes sendto(2), to the rsalen bytes of rsa, or to the
// connected peer when rsalen is 0.
func sysSendto(fd int, b []byte, flags int, rsa *unix.RawSockaddrAny, rsalen uint32) (int, syscall.Errno) {
	var to unsafe.Pointer
	if rsalen != 0 {
		to = unsafe.Pointer(rsa)
	}
	var r uintptr
	var e syscall.Errno
	if cannotWait(flags, len(b)) {
		r, _, e = syscall.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(bufPtr(b)), uintptr(len(b)), uintptr(flags), uintptr(to), uintptr(rsalen))
	} else {
		r, _, e = syscall.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(bufPtr(b)), uintptr(len(b)), uintptr(flags), uintptr(to), uintptr(rsalen))
	}
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		t.printf("sendto(%d, %d%s%s)%s", fd, len(b), traceFlags(flags), traceDest(rsa, rsalen), traceRet(n, errOrNil(e)))
	}
	return n, e
}

// sysSendmsgN makes sendmsg(2) to an address of a family encodeSockaddr
// does not know, which x/sys/unix encodes. Its Sendto hides the count, a
// short send on a stream; SendmsgN, the same send as sendmsg(2), returns it.
func sysSendmsgN(fd int, b []byte, flags int, sa unix.Sockaddr) (int, syscall.Errno) {
	n, err := unix.SendmsgN(fd, b, nil, sa, flags)
	if err != nil {
		n = -1
	}
	if t := traceOut.Load(); t != nil {
		t.printf("sendmsg(%d, %d, oob 0%s, {%s})%s", fd, len(b), traceFlags(flags), SockaddrString(sa), traceRet(n, errOrNil(errnoOf(err))))
	}
	return n, errnoOf(err)
}

// sysRecvmsg makes recvmsg(2) with msg.
func sysRecvmsg(fd int, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	oob := msg.Controllen // the buffer's size: the kernel overwrites it
	r, _, e := syscall.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		extra := ""
		if e == 0 {
			extra = traceAddr(decodeSockaddr((*unix.RawSockaddrAny)(unsafe.Pointer(msg.Name)), msg.Namelen))
			if msg.Controllen > 0 {
				extra += " cmsg " + itoa(int(msg.Controllen))
			}
			if msg.Flags != 0 {
				extra += " [" + MsgFlagsString(int(msg.Flags)) + "]"
			}
		}
		t.printf("recvmsg(%d, %d, oob %d%s)%s%s", fd, iovLen(msg), oob, traceFlags(flags), traceRet(n, errOrNil(e)), extra)
	}
	return n, e
}

// sysSendmsg makes sendmsg(2) with msg.
func sysSendmsg(fd int, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	r, _, e := syscall.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		t.printf("sendmsg(%d, %d, oob %d%s%s)%s", fd, iovLen(msg), msg.Controllen, traceFlags(flags),
			traceDest((*unix.RawSockaddrAny)(unsafe.Pointer(msg.Name)), msg.Namelen), traceRet(n, errOrNil(e)))
	}
	return n, e
}

// sysRecvmmsg makes recvmmsg(2) into hdrs. batch is the caller's whole
// batch, of which hdrs is what is left to fill: the trace names the batch.
func sysRecvmmsg(fd int, hdrs []unix.Mmsghdr, flags, batch int) (int, syscall.Errno) {
	r, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		t.printf("recvmmsg(%d, %d msgs%s)%s", fd, batch, traceFlags(flags), traceRet(n, errOrNil(e)))
	}
	return n, e
}

// sysSendmmsg makes sendmmsg(2) from hdrs.
func sysSendmmsg(fd int, hdrs []unix.Mmsghdr, flags int) (int, syscall.Errno) {
	r, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		t.printf("sendmmsg(%d, %d msgs%s)%s", fd, len(hdrs), traceFlags(flags), traceRet(n, errOrNil(e)))
	}
	return n, e
}

// sysSendfile makes sendfile(2) from infd at *off, which it advances.
func sysSendfile(fd, infd int, off *int64, count int) (int, syscall.Errno) {
	r, _, e := syscall.Syscall6(unix.SYS_SENDFILE, uintptr(fd), uintptr(infd), uintptr(unsafe.Pointer(off)), uintptr(count), 0, 0)
	n := retval(r, e)
	if t := traceOut.Load(); t != nil {
		t.printf("sendfile(%d, %d, [%d], %d)%s", fd, infd, *off, count, traceRet(n, errOrNil(e)))
	}
	return n, e
}

// sysSelect makes select(2). n holds the lengths of the caller's read,
// write and except lists, and timeout its whole wait, for the trace.
func sysSelect(nfd int, sets *[3]unix.FdSet, tv *unix.Timeval, n [3]int, timeout time.Duration) (int, error) {
	r, err := unix.Select(nfd, &sets[0], &sets[1], &sets[2], tv)
	if t := traceOut.Load(); t != nil {
		t.printf("select(%d, [%d read], [%d write], [%d except], %s)%s", nfd, n[0], n[1], n[2], timeoutString(timeout), traceRet(r, err))
	}
	return r, err
}

// sysPoll makes poll(2).
func sysPoll(fds []PollFd, ms int) (int, error) {
	n, err := unix.Poll(fds, ms)
	if t := traceOut.Load(); t != nil {
		t.printf("poll([%d fds], %d)%s", len(fds), ms, traceRet(n, err))
	}
	return n, err
}

// sysEpollCreate1 makes epoll_create1(2) with EPOLL_CLOEXEC added.
func sysEpollCreate1(flags int) (int, error) {
	fd, err := unix.EpollCreate1(flags | unix.EPOLL_CLOEXEC)
	if t := traceOut.Load(); t != nil {
		t.printf("epoll_create1(EPOLL_CLOEXEC)%s", traceRet(fd, err))
	}
	return fd, err
}

// sysEventfd makes eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK).
func sysEventfd() (int, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if t := traceOut.Load(); t != nil {
		t.printf("eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK)%s", traceRet(fd, err))
	}
	return fd, err
}

// sysEpollCtl makes epoll_ctl(2).
func sysEpollCtl(epfd, op, fd int, ev *EpollEvent) error {
	err := unix.EpollCtl(epfd, op, fd, ev)
	if t := traceOut.Load(); t != nil {
		evs := ""
		if ev != nil {
			evs = ", " + epollEventsString(ev.Events)
		}
		t.printf("epoll_ctl(%d, %s, %d%s)%s", epfd, epollOpName(op), fd, evs, traceRet(0, err))
	}
	return err
}

// sysEpollWait makes epoll_wait(2).
func sysEpollWait(epfd int, events []EpollEvent, msec int) (int, error) {
	n, err := unix.EpollWait(epfd, events, msec)
	if t := traceOut.Load(); t != nil {
		t.printf("epoll_wait(%d, %d, %d)%s", epfd, len(events), msec, traceRet(n, err))
	}
	return n, err
}

// sysTimerfdCreate makes timerfd_create(2) with TFD_NONBLOCK|TFD_CLOEXEC.
func sysTimerfdCreate(clock int) (int, error) {
	fd, err := unix.TimerfdCreate(clock, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if t := traceOut.Load(); t != nil {
		t.printf("timerfd_create(%s, TFD_NONBLOCK|TFD_CLOEXEC)%s", nameOr(clockNames, clock), traceRet(fd, err))
	}
	return fd, err
}

// sysTimerfdSettime makes timerfd_settime(2) with a relative time.
func sysTimerfdSettime(fd int, its *unix.ItimerSpec) error {
	err := unix.TimerfdSettime(fd, 0, its, nil)
	if t := traceOut.Load(); t != nil {
		t.printf("timerfd_settime(%d, 0, {it_value=%v, it_interval=%v})%s", fd,
			time.Duration(its.Value.Nano()), time.Duration(its.Interval.Nano()), traceRet(0, err))
	}
	return err
}

// sysRead makes read(2).
func sysRead(fd int, b []byte) (int, error) {
	n, err := unix.Read(fd, b)
	if t := traceOut.Load(); t != nil {
		t.printf("read(%d, %d)%s", fd, len(b), traceRet(n, err))
	}
	return n, err
}

// sysWrite makes write(2).
func sysWrite(fd int, b []byte) (int, error) {
	n, err := unix.Write(fd, b)
	if t := traceOut.Load(); t != nil {
		t.printf("write(%d, %d)%s", fd, len(b), traceRet(n, err))
	}
	return n, err
}

// retval is a raw syscall's count: -1 on an error, as in C.
func retval(r uintptr, e syscall.Errno) int {
	if e != 0 {
		return -1
	}
	return int(r)
}

// iovLen is the length of msg's one iovec, 0 for none.
func iovLen(msg *unix.Msghdr) int {
	if msg.Iov == nil {
		return 0
	}
	return int(msg.Iov.Len)
}

// traceDest renders a destination address argument, or "" for none.
func traceDest(rsa *unix.RawSockaddrAny, rsalen uint32) string {
	if rsalen == 0 {
		return ""
	}
	return ", {" + SockaddrString(decodeSockaddr(rsa, rsalen)) + "}"
}

func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return unsafe.Pointer(&zeroByte)
	}
	return unsafe.Pointer(&b[0])
}

var zeroByte byte

// errOrNil keeps a zero errno from becoming a non-nil error.
func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// errnoOf extracts the errno x/sys/unix returned.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return unix.EINVAL
}
