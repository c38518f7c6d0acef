package echo

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// This file is the goroutine engine for datagram networks (udp, udp6,
// unixgram): one goroutine in recvfrom(2) and sendto(2), as the tutorial's
// UDP variant does. There are no connections, so MaxConns and IdleTimeout
// do not apply.

// dgramSock is the server's datagram socket seen as recvfrom/sendto, with
// the inet forms that allocate nothing.
type dgramSock struct {
	r, w *rawsock.Conn
	inet bool
	ap   netip.AddrPort
	sa   unix.Sockaddr
}

func (d *dgramSock) recv(b []byte) (int, error) {
	var n int
	var err error
	if d.inet {
		n, d.ap, err = d.r.RecvfromInet(b, 0)
	} else {
		n, d.sa, err = d.r.Recvfrom(b, 0)
	}
	return n, err
}

// reply sends b to the last sender. A unixgram client that did not bind
// has no address to answer.
func (d *dgramSock) reply(b []byte) error {
	if d.inet {
		_, err := d.w.SendtoInet(b, msgNoSignal, d.ap)
		return err
	}
	if u, ok := d.sa.(*unix.SockaddrUnix); !ok || u.Name == "" {
		return errUnnamed
	}
	_, err := d.w.Sendto(b, msgNoSignal, d.sa)
	return err
}

func (d *dgramSock) from() string {
	if d.inet {
		return d.ap.String()
	}
	return rawsock.AddrString(d.sa)
}

var errUnnamed = errors.New("sender has no address (an unbound unixgram socket): nothing to answer")

func (s *Server) serveDgram() error {
	// Answers go through a second fd in non-blocking mode: an answer the
	// kernel cannot queue (a unixgram client that does not read) is
	// dropped, as a datagram may be, and never stalls the other clients.
	w, err := s.ln.Dup()
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetBlocking(false)
	d := &dgramSock{r: s.ln, w: w, inet: s.nw.inet()}
	buf := make([]byte, CtimeLen+s.cfg.BufSize)
	var st stamper
	var backoff time.Duration
	for {
		if s.stopping.Load() {
			s.drainDgram(d, buf, &st)
			return nil
		}
		s.logf("waiting for message...")
		n, err := d.recv(buf[CtimeLen:])
		if err != nil {
			if s.stopping.Load() {
				s.drainDgram(d, buf, &st)
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// An error here is about one datagram (or an ICMP error for
			// an earlier answer); back off only if it persists.
			s.n.connErr.Add(1)
			backoff = acceptBackoff(backoff)
			s.logf("%v; retrying in %v", err, backoff)
			select {
			case <-time.After(backoff):
			case <-s.quit:
			}
			continue
		}
		backoff = 0
		s.answerDgram(d, buf[:CtimeLen+n], &st)
	}
}

func (s *Server) answerDgram(d *dgramSock, b []byte, st *stamper) {
	if s.log != nil {
		s.logf("...received from: %s", d.from())
	}
	st.stamp(b, time.Now())
	if err := d.reply(b); err != nil {
		s.n.unanswered.Add(1)
		if s.log != nil {
			s.logf("...not answered %s: %v", d.from(), err)
		}
		return
	}
	s.n.dgrams.Add(1)
}

// drainDgram answers the datagrams already queued when the stop began.
func (s *Server) drainDgram(d *dgramSock, buf []byte, st *stamper) {
	s.mu.Lock()
	s.lnFinishing = true
	s.mu.Unlock()
	s.ln.SetReadDeadline(time.Time{})
	s.ln.SetBlocking(false)
	for range 4096 {
		n, err := d.recv(buf[CtimeLen:])
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, os.ErrDeadlineExceeded) {
				s.logf("%v", err)
			}
			return
		}
		s.answerDgram(d, buf[:CtimeLen+n], st)
	}
}
