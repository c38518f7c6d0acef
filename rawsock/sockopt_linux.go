package rawsock

import "golang.org/x/sys/unix"

func (c *Conn) setsockoptInt(level, opt, v int) error {
	return c.control(nameSetsockopt, func(fd int) error { return sysSetsockoptInt(fd, level, opt, v) })
}

func (c *Conn) getsockoptInt(level, opt int) (int, error) {
	var v int
	err := c.control(nameGetsockopt, func(fd int) (err error) { v, err = sysGetsockoptInt(fd, level, opt); return err })
	return v, err
}

func (c *Conn) setsockoptBytes(level, opt int, b []byte) error {
	return c.control(nameSetsockopt, func(fd int) error { return sysSetsockoptBytes(fd, level, opt, b) })
}

func (c *Conn) getsockoptBytes(level, opt int, b []byte) (int, error) {
	var n int
	err := c.control(nameGetsockopt, func(fd int) (err error) { n, err = sysGetsockoptBytes(fd, level, opt, b); return err })
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (c *Conn) setsockoptLinger(l *unix.Linger) error {
	return c.control(nameSetsockopt, func(fd int) error { return sysSetsockoptLinger(fd, l) })
}

func (c *Conn) setsockoptTimeval(level, opt int, tv *unix.Timeval) error {
	return c.control(nameSetsockopt, func(fd int) error { return sysSetsockoptTimeval(fd, level, opt, tv) })
}
