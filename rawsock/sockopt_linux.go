package rawsock

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func (c *Conn) setsockoptInt(level, opt, v int) error {
	return c.control(sysSetsockopt, func(fd int) error {
		err := unix.SetsockoptInt(fd, level, opt, v)
		if t := traceOut.Load(); t != nil {
			t.printf("setsockopt(%d, %s, %s, %d)%s", fd, LevelName(level), OptName(level, opt), v, traceRet(0, err))
		}
		return err
	})
}

func (c *Conn) getsockoptInt(level, opt int) (int, error) {
	var v int
	err := c.control(sysGetsockopt, func(fd int) error {
		var err error
		v, err = unix.GetsockoptInt(fd, level, opt)
		if t := traceOut.Load(); t != nil {
			t.printf("getsockopt(%d, %s, %s)%s [%d]", fd, LevelName(level), OptName(level, opt), traceRet(0, err), v)
		}
		return err
	})
	return v, err
}

func (c *Conn) setsockoptBytes(level, opt int, b []byte) error {
	return c.control(sysSetsockopt, func(fd int) error {
		_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
			uintptr(bufPtr(b)), uintptr(len(b)), 0)
		err := errOrNil(e)
		if t := traceOut.Load(); t != nil {
			t.printf("setsockopt(%d, %s, %s, %d bytes)%s", fd, LevelName(level), OptName(level, opt), len(b), traceRet(0, err))
		}
		return err
	})
}

func (c *Conn) getsockoptBytes(level, opt int, b []byte) (int, error) {
	l := uint32(len(b))
	err := c.control(sysGetsockopt, func(fd int) error {
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
			uintptr(bufPtr(b)), uintptr(unsafe.Pointer(&l)), 0)
		err := errOrNil(e)
		if t := traceOut.Load(); t != nil {
			t.printf("getsockopt(%d, %s, %s, %d bytes)%s [%d bytes]", fd, LevelName(level), OptName(level, opt), len(b), traceRet(0, err), l)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(l), nil
}

func (c *Conn) setsockoptLinger(l *unix.Linger) error {
	return c.control(sysSetsockopt, func(fd int) error {
		err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, l)
		if t := traceOut.Load(); t != nil {
			t.printf("setsockopt(%d, SOL_SOCKET, SO_LINGER, {onoff=%d, linger=%d})%s", fd, l.Onoff, l.Linger, traceRet(0, err))
		}
		return err
	})
}

func (c *Conn) setsockoptTimeval(level, opt int, tv *unix.Timeval) error {
	return c.control(sysSetsockopt, func(fd int) error {
		err := unix.SetsockoptTimeval(fd, level, opt, tv)
		if t := traceOut.Load(); t != nil {
			t.printf("setsockopt(%d, %s, %s, {tv_sec=%d, tv_usec=%d})%s", fd, LevelName(level), OptName(level, opt), tv.Sec, tv.Usec, traceRet(0, err))
		}
		return err
	})
}

// errOrNil keeps a zero errno from becoming a non-nil error.
func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
