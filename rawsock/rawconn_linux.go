package rawsock

// rawWait is RawConn.Read and Write.
func (c *Conn) rawWait(name string, write bool, f func(fd uintptr) bool) error {
	if err := c.closedCheck(name); err != nil {
		return err
	}
	// A wait is one more call on its side: serialized with the others, and
	// under the same per-call timeout and deadlines (start and finish).
	mu, o, kind := &c.rmu, &c.rop, opRecvmsg
	if write {
		mu, o, kind = &c.wmu, &c.wop, opSendmsg
	}
	mu.Lock()
	defer mu.Unlock()
	o.kind = kind
	if err := c.start(o, nil); err != nil {
		return err
	}
	var err error
	if write {
		err = c.rc.Write(f)
	} else {
		err = c.rc.Read(f)
	}
	if err != nil {
		err = c.mapPollErr(name, err)
	}
	return c.finish(o, nil, err)
}
