package tour

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// ctimeLayout is C's ctime(3) without its newline, "Tue Sep 13 19:11:20
// 2016": Go calls it ANSIC.
const ctimeLayout = time.ANSIC

// bufsiz is the tutorial's BUFSIZ.
const bufsiz = 1024

// ctimeReply is the tutorial server's answer: ctime() followed by the data.
func ctimeReply(data []byte) []byte {
	return append([]byte(time.Now().Format(ctimeLayout)), data...)
}

// recvAll calls recv until want bytes have come or the peer shuts down: a
// stream may deliver one send in several pieces.
func recvAll(c *rawsock.Conn, want int) ([]byte, error) {
	buf := make([]byte, 0, bufsiz)
	for len(buf) < want {
		n, err := c.Recv(buf[len(buf):cap(buf)], 0)
		if err != nil {
			return buf, err
		}
		if n == 0 {
			return buf, fmt.Errorf("peer closed after %d of %d bytes", len(buf), want)
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}

// loopback4 is ('127.0.0.1', 0). A fresh one each time: x/sys/unix writes
// into a Sockaddr while it encodes it.
func loopback4() unix.Sockaddr { return &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}} }

var stepTCP = tourStep{
	title: "TCP: the tutorial's timestamp exchange",
	about: `The tutorial's server answers each message with ctime() followed by the
message. One goroutine plays both programs, so each Python line is followed
by the syscall it makes, in order. The sockets are non-blocking underneath:
a call that finds nothing to do parks its goroutine on the runtime poller.`,
	trace: true,
	run: func(s *stepRun) error {
		s.say("server", "tcpSerSock = socket(AF_INET, SOCK_STREAM)")
		srv, err := s.socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		s.say("server", "tcpSerSock.bind(('127.0.0.1', 0)); tcpSerSock.getsockname()    port 0: the kernel picks one")
		if err := srv.Bind(loopback4()); err != nil {
			return err
		}
		addr, err := srv.Getsockname()
		if err != nil {
			return err
		}
		s.say("server", "tcpSerSock.listen(5)")
		if err := srv.Listen(5); err != nil {
			return err
		}

		s.say("client", "tcpCliSock = socket(AF_INET, SOCK_STREAM)")
		cli, err := s.socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		s.say("client", "tcpCliSock.connect(('127.0.0.1', %d))    the handshake completes in the kernel", addrPort(addr))
		if err := cli.Connect(addr); err != nil {
			return err
		}
		s.say("server", "tcpCliSock, addr = tcpSerSock.accept()    takes the connection from the listen queue")
		conn, peer, err := srv.Accept()
		if err != nil {
			return err
		}
		s.track(conn)
		s.result("...connected from: %s", rawsock.AddrString(peer))

		msg := []byte("hello")
		s.say("client", "tcpCliSock.send(b'hello')")
		if err := cli.Sendall(msg, 0); err != nil {
			return err
		}
		s.say("server", "data = tcpCliSock.recv(BUFSIZ)")
		data, err := recvAll(conn, len(msg))
		if err != nil {
			return err
		}
		s.say("server", "tcpCliSock.send(bytes(ctime(), 'utf-8') + data)")
		if err := conn.Sendall(ctimeReply(data), 0); err != nil {
			return err
		}
		s.say("client", "data = tcpCliSock.recv(BUFSIZ)")
		reply, err := recvAll(cli, len(ctimeLayout)+len(msg))
		if err != nil {
			return err
		}
		s.result("client got %q (%d bytes: ctime()'s 24, then the %d it sent)", reply, len(reply), len(msg))

		s.say("client", "tcpCliSock.close()")
		if err := cli.Close(); err != nil {
			return err
		}
		s.say("server", "data = tcpCliSock.recv(BUFSIZ)    0 bytes: the client left")
		n, err := conn.Recv(make([]byte, bufsiz), 0)
		if err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("recv after the client's close: %d bytes, want 0", n)
		}
		s.say("server", "tcpCliSock.close(); tcpSerSock.close()")
		if err := conn.Close(); err != nil {
			return err
		}
		return srv.Close()
	},
}

func addrPort(sa unix.Sockaddr) int {
	ap, _ := rawsock.AddrPortFromSockaddr(sa)
	return int(ap.Port())
}

var stepUDP = tourStep{
	title: "UDP: the same exchange in datagrams",
	about: `No listen, no accept, no connection: every datagram carries its address.
recvfrom(2) tells the server who sent it; sendto(2) answers there.`,
	trace: true,
	run: func(s *stepRun) error {
		s.say("server", "udpSerSock = socket(AF_INET, SOCK_DGRAM)")
		srv, err := s.socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		s.say("server", "udpSerSock.bind(('127.0.0.1', 0)); udpSerSock.getsockname()")
		if err := srv.Bind(loopback4()); err != nil {
			return err
		}
		addr, err := srv.Getsockname()
		if err != nil {
			return err
		}

		s.say("client", "udpCliSock = socket(AF_INET, SOCK_DGRAM)")
		cli, err := s.socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		msg := []byte("hello udp")
		s.say("client", "udpCliSock.sendto(b'hello udp', ('127.0.0.1', %d))    the kernel binds the client to a port", addrPort(addr))
		if _, err := cli.Sendto(msg, 0, addr); err != nil {
			return err
		}
		s.say("server", "data, addr = udpSerSock.recvfrom(BUFSIZ)")
		buf := make([]byte, bufsiz)
		n, from, err := srv.Recvfrom(buf, 0)
		if err != nil {
			return err
		}
		s.result("server got %q from %s", buf[:n], rawsock.AddrString(from))
		s.say("server", "udpSerSock.sendto(bytes(ctime(), 'utf-8') + data, addr)")
		if _, err := srv.Sendto(ctimeReply(buf[:n]), 0, from); err != nil {
			return err
		}
		s.say("client", "data, addr = udpCliSock.recvfrom(BUFSIZ)")
		n, from, err = cli.Recvfrom(buf, 0)
		if err != nil {
			return err
		}
		s.result("client got %q from %s", buf[:n], rawsock.AddrString(from))
		s.say("both", "udpCliSock.close(); udpSerSock.close()")
		cli.Close()
		return srv.Close()
	},
}

var stepSeqpacket = tourStep{
	title: "AF_UNIX SOCK_SEQPACKET: message boundaries kept",
	about: `A SOCK_SEQPACKET socket is connected and reliable like a stream, but each
send is one message and each recv returns at most one: two sends arrive as
two messages. A SOCK_STREAM socket keeps no boundaries: the same two sends
may come back from one recv, run together. The address is a path.`,
	trace: true,
	run: func(s *stepRun) error {
		dir, err := os.MkdirTemp("", "rawsock-tour-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "seqpacket.sock")

		s.say("server", "srv = socket(AF_UNIX, SOCK_SEQPACKET)")
		srv, err := s.socket(rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, 0)
		if err != nil {
			return err
		}
		s.say("server", "srv.bind(%q); srv.listen(5)    bind creates the socket file", path)
		if err := srv.Bind(rawsock.UnixAddr(path)); err != nil {
			return err
		}
		if err := srv.Listen(5); err != nil {
			return err
		}
		s.say("client", "cli = socket(AF_UNIX, SOCK_SEQPACKET); cli.connect(%q)", path)
		cli, err := s.socket(rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET, 0)
		if err != nil {
			return err
		}
		if err := cli.Connect(rawsock.UnixAddr(path)); err != nil {
			return err
		}
		s.say("server", "conn, _ = srv.accept()")
		conn, _, err := srv.Accept()
		if err != nil {
			return err
		}
		s.track(conn)

		msgs := []string{"first", "second"}
		s.say("client", "cli.send(b'first'); cli.send(b'second')")
		for _, m := range msgs {
			if _, err := cli.Send([]byte(m), 0); err != nil {
				return err
			}
		}
		buf := make([]byte, bufsiz)
		s.say("server", "conn.recv(BUFSIZ); conn.recv(BUFSIZ)    one message each")
		for i := range msgs {
			n, err := conn.Recv(buf, 0)
			if err != nil {
				return err
			}
			s.result("SOCK_SEQPACKET recv %d: %q", i+1, buf[:n])
		}

		s.say("client", "cli.send(b'a longer message')")
		if _, err := cli.Send([]byte("a longer message"), 0); err != nil {
			return err
		}
		s.say("server", "conn.recvmsg(8)    a buffer shorter than the message")
		n, _, flags, _, err := conn.Recvmsg(buf[:8], nil, 0)
		if err != nil {
			return err
		}
		s.result("SOCK_SEQPACKET recvmsg got %q with %s: the rest of that message is discarded", buf[:n], rawsock.MsgFlagsString(flags))
		s.say("both", "cli.close(); conn.close(); srv.close()")
		cli.Close()
		conn.Close()
		srv.Close()

		s.say("both", "a, b = socketpair(AF_UNIX, SOCK_STREAM)    the contrast: a stream")
		a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		s.track(a)
		s.track(b)
		s.say("a", "a.send(b'first'); a.send(b'second')")
		for _, m := range msgs {
			if _, err := a.Send([]byte(m), 0); err != nil {
				return err
			}
		}
		s.say("b", "b.recv(BUFSIZ) until 11 bytes have come")
		got, recvs := 0, 0
		for got < len("firstsecond") {
			n, err := b.Recv(buf[got:], 0)
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("stream closed after %d bytes", got)
			}
			got += n
			recvs++
		}
		s.result("SOCK_STREAM: 2 sends, %d recv: %q", recvs, buf[:got])
		s.say("both", "a.close(); b.close()")
		a.Close()
		return b.Close()
	},
}

var stepSCMRights = tourStep{
	title: "socketpair and SCM_RIGHTS: passing an open fd",
	about: `sendmsg(2) can carry ancillary data: an SCM_RIGHTS message holds fds, and
the kernel installs copies of them in the receiver (unix(7)). Here the fd is
the read end of a pipe, which has no name: the fd is the only way to it.`,
	trace: true,
	run: func(s *stepRun) error {
		s.say("both", "a, b = socketpair(AF_UNIX, SOCK_STREAM)")
		a, b, err := rawsock.Socketpair(rawsock.AF_UNIX, rawsock.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		s.track(a)
		s.track(b)

		// The pipe is the tour's own, made with x/sys/unix: these calls
		// are not rawsock's, so the trace does not show them.
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			return os.NewSyscallError("pipe2", err)
		}
		r, w := os.NewFile(uintptr(p[0]), "pipe (read end)"), os.NewFile(uintptr(p[1]), "pipe (write end)")
		s.track(r)
		s.track(w)
		text := "this was written into a pipe; its read end went through the socket"
		if _, err := w.WriteString(text); err != nil {
			return err
		}
		w.Close()
		s.say("tour", "pipe2() = [%d, %d]; wrote %d bytes into fd %d and closed it (not traced: not a socket)", p[0], p[1], len(text), p[1])

		s.say("a", "a.sendmsg([b'fd'], [(SOL_SOCKET, SCM_RIGHTS, [%d])])", p[0])
		if _, err := a.Sendmsg([]byte("fd"), rawsock.UnixRights(p[0]), nil, 0); err != nil {
			return err
		}
		s.say("b", "msg, ancdata, flags, addr = b.recvmsg(BUFSIZ, CMSG_SPACE(4))")
		buf := make([]byte, bufsiz)
		oob := make([]byte, rawsock.CmsgSpace(4))
		n, oobn, _, _, err := b.Recvmsg(buf, oob, 0)
		if err != nil {
			return err
		}
		cmsgs, err := rawsock.ParseControlMessages(oob[:oobn])
		if err != nil {
			return err
		}
		var fds []int
		for _, m := range cmsgs {
			if got, err := m.Rights(); err == nil {
				fds = append(fds, got...)
			}
		}
		// Own every received fd before anything can fail.
		files := make([]*os.File, len(fds))
		for i, fd := range fds {
			files[i] = os.NewFile(uintptr(fd), "received pipe")
			s.track(files[i])
		}
		if len(fds) != 1 {
			return fmt.Errorf("recvmsg: %q with %v, want one fd in SCM_RIGHTS", buf[:n], cmsgs)
		}
		s.result("b got %q and %v: fd %d, the kernel's copy of fd %d", buf[:n], cmsgs, fds[0], p[0])
		s.say("a", "os.close(%d)    the sender's copy goes; the pipe stays open through fd %d", p[0], fds[0])
		r.Close()

		s.say("b", "os.read(%d, BUFSIZ) until EOF    reads the pipe through the received fd", fds[0])
		f := files[0]
		f.SetReadDeadline(time.Now().Add(s.opts.CallTimeout))
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		s.result("read %q", data)
		s.say("both", "a.close(); b.close()")
		a.Close()
		return b.Close()
	},
}
