package echo

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// This file is the default engine for connected networks (tcp, tcp6,
// unix, unixpacket): an accept loop and a goroutine per connection, each
// blocking in Recv and Sendall on the runtime poller, as net/http does.

// sconn is one connection of the goroutine engine.
type sconn struct {
	c    *rawsock.Conn
	peer string
	slot bool // holds a MaxConns token
	// finishing is set, under Server.mu, once the connection's goroutine
	// has taken over its own stop; pokeAll leaves it alone from then on.
	finishing bool
}

// aLongTimeAgo, as a deadline, wakes a call blocked on the runtime poller.
var aLongTimeAgo = time.Unix(1, 0)

func (s *Server) serveConns() error {
	defer s.wg.Wait()
	var backoff time.Duration
	for {
		if s.sem != nil {
			select {
			case s.sem <- struct{}{}:
			case <-s.quit:
				s.acceptBacklog()
				return nil
			}
		}
		s.logf("waiting for connection...")
		c, sa, err := s.ln.Accept()
		if err != nil {
			s.releaseSlot()
			if s.stopping.Load() {
				s.acceptBacklog()
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of fds or memory: the pending client stays in the
			// backlog; retry later instead of spinning on the error.
			// Other errors concern one client (ECONNABORTED, EPERM from
			// a firewall, ...), but a persistent one would spin too:
			// back off on every error, reset on success.
			s.n.acceptErr.Add(1)
			backoff = acceptBackoff(backoff)
			s.logf("%v; retrying in %v", err, backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.quit:
				t.Stop()
			}
			continue
		}
		backoff = 0
		s.spawn(c, sa, true)
	}
}

// spawn starts a connection's goroutine; slot says it holds a MaxConns
// token.
func (s *Server) spawn(c *rawsock.Conn, sa unix.Sockaddr, slot bool) {
	sc := &sconn{c: c, peer: rawsock.AddrString(sa), slot: slot}
	s.logf("...connected from: %s", sc.peer)
	s.n.accepted.Add(1)
	s.n.active.Add(1)
	s.mu.Lock()
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	go s.serveConn(sc)
}

// acceptBacklog is the accept loop's part of a graceful stop: the clients
// the kernel has connected but the server not yet accepted have sent
// messages too; accept them (over MaxConns if need be) so that they are
// answered and half-closed like the others, rather than reset by the
// listener's close. Then close the listener.
func (s *Server) acceptBacklog() {
	s.mu.Lock()
	s.lnFinishing = true
	s.mu.Unlock()
	s.ln.SetReadDeadline(time.Time{}) // undo pokeAll's
	s.ln.SetBlocking(false)
	for range backlog {
		c, sa, err := s.ln.Accept()
		if err != nil {
			break
		}
		slot := false
		if s.sem != nil {
			select {
			case s.sem <- struct{}{}:
				slot = true
			default:
			}
		}
		s.spawn(c, sa, slot)
	}
	s.closeListener()
}

// serveConn answers one client until it leaves, fails, idles, or the
// server stops.
func (s *Server) serveConn(sc *sconn) {
	defer s.endConn(sc)
	c := sc.c
	buf := make([]byte, CtimeLen+s.cfg.BufSize)
	var st stamper
	idle := s.cfg.IdleTimeout
	var rdl, wdl time.Time
	now := time.Now()
	for {
		// The deadline moves only when less than idle is left, and then
		// to idle+idle/8: never early, at most an eighth late, and one
		// SetReadDeadline per idle/8 instead of one per message.
		if idle > 0 && rdl.Sub(now) < idle {
			rdl = now.Add(idle + idle/8)
			c.SetReadDeadline(rdl)
		}
		// Checked after the deadline moves: pokeAll's deadline, set
		// after stopping, cannot be overwritten unseen.
		if s.stopping.Load() {
			s.finish(sc, buf, &st, &wdl)
			return
		}
		n, err := c.Recv(buf[CtimeLen:], 0)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if s.stopping.Load() {
					s.finish(sc, buf, &st, &wdl)
					return
				}
				s.n.idle.Add(1)
				s.logf("...closed %s: idle for %v", sc.peer, idle)
				return
			}
			s.connError(sc, err)
			return
		}
		if n == 0 {
			return // the client's FIN (or an empty SOCK_SEQPACKET message)
		}
		now = time.Now()
		if s.answer(sc, buf[:CtimeLen+n], &st, now, &wdl) != nil {
			return
		}
	}
}

// answer sends ctime+data (b has the data after CtimeLen bytes of room).
func (s *Server) answer(sc *sconn, b []byte, st *stamper, now time.Time, wdl *time.Time) error {
	c := sc.c
	st.stamp(b, now)
	if wt := s.cfg.WriteTimeout; wt > 0 && wdl.Sub(now) < wt {
		*wdl = now.Add(wt + wt/8)
		c.SetWriteDeadline(*wdl)
	}
	var err error
	// MSG_NOSIGNAL: a reset peer gives EPIPE here, never SIGPIPE.
	if s.nw.stream() {
		err = c.Sendall(b, msgNoSignal)
	} else {
		_, err = c.Send(b, msgNoSignal)
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.n.write.Add(1)
			s.logf("...dropped %s: answer not taken for %v (client not reading)", sc.peer, s.cfg.WriteTimeout)
		} else {
			s.connError(sc, err)
		}
	}
	return err
}

func (s *Server) connError(sc *sconn, err error) {
	if errors.Is(err, net.ErrClosed) {
		return // closed by Shutdown's deadline
	}
	s.n.connErr.Add(1)
	s.logf("...closed %s: %v", sc.peer, err)
}

// finish is a connection's part of a graceful stop: answer what the client
// has sent already, half-close, and wait a little for the client's FIN, so
// that closing with unread data does not reset the connection under the
// client's last answers.
func (s *Server) finish(sc *sconn, buf []byte, st *stamper, wdl *time.Time) {
	s.mu.Lock()
	sc.finishing = true
	s.mu.Unlock()
	c := sc.c
	c.SetReadDeadline(time.Time{}) // undo pokeAll's
	// Bounded, against a client that sends without pause.
	for range 1024 {
		n, err := c.Recv(buf[CtimeLen:], unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil || n == 0 {
			return
		}
		if s.answer(sc, buf[:CtimeLen+n], st, time.Now(), wdl) != nil {
			return
		}
	}
	if c.Shutdown(rawsock.SHUT_WR) != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(lingerTimeout))
	for {
		if n, err := c.Recv(buf, 0); err != nil || n == 0 {
			return
		}
	}
}

func (s *Server) endConn(sc *sconn) {
	sc.c.Close()
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
	s.n.active.Add(-1)
	s.n.closed.Add(1)
	if sc.slot {
		s.releaseSlot()
	}
	s.wg.Done()
}

// pokeAll wakes every goroutine blocked in Accept or Recv, so that it sees
// the stop.
func (s *Server) pokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lnFinishing {
		s.ln.SetReadDeadline(aLongTimeAgo)
	}
	for sc := range s.conns {
		if !sc.finishing {
			sc.c.SetReadDeadline(aLongTimeAgo)
		}
	}
}

func (s *Server) releaseSlot() {
	if s.sem != nil {
		<-s.sem
	}
}
