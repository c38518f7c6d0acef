// Package echo is the tutorial's timestamp echo protocol on package rawsock:
// a server that answers each recv(2) with ctime(3) (24 bytes, local time,
// without the newline) followed by the bytes received, and a client that
// sends a message and reads the whole answer.
//
// As in the tutorial's Python server, the answer is per recv, not per
// message: the server reads at most BufSize bytes at a time, so a message
// longer than that (or one the kernel delivers in pieces) comes back as
// several [ctime][chunk] segments. On datagram and SOCK_SEQPACKET sockets a
// recv is one message, and bytes past BufSize are cut off, as recvfrom(2)
// does.
//
// The server runs on every socket the tutorial names: tcp, tcp6, udp, udp6,
// and on AF_UNIX paths unix (SOCK_STREAM), unixpacket (SOCK_SEQPACKET) and
// unixgram (SOCK_DGRAM). It has two engines over the same protocol: a
// goroutine per connection on the runtime poller (the default), and one
// single-threaded epoll(7) event loop, the C idiom, on rawsock.Epoll.
//
// Limits: MaxConns connections at once (more wait in the listen backlog),
// an idle timeout, and a write timeout that bounds what a client that sends
// but never reads can cost: the server holds at most one answer per
// connection and drops the connection when the answer cannot be sent in
// time. Shutdown stops accepting, answers what each client has already
// sent, half-closes, and closes.
package echo
