package rawsock_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// listenCase is one kind of listening socket for the bind, listen, accept,
// connect and name rows.
type listenCase struct {
	name   string
	family int
	typ    int
	addr   func(t *testing.T) unix.Sockaddr
}

func listenCases() []listenCase {
	return []listenCase{
		{"tcp4", rawsock.AF_INET, rawsock.SOCK_STREAM, func(t *testing.T) unix.Sockaddr { return socktest.Loopback(t, rawsock.AF_INET) }},
		{"tcp6", rawsock.AF_INET6, rawsock.SOCK_STREAM, func(t *testing.T) unix.Sockaddr {
			socktest.SkipIfNoIPv6(t)
			return socktest.Loopback(t, rawsock.AF_INET6)
		}},
		{"unix path", rawsock.AF_UNIX, rawsock.SOCK_STREAM, func(t *testing.T) unix.Sockaddr {
			return rawsock.UnixAddr(filepath.Join(t.TempDir(), "s"))
		}},
		{"unix abstract", rawsock.AF_UNIX, rawsock.SOCK_STREAM, func(t *testing.T) unix.Sockaddr {
			return rawsock.UnixAddr("@rawsock-test-" + t.Name() + "-" + time.Now().Format("150405.000000000"))
		}},
		{"unix seqpacket", rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, func(t *testing.T) unix.Sockaddr {
			return rawsock.UnixAddr(filepath.Join(t.TempDir(), "p"))
		}},
	}
}

// TestBindListenAcceptConnect covers Bind, Listen, Accept, Connect,
// Getsockname and Getpeername on each kind of stream listener: the names
// both ends report must agree.
func TestBindListenAcceptConnect(t *testing.T) {
	for _, tc := range listenCases() {
		t.Run(tc.name, func(t *testing.T) {
			l := socktest.MustSocket(t, tc.family, tc.typ, 0)
			if err := l.Bind(tc.addr(t)); err != nil {
				t.Fatal(err)
			}
			if err := l.Listen(5); err != nil {
				t.Fatal(err)
			}
			la, err := l.Getsockname()
			if err != nil {
				t.Fatal(err)
			}
			if ap, ok := rawsock.AddrPortFromSockaddr(la); ok && ap.Port() == 0 {
				t.Fatalf("bound to port 0, getsockname still says %v", ap)
			}
			c := socktest.MustSocket(t, tc.family, tc.typ, 0)
			if err := c.Connect(la); err != nil {
				t.Fatal(err)
			}
			s, from, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Family() != tc.family || s.Type() != tc.typ {
				t.Errorf("accepted socket is %d/%d, want %d/%d", s.Family(), s.Type(), tc.family, tc.typ)
			}
			cname, _ := c.Getsockname()
			cpeer, _ := c.Getpeername()
			sname, _ := s.Getsockname()
			speer, err := s.Getpeername()
			if err != nil {
				t.Fatal(err)
			}
			eq := func(what string, a, b unix.Sockaddr) {
				if rawsock.AddrString(a) != rawsock.AddrString(b) {
					t.Errorf("%s: %s != %s", what, rawsock.AddrString(a), rawsock.AddrString(b))
				}
			}
			eq("accept's address vs client's getsockname", from, cname)
			eq("client's getpeername vs listener's getsockname", cpeer, la)
			eq("server's getsockname vs listener's", sname, la)
			eq("server's getpeername vs accept's address", speer, from)
			if _, err := l.Getpeername(); !errors.Is(err, unix.ENOTCONN) {
				t.Errorf("getpeername of a listener: %v, want ENOTCONN", err)
			}
		})
	}
}

// pairCase is one kind of connected pair for the data rows.
type pairCase struct {
	name     string
	stream   bool // byte stream, not datagrams
	named    bool // recvfrom reports the sender
	make     func(t *testing.T) (a, b *rawsock.Conn)
	sendAddr func(t *testing.T, b *rawsock.Conn) unix.Sockaddr // where Sendto reaches b
}

func pairCases() []pairCase {
	peerName := func(t *testing.T, b *rawsock.Conn) unix.Sockaddr {
		sa, err := b.Getsockname()
		if err != nil {
			t.Fatal(err)
		}
		return sa
	}
	return []pairCase{
		{"tcp4", true, false, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.TCPPair(t, rawsock.AF_INET) }, nil},
		{"tcp6", true, false, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.TCPPair(t, rawsock.AF_INET6) }, nil},
		{"udp4", false, true, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.UDPPair(t, rawsock.AF_INET) }, peerName},
		{"udp6", false, true, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.UDPPair(t, rawsock.AF_INET6) }, peerName},
		{"unix stream", true, false, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.Pair(t, rawsock.SOCK_STREAM) }, nil},
		{"unix dgram", false, false, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.Pair(t, rawsock.SOCK_DGRAM) }, nil},
		{"unix seqpacket", false, false, func(t *testing.T) (a, b *rawsock.Conn) { return socktest.Pair(t, rawsock.SOCK_SEQPACKET) }, nil},
	}
}

// TestSendRecv covers Send, Recv, Recvfrom, Sendto, Sendmsg and Recvmsg on
// each kind of pair.
func TestSendRecv(t *testing.T) {
	for _, tc := range pairCases() {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.make(t)
			buf := make([]byte, 1024)

			if n, err := a.Send([]byte("send"), 0); err != nil || n != 4 {
				t.Fatalf("Send: %d, %v", n, err)
			}
			if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "send" {
				t.Fatalf("Recv: %q, %v", buf[:max(n, 0)], err)
			}

			if _, err := b.Send([]byte("back"), 0); err != nil {
				t.Fatal(err)
			}
			n, from, err := a.Recvfrom(buf, 0)
			if err != nil || string(buf[:n]) != "back" {
				t.Fatalf("Recvfrom: %q, %v", buf[:n], err)
			}
			if tc.named {
				bn, _ := b.Getsockname()
				if rawsock.AddrString(from) != rawsock.AddrString(bn) {
					t.Errorf("Recvfrom says the sender is %s, want %s", rawsock.AddrString(from), rawsock.AddrString(bn))
				}
			} else if from != nil {
				t.Errorf("Recvfrom on %s gave address %s, want none", tc.name, rawsock.AddrString(from))
			}

			if tc.sendAddr != nil {
				if _, err := a.Sendto([]byte("sendto"), 0, tc.sendAddr(t, b)); err != nil {
					t.Fatal(err)
				}
				if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "sendto" {
					t.Fatalf("after Sendto: %q, %v", buf[:n], err)
				}
			}
			if _, err := a.Sendto([]byte("x"), 0, nil); !errors.Is(err, unix.EDESTADDRREQ) {
				t.Errorf("Sendto(nil address): %v, want EDESTADDRREQ", err)
			}

			if n, err := a.Sendmsg([]byte("msg"), nil, nil, 0); err != nil || n != 3 {
				t.Fatalf("Sendmsg: %d, %v", n, err)
			}
			n, oobn, flags, _, err := b.Recvmsg(buf, make([]byte, 64), 0)
			if err != nil || string(buf[:n]) != "msg" || oobn != 0 || flags != 0 {
				t.Fatalf("Recvmsg: %q, oobn %d, flags %s, %v", buf[:n], oobn, rawsock.MsgFlagsString(flags), err)
			}

			// MSG_PEEK leaves the data queued.
			a.Send([]byte("peek"), 0)
			if n, err := b.Recv(buf, unix.MSG_PEEK); err != nil || string(buf[:n]) != "peek" {
				t.Fatalf("Recv(MSG_PEEK): %q, %v", buf[:n], err)
			}
			if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != "peek" {
				t.Fatalf("Recv after peek: %q, %v", buf[:n], err)
			}
		})
	}
}

// TestDatagramTruncation: a datagram longer than the buffer is cut, and
// Recvmsg reports MSG_TRUNC; with the MSG_TRUNC flag Recv returns the real
// length.
func TestDatagramTruncation(t *testing.T) {
	for _, tc := range pairCases() {
		if tc.stream {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.make(t)
			small := make([]byte, 3)
			a.Send([]byte("truncated"), 0)
			n, _, flags, _, err := b.Recvmsg(small, nil, 0)
			if err != nil || n != 3 || string(small) != "tru" || flags&unix.MSG_TRUNC == 0 {
				t.Errorf("Recvmsg into 3 bytes: n %d %q flags %s, %v; want 3 \"tru\" MSG_TRUNC", n, small, rawsock.MsgFlagsString(flags), err)
			}
			if flags&unix.MSG_CMSG_CLOEXEC != 0 {
				t.Errorf("Recvmsg reports MSG_CMSG_CLOEXEC, a flag the caller did not pass: %s", rawsock.MsgFlagsString(flags))
			}
			a.Send([]byte("truncated"), 0)
			if n, err := b.Recv(small, unix.MSG_TRUNC); err != nil || n != 9 {
				t.Errorf("Recv(MSG_TRUNC) into 3 bytes: %d, %v; want the real length 9", n, err)
			}
		})
	}
}

// TestSeqpacketBoundaries: two sends arrive as two messages on
// SOCK_SEQPACKET, and run together on SOCK_STREAM.
func TestSeqpacketBoundaries(t *testing.T) {
	a, b := socktest.Pair(t, rawsock.SOCK_SEQPACKET)
	a.Send([]byte("one"), 0)
	a.Send([]byte("two"), 0)
	buf := make([]byte, 100)
	for _, want := range []string{"one", "two"} {
		if n, err := b.Recv(buf, 0); err != nil || string(buf[:n]) != want {
			t.Errorf("seqpacket: %q, %v; want %q", buf[:n], err, want)
		}
	}
	s1, s2 := socktest.Pair(t, rawsock.SOCK_STREAM)
	s1.Send([]byte("one"), 0)
	s1.Send([]byte("two"), 0)
	if n, err := s2.Recv(buf, 0); err != nil || string(buf[:n]) != "onetwo" {
		t.Errorf("stream: %q, %v; want the two sends run together", buf[:n], err)
	}
}

// TestSendall sends a buffer many times the send buffer to a slow reader:
// Sendall must finish every partial write, in order.
func TestSendall(t *testing.T) {
	for _, fam := range []int{rawsock.AF_INET, rawsock.AF_UNIX} {
		t.Run(rawsock.FamilyName(fam), func(t *testing.T) {
			var s, c *rawsock.Conn
			if fam == rawsock.AF_UNIX {
				s, c = socktest.Pair(t, rawsock.SOCK_STREAM)
			} else {
				s, c = socktest.TCPPair(t, fam)
			}
			// A tiny send buffer makes every sendto short. (A tiny
			// receive buffer too would make TCP crawl on delayed ACKs, in
			// net's conns as in ours.)
			c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_SNDBUF, 4096)
			data := pattern(1 << 20)
			var got bytes.Buffer
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 16<<10)
				for i := 0; ; i++ {
					n, err := s.Recv(buf, 0)
					if err != nil || n == 0 {
						return
					}
					got.Write(buf[:n])
					if i%16 == 0 {
						time.Sleep(time.Millisecond) // a slow reader
					}
				}
			}()
			c.SetTimeout(30 * time.Second) // a hang fails, not blocks, the test
			if err := c.Sendall(data, 0); err != nil {
				t.Fatal(err)
			}
			c.Shutdown(rawsock.SHUT_WR)
			wg.Wait()
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("received %d bytes, want the %d sent, in order", got.Len(), len(data))
			}
		})
	}
}

// TestSendallPartialWrites proves, from the trace, that Sendall met short
// writes and finished them.
func TestSendallPartialWrites(t *testing.T) {
	s, c := socktest.Pair(t, rawsock.SOCK_STREAM)
	c.SetsockoptInt(rawsock.SOL_SOCKET, rawsock.SO_SNDBUF, 4096)
	data := pattern(1 << 20)
	done := make(chan int)
	go func() {
		buf := make([]byte, 64<<10)
		total := 0
		for {
			n, err := s.Recv(buf, 0)
			if err != nil || n == 0 {
				done <- total
				return
			}
			total += n
		}
	}()
	w := startTrace(t)
	if err := c.Sendall(data, 0); err != nil {
		t.Fatal(err)
	}
	rawsock.SetTrace(nil)
	c.Shutdown(rawsock.SHUT_WR)
	if total := <-done; total != len(data) {
		t.Fatalf("received %d of %d bytes", total, len(data))
	}
	short := 0
	for _, l := range w.Lines() {
		var fd, asked, got int
		if _, err := fmt.Sscanf(l, "sendto(%d, %d) = %d", &fd, &asked, &got); err == nil && fd == c.Fileno() && got < asked {
			short++
		}
	}
	if short == 0 {
		t.Errorf("no short sendto in the trace: the partial-write path was not exercised")
	}
}

// TestShutdown: after SHUT_WR the peer sees the end of the stream, Recv
// returning (0, nil) and Read io.EOF, and can still send back.
func TestShutdown(t *testing.T) {
	for _, tc := range pairCases() {
		if !tc.stream {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.make(t)
			a.Send([]byte("last"), 0)
			if err := a.Shutdown(rawsock.SHUT_WR); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(b)
			if err != nil || string(got) != "last" {
				t.Fatalf("ReadAll: %q, %v", got, err)
			}
			buf := make([]byte, 10)
			if n, err := b.Recv(buf, 0); n != 0 || err != nil {
				t.Errorf("Recv at the end of the stream: %d, %v; want 0, nil", n, err)
			}
			if n, err := b.Read(buf); n != 0 || err != io.EOF {
				t.Errorf("Read at the end of the stream: %d, %v; want 0, io.EOF", n, err)
			}
			if _, err := b.Send([]byte("reply"), 0); err != nil {
				t.Fatal(err)
			}
			if n, err := a.Recv(buf, 0); err != nil || string(buf[:n]) != "reply" {
				t.Errorf("half-closed side could not read: %q, %v", buf[:n], err)
			}
			if _, err := a.Send([]byte("x"), unix.MSG_NOSIGNAL); !errors.Is(err, unix.EPIPE) {
				t.Errorf("Send after SHUT_WR: %v, want EPIPE", err)
			}
			if err := a.Shutdown(99); !errors.Is(err, unix.EINVAL) {
				t.Errorf("Shutdown(99): %v, want EINVAL", err)
			}
		})
	}
}

// TestReadWriteCloser drives a Conn through io's functions.
func TestReadWriteCloser(t *testing.T) {
	a, b := socktest.TCPPair(t, rawsock.AF_INET)
	var rwc io.ReadWriteCloser = a
	data := pattern(300 << 10)
	go func() {
		rwc.Write(data)
		rwc.Close()
	}()
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll: %d bytes, %v; want %d", len(got), err, len(data))
	}
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after the end: %v, want io.EOF", err)
	}
	if n, err := b.Read(nil); n != 0 || err != nil {
		// recv of 0 bytes is 0, nil: not the end of the stream.
		t.Errorf("Read(nil): %d, %v", n, err)
	}
}

// TestSendfile covers count, offset, count 0 (to the end of the file), and
// the file position left after the bytes sent.
func TestSendfile(t *testing.T) {
	data := pattern(200 << 10)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		offset        int64
		count, wantN  int
		wantPos       int64
		wantFrom, end int
	}{
		{"count", 0, 1000, 1000, 1000, 0, 1000},
		{"offset and count", 12345, 5000, 5000, 17345, 12345, 17345},
		{"count 0 is to EOF", 100, 0, len(data) - 100, int64(len(data)), 100, len(data)},
		{"count past EOF", int64(len(data)) - 10, 1000, 10, int64(len(data)), len(data) - 10, len(data)},
		{"offset at EOF", int64(len(data)), 0, 0, int64(len(data)), 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := socktest.TCPPair(t, rawsock.AF_INET)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			done := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(s)
				done <- b
			}()
			n, err := c.Sendfile(f, tc.offset, tc.count)
			if err != nil || n != tc.wantN {
				t.Fatalf("Sendfile: %d, %v; want %d", n, err, tc.wantN)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != tc.wantPos {
				t.Errorf("file position %d, want %d", pos, tc.wantPos)
			}
			c.Shutdown(rawsock.SHUT_WR)
			if got := <-done; !bytes.Equal(got, data[tc.wantFrom:tc.end]) {
				t.Errorf("peer got %d bytes, want bytes %d..%d of the file", len(got), tc.wantFrom, tc.end)
			}
		})
	}
	t.Run("bad arguments", func(t *testing.T) {
		_, c := socktest.TCPPair(t, rawsock.AF_INET)
		if _, err := c.Sendfile(nil, 0, 0); !errors.Is(err, unix.EBADF) {
			t.Errorf("nil file: %v", err)
		}
		f, _ := os.Open(path)
		defer f.Close()
		if _, err := c.Sendfile(f, -1, 0); !errors.Is(err, unix.EINVAL) {
			t.Errorf("negative offset: %v", err)
		}
	})
}

// TestSharedSockaddr: goroutines may bind and connect with one shared
// Sockaddr value, as a server's clients do with its address (go test -race
// catches an encoder that writes into the value).
func TestSharedSockaddr(t *testing.T) {
	l, la := socktest.Listener(t, rawsock.AF_INET)
	wild := socktest.Loopback(t, rawsock.AF_INET)
	abstract := rawsock.UnixAddr("\x00rawsock-shared-" + time.Now().Format("150405.000000000"))
	u := socktest.MustSocket(t, rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
	if err := u.Bind(abstract); err != nil {
		t.Fatal(err)
	}
	if got, _ := u.Getsockname(); rawsock.AddrString(got) != "@"+abstract.(*unix.SockaddrUnix).Name[1:] {
		t.Errorf("bound to %q, want the abstract name given with a leading NUL", rawsock.AddrString(got))
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			errs <- c.Bind(wild)
			errs <- c.Connect(la)
			d, err := rawsock.Socket(rawsock.AF_UNIX, rawsock.SOCK_DGRAM, 0)
			if err == nil {
				err = d.Connect(abstract)
				d.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < n; i++ {
		s, _, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestSendallEmpty: Sendall of nothing still makes its one sendto, as
// Python's does: on a datagram socket, an empty datagram.
func TestSendallEmpty(t *testing.T) {
	a, b := socktest.UDPPair(t, rawsock.AF_INET)
	if err := a.Sendall(nil, 0); err != nil {
		t.Fatal(err)
	}
	b.SetTimeout(slack)
	if n, err := b.Recv(make([]byte, 8), 0); n != 0 || err != nil {
		t.Errorf("Recv of the empty datagram: %d, %v", n, err)
	}
}
