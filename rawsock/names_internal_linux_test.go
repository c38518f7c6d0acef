package rawsock

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The names the trace prints for epoll and control messages, pinned: they
// come from the generated tables, in the order the tables give.
func TestTraceNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{epollEventsString(unix.EPOLLIN), "EPOLLIN"},
		{epollEventsString(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLET), "EPOLLIN|EPOLLOUT|EPOLLET"},
		{epollEventsString(unix.EPOLLONESHOT | unix.EPOLLHUP | unix.EPOLLPRI), "EPOLLPRI|EPOLLHUP|EPOLLONESHOT"},
		{epollEventsString(unix.EPOLLONESHOT | unix.EPOLLET | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLPRI | unix.EPOLLRDHUP | unix.EPOLLOUT | unix.EPOLLIN),
			"EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI|EPOLLERR|EPOLLHUP|EPOLLET|EPOLLONESHOT"},
		{epollEventsString(unix.EPOLLIN | unix.EPOLLRDNORM), "EPOLLIN|0x00000040"},
		{epollEventsString(0), "0x00000000"},
		{epollOpName(unix.EPOLL_CTL_ADD), "EPOLL_CTL_ADD"},
		{epollOpName(unix.EPOLL_CTL_MOD), "EPOLL_CTL_MOD"},
		{epollOpName(unix.EPOLL_CTL_DEL), "EPOLL_CTL_DEL"},
		{epollOpName(9), "9"},
		{cmsgTypeName(unix.SOL_SOCKET, unix.SCM_RIGHTS), "SCM_RIGHTS"},
		{cmsgTypeName(unix.SOL_SOCKET, unix.SCM_CREDENTIALS), "SCM_CREDENTIALS"},
		{cmsgTypeName(unix.SOL_SOCKET, unix.SO_TIMESTAMPNS), "SO_TIMESTAMPNS"},
		{cmsgTypeName(unix.SOL_IP, unix.IP_TTL), "IP_TTL"},
		{MsgFlagsString(unix.MSG_PEEK | unix.MSG_DONTWAIT | unix.MSG_CMSG_CLOEXEC), "MSG_DONTWAIT|MSG_PEEK|MSG_CMSG_CLOEXEC"},
		{OptName(unix.SOL_IPV6, unix.IPV6_RECVPKTINFO), "IPV6_RECVPKTINFO"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
