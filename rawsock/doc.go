// Package rawsock maps the BSD socket calls onto Go one call to one syscall:
// socket(2), bind(2), listen(2), accept4(2), connect(2), recvfrom(2),
// sendto(2), recvmsg(2), sendmsg(2), recvmmsg(2), sendmmsg(2), sendfile(2),
// setsockopt(2), getsockopt(2), shutdown(2) and close(2), each a method of
// *Conn named after the syscall it makes.
//
// A porter of C or Python socket code writes the same lines:
//
//	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
//	addr, err := rawsock.InetAddr("", 9999)
//	err = s.Bind(addr)
//	err = s.Listen(5)
//	c, from, err := s.Accept()
//	n, err := c.Recv(buf, 0)
//
// Every socket is opened with SOCK_CLOEXEC|SOCK_NONBLOCK and registered with
// the Go runtime poller, as the standard library's net package does, so a
// blocked call parks its goroutine, not an OS thread. Blocking semantics are
// Python's: without a timeout a call waits; with SetTimeout(d) each call fails
// after d with an error matching os.ErrDeadlineExceeded; after
// SetBlocking(false) a call that would block returns at once with an error
// matching unix.EAGAIN. Close from any goroutine wakes every call blocked on
// the socket with an error matching net.ErrClosed.
//
// Errors are *os.SyscallError values naming the syscall, so
// errors.Is(err, unix.EADDRINUSE) holds and the text reads
// "bind: address already in use".
//
// # Tracing
//
// SetTrace, or RAWSOCK_TRACE=1 in the environment, prints one strace-like
// line per syscall the package makes, with flags and addresses decoded, and a
// line each time a call finds its socket not ready and parks on the runtime
// poller. Tracing off costs one atomic load per call.
//
// # Privileges
//
// SOCK_RAW sockets (raw(7)) and AF_PACKET sockets (packet(7)) need
// CAP_NET_RAW: run as root, or grant the binary the capability with
// "setcap cap_net_raw+ep BINARY". Unprivileged ICMP echo is possible with
// socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) when the process's group is inside
// the net.ipv4.ping_group_range sysctl (icmp(7)).
//
// # Your own event loop
//
// A socket driven by your own Epoll (or Poll, or Select) is the same
// non-blocking fd the runtime poller watches; the two registrations coexist,
// since both are level- or edge-notified independently. Put the socket in
// non-blocking mode with SetBlocking(false), call its methods only when your
// loop reports it ready, and treat an error matching unix.EAGAIN as "wait for
// the next event", exactly as in C.
//
// Read socket(2), socket(7), ip(7), ipv6(7), tcp(7), udp(7), unix(7), raw(7),
// packet(7) and icmp(7) for what each call and option does.
//
// The package is Linux-first: on other systems it builds, and each call
// returns an error saying it is not implemented there.
package rawsock

//go:generate go run ./internal/mkconsts
