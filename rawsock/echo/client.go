package echo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rawsock/rawsock/rawsock"
)

// Client is the tutorial's client: one connection to an echo server (on
// datagram networks a connected socket, so that only the server's answers
// are received).
type Client struct {
	c    *rawsock.Conn
	nw   network
	addr string
	buf  []byte
	f    framer
}

// ambiguityWait is how long Exchange waits for more of an answer whose data
// ends like the start of a stamp.
const ambiguityWait = 50 * time.Millisecond

// maxDatagram is the largest answer a datagram or SOCK_SEQPACKET server
// can send: a 64 KiB message plus the stamp.
const maxDatagram = CtimeLen + 64<<10

// Dial connects to an echo server at addr (DefaultAddr(network, true) when
// empty). A timeout above zero bounds the connect and every later call,
// as Python's settimeout does. A unixgram client binds first, to an
// address in the abstract namespace the kernel picks (autobind, unix(7)),
// so that the server can answer it and nothing is left on disk. Errors
// name the syscall and the address: "connect: connection refused
// (127.0.0.1:9999)".
func Dial(networkName, addr string, timeout time.Duration) (*Client, error) {
	if networkName == "" {
		networkName = "tcp"
	}
	nw, err := lookupNetwork(networkName)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = DefaultAddr(networkName, true)
	}
	sa, err := resolve(nw, addr)
	if err != nil {
		return nil, err
	}
	c, err := rawsock.Socket(nw.family, nw.sotype, 0)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		c.SetTimeout(timeout)
	}
	if nw.sotype == rawsock.SOCK_DGRAM && !nw.inet() {
		if err := c.Bind(rawsock.UnixAddr("")); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.Connect(sa); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w (%s)", err, addr)
	}
	cl := &Client{c: c, nw: nw, addr: addr}
	if !nw.stream() {
		cl.buf = make([]byte, maxDatagram)
	}
	return cl, nil
}

// Conn returns the client's socket.
func (c *Client) Conn() *rawsock.Conn { return c.c }

// Close closes the client's socket.
func (c *Client) Close() error { return c.c.Close() }

// ErrClosedByServer is returned by Exchange when the server closes the
// connection instead of answering.
var ErrClosedByServer = errors.New("server closed the connection")

// Exchange sends msg and returns the server's whole answer, as received:
// on a stream, ctime+msg, or several ctime+chunk segments when the server
// read msg in more than one recv (it is re-framed against msg, so the
// client knows when the answer is complete); on a datagram or
// SOCK_SEQPACKET socket, the one answer, whose data is msg cut to the
// server's buffer size. The answer is checked: every segment starts with a
// ctime, and the data is msg. It is valid until the next call.
func (c *Client) Exchange(msg []byte) ([]byte, error) {
	if len(msg) == 0 {
		return nil, errors.New("empty message: a zero-length send carries nothing to answer")
	}
	if !c.nw.stream() {
		return c.exchangeMsg(msg)
	}
	if err := c.c.Sendall(msg, msgNoSignal); err != nil {
		return nil, err
	}
	c.f = framer{want: msg}
	c.buf = c.buf[:0]
	for {
		if cap(c.buf)-len(c.buf) < 4096 {
			c.buf = append(c.buf, make([]byte, 4096+len(msg)+CtimeLen)...)[:len(c.buf)]
		}
		if c.f.maybeDone {
			// The message ends like the start of a stamp: the answer is
			// complete unless more arrives at once (a stamp comes whole
			// in the server's one send with its chunk).
			c.c.SetReadDeadline(time.Now().Add(ambiguityWait))
		}
		n, err := c.c.Recv(c.buf[len(c.buf):cap(c.buf)], 0)
		if c.f.maybeDone {
			c.c.SetReadDeadline(time.Time{})
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return c.buf, nil
			}
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			if len(c.buf) == 0 {
				return nil, ErrClosedByServer
			}
			return nil, fmt.Errorf("%w in the middle of the answer (%d bytes of data out of %d)", ErrClosedByServer, c.f.q, len(msg))
		}
		c.buf = c.buf[:len(c.buf)+n]
		done, err := c.f.feed(c.buf)
		if err != nil {
			return nil, err
		}
		if done {
			return c.buf, nil
		}
	}
}

func (c *Client) exchangeMsg(msg []byte) ([]byte, error) {
	if _, err := c.c.Send(msg, msgNoSignal); err != nil {
		return nil, err
	}
	n, err := c.c.Recv(c.buf, 0)
	if err != nil {
		return nil, err
	}
	if n == 0 && c.nw.sotype == rawsock.SOCK_SEQPACKET {
		return nil, ErrClosedByServer
	}
	r := c.buf[:n]
	if n <= CtimeLen || !IsCtime(r[:CtimeLen]) || !bytes.HasPrefix(msg, r[CtimeLen:]) {
		return nil, fmt.Errorf("answer %q is not ctime followed by the message", r)
	}
	return r, nil
}

// framer re-frames a stream answer, [ctime][chunk][ctime][chunk]..., against
// the data sent: the chunks' bytes, in order, must be want. Where a data
// byte could also start a ctime it looks 24 bytes ahead.
type framer struct {
	want   []byte
	q      int // bytes of want matched
	p      int // bytes of the answer consumed
	chunks int
	// stamped is set after a stamp, until its chunk's first byte: a
	// chunk is never empty.
	stamped bool
	// maybeDone is set when what is left of want has come back but could
	// also be the start of a stamp (the message ends like "...Tue Se"):
	// only more bytes, or their absence, can tell.
	maybeDone bool
}

// feed consumes what it can decide of answer[f.p:] (answer grows between
// calls) and reports whether all of want has come back.
func (f *framer) feed(answer []byte) (done bool, err error) {
	f.maybeDone = false
	for f.p < len(answer) {
		r := answer[f.p:]
		if f.q == len(f.want) {
			return true, fmt.Errorf("%d bytes after the whole answer: %q", len(r), r)
		}
		c := r[0]
		switch {
		case f.chunks > 0 && c == f.want[f.q] && !maybeCtimeStart(c):
			f.p++
			f.q++
			f.stamped = false
			continue
		case f.chunks > 0 && c == f.want[f.q]:
			// Data, or a stamp that starts with the same letter.
			isData := f.stamped // a chunk is never empty
			if !isData && len(r) < CtimeLen {
				if isCtimePrefix(r) {
					rest := f.want[f.q:]
					f.maybeDone = len(r) == len(rest) && bytes.Equal(r, rest)
					return false, nil
				}
				isData = true
			}
			if !isData {
				isData = !IsCtime(r[:CtimeLen]) ||
					len(f.want)-f.q >= CtimeLen && bytes.Equal(r[:CtimeLen], f.want[f.q:f.q+CtimeLen])
			}
			if isData {
				f.p++
				f.q++
				f.stamped = false
				continue
			}
		}
		// A stamp must start here.
		if f.stamped {
			return false, fmt.Errorf("answer differs from the message at data byte %d: got %q, want %q", f.q, r[:1], f.want[f.q:f.q+1])
		}
		if !isCtimePrefix(r[:min(len(r), CtimeLen)]) {
			if f.chunks == 0 {
				return false, fmt.Errorf("answer does not start with a ctime: %q", r[:min(len(r), CtimeLen)])
			}
			return false, fmt.Errorf("answer differs from the message at data byte %d: got %q, want %q", f.q, r[:1], f.want[f.q:f.q+1])
		}
		if len(r) <= CtimeLen {
			return false, nil // a stamp is always followed by its chunk
		}
		f.p += CtimeLen
		f.chunks++
		f.stamped = true
	}
	return f.q == len(f.want), nil
}
