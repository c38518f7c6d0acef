package rawsock_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestSockoptInt sets and reads back int options at each level, and reads
// the read-only ones.
func TestSockoptInt(t *testing.T) {
	s, c := socktest.TCPPair(t, rawsock.AF_INET)
	l, _ := socktest.Listener(t, rawsock.AF_INET)
	type optCase struct {
		c          *rawsock.Conn
		level, opt int
		set, want  int
	}
	cases := []optCase{
		{c, rawsock.SOL_SOCKET, rawsock.SO_REUSEADDR, 1, 1},
		{c, rawsock.SOL_SOCKET, rawsock.SO_KEEPALIVE, 1, 1},
		{c, rawsock.SOL_SOCKET, rawsock.SO_RCVBUF, 65536, 131072}, // socket(7): the kernel doubles it
		{c, rawsock.SOL_TCP, rawsock.TCP_NODELAY, 1, 1},
		{c, rawsock.SOL_TCP, rawsock.TCP_KEEPIDLE, 77, 77},
		{c, rawsock.SOL_IP, rawsock.IP_TTL, 42, 42},
		{c, rawsock.SOL_IP, rawsock.IP_TOS, 0x10, 0x10},
	}
	if socktest.IPv6Err() == nil {
		v6 := socktest.MustSocket(t, rawsock.AF_INET6, rawsock.SOCK_DGRAM, 0)
		cases = append(cases,
			optCase{v6, rawsock.SOL_IPV6, rawsock.IPV6_V6ONLY, 1, 1},
			optCase{v6, rawsock.SOL_IPV6, rawsock.IPV6_UNICAST_HOPS, 5, 5})
	}
	for _, tc := range cases {
		name := rawsock.LevelName(tc.level) + "/" + rawsock.OptName(tc.level, tc.opt)
		if err := tc.c.SetsockoptInt(tc.level, tc.opt, tc.set); err != nil {
			t.Errorf("set %s: %v", name, err)
			continue
		}
		if v, err := tc.c.GetsockoptInt(tc.level, tc.opt); err != nil || v != tc.want {
			t.Errorf("%s: %d, %v; want %d", name, v, err, tc.want)
		}
	}
	for _, tc := range []struct {
		c          *rawsock.Conn
		level, opt int
		want       int
	}{
		{s, rawsock.SOL_SOCKET, rawsock.SO_TYPE, rawsock.SOCK_STREAM},
		{s, rawsock.SOL_SOCKET, rawsock.SO_DOMAIN, rawsock.AF_INET},
		{s, rawsock.SOL_SOCKET, rawsock.SO_PROTOCOL, rawsock.IPPROTO_TCP},
		{s, rawsock.SOL_SOCKET, rawsock.SO_ERROR, 0},
		{s, rawsock.SOL_SOCKET, rawsock.SO_ACCEPTCONN, 0},
		{l, rawsock.SOL_SOCKET, rawsock.SO_ACCEPTCONN, 1},
	} {
		if v, err := tc.c.GetsockoptInt(tc.level, tc.opt); err != nil || v != tc.want {
			t.Errorf("%s: %d, %v; want %d", rawsock.OptName(tc.level, tc.opt), v, err, tc.want)
		}
	}
	err := c.SetsockoptInt(rawsock.SOL_SOCKET, 9999, 1)
	if !errors.Is(err, unix.ENOPROTOOPT) || err.Error() != "setsockopt: protocol not available" {
		t.Errorf("unknown option: %v", err)
	}
	if _, err := c.GetsockoptInt(rawsock.SOL_TCP, 9999); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Errorf("unknown TCP option: %v", err)
	}
}

// TestSockoptBytes covers the byte-slice forms with options that are
// structs, and the Linger and Timeval helpers.
func TestSockoptBytes(t *testing.T) {
	_, c := socktest.TCPPair(t, rawsock.AF_INET)
	// struct linger {int l_onoff; int l_linger;}
	in := make([]byte, 8)
	binary.NativeEndian.PutUint32(in[0:], 1)
	binary.NativeEndian.PutUint32(in[4:], 5)
	if err := c.SetsockoptBytes(rawsock.SOL_SOCKET, rawsock.SO_LINGER, in); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	n, err := c.GetsockoptBytes(rawsock.SOL_SOCKET, rawsock.SO_LINGER, out)
	if err != nil || n != 8 || string(out[:8]) != string(in) {
		t.Errorf("SO_LINGER: % x (%d bytes), %v; want % x", out[:n], n, err, in)
	}
	if err := c.SetsockoptLinger(true, 0); err != nil {
		t.Fatal(err)
	}
	c.GetsockoptBytes(rawsock.SOL_SOCKET, rawsock.SO_LINGER, out)
	if binary.NativeEndian.Uint32(out) != 1 || binary.NativeEndian.Uint32(out[4:]) != 0 {
		t.Errorf("after SetsockoptLinger(true, 0): % x", out[:8])
	}
	if err := c.SetsockoptTimeval(rawsock.SOL_SOCKET, rawsock.SO_RCVTIMEO, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	n, err = c.GetsockoptBytes(rawsock.SOL_SOCKET, rawsock.SO_RCVTIMEO, out)
	if err != nil || n != 16 || binary.NativeEndian.Uint64(out) != 1 || binary.NativeEndian.Uint64(out[8:]) != 500000 {
		t.Errorf("SO_RCVTIMEO: % x, %v; want 1s 500000us", out[:n], err)
	}
	// struct tcp_info: its first byte is the state, TCP_ESTABLISHED (1).
	info := make([]byte, 256)
	if n, err := c.GetsockoptBytes(rawsock.SOL_TCP, rawsock.TCP_INFO, info); err != nil || n < 8 || info[0] != 1 {
		t.Errorf("TCP_INFO: %d bytes, state %d, %v", n, info[0], err)
	}
	if err := c.SetsockoptBytes(rawsock.SOL_SOCKET, rawsock.SO_LINGER, in[:2]); !errors.Is(err, unix.EINVAL) {
		t.Errorf("a 2-byte struct linger: %v, want EINVAL", err)
	}
	if _, err := c.GetsockoptBytes(rawsock.SOL_SOCKET, 9999, out); !errors.Is(err, unix.ENOPROTOOPT) {
		t.Errorf("unknown option: %v", err)
	}
}
