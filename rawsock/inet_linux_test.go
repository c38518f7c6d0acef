package rawsock_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestInetFastForms covers RecvfromInet and SendtoInet: IPv4, IPv6, and
// IPv4 through an AF_INET6 socket (v4-mapped), both ways.
func TestInetFastForms(t *testing.T) {
	dual := func(t *testing.T) *rawsock.Conn {
		socktest.SkipIfNoIPv6(t)
		c := socktest.MustSocket(t, rawsock.AF_INET6, rawsock.SOCK_DGRAM, 0)
		if err := c.SetsockoptInt(rawsock.SOL_IPV6, rawsock.IPV6_V6ONLY, 0); err != nil {
			t.Fatal(err)
		}
		sa, _ := rawsock.Inet6Addr("", 0) // in6addr_any takes IPv4 too
		if err := c.Bind(sa); err != nil {
			t.Fatal(err)
		}
		return c
	}
	v4 := func(t *testing.T) *rawsock.Conn { return socktest.BoundUDP(t, rawsock.AF_INET) }
	v6 := func(t *testing.T) *rawsock.Conn { return socktest.BoundUDP(t, rawsock.AF_INET6) }
	loop4 := netip.MustParseAddr("127.0.0.1")
	cases := []struct {
		name       string
		from, to   func(t *testing.T) *rawsock.Conn
		dst        netip.Addr // address the sender uses
		wantSource func(a netip.Addr) bool
	}{
		{"v4 to v4", v4, v4, loop4, func(a netip.Addr) bool { return a == loop4 }},
		{"v6 to v6", v6, v6, netip.IPv6Loopback(), func(a netip.Addr) bool { return a == netip.IPv6Loopback() }},
		// The AF_INET6 receiver sees the IPv4 sender v4-mapped.
		{"v4 to dual-stack v6", v4, dual, loop4, func(a netip.Addr) bool { return a.Is4In6() && a.Unmap() == loop4 }},
		// An AF_INET6 sender given a plain IPv4 address sends v4-mapped.
		{"dual-stack v6 to v4", dual, v4, loop4, func(a netip.Addr) bool { return a == loop4 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.from(t), tc.to(t)
			bsa, _ := b.Getsockname()
			bp, _ := rawsock.AddrPortFromSockaddr(bsa)
			to := netip.AddrPortFrom(tc.dst, bp.Port())
			if _, err := a.SendtoInet([]byte("fast"), 0, to); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16)
			n, from, err := b.RecvfromInet(buf, 0)
			if err != nil || string(buf[:n]) != "fast" {
				t.Fatalf("RecvfromInet: %q, %v", buf[:n], err)
			}
			asa, _ := a.Getsockname()
			ap, _ := rawsock.AddrPortFromSockaddr(asa)
			if !tc.wantSource(from.Addr()) || from.Port() != ap.Port() {
				t.Errorf("source %v (sender bound to %v)", from, ap)
			}
			// And back to the address RecvfromInet gave.
			if _, err := b.SendtoInet([]byte("back"), 0, from); err != nil {
				t.Fatal(err)
			}
			if n, _, err := a.RecvfromInet(buf, 0); err != nil || string(buf[:n]) != "back" {
				t.Errorf("reply: %q, %v", buf[:n], err)
			}
		})
	}

	c := socktest.BoundUDP(t, rawsock.AF_INET)
	if _, err := c.SendtoInet([]byte("x"), 0, netip.MustParseAddrPort("[::1]:9")); !errors.Is(err, unix.EAFNOSUPPORT) {
		t.Errorf("IPv6 destination on an AF_INET socket: %v, want EAFNOSUPPORT", err)
	}
	if _, err := c.SendtoInet([]byte("x"), 0, netip.AddrPort{}); !errors.Is(err, unix.EDESTADDRREQ) {
		t.Errorf("zero destination: %v, want EDESTADDRREQ", err)
	}
	// On a socket that is not IP, RecvfromInet reports no address.
	p, q := socktest.Pair(t, rawsock.SOCK_DGRAM)
	p.Send([]byte("u"), 0)
	if n, from, err := q.RecvfromInet(make([]byte, 4), 0); err != nil || n != 1 || from.IsValid() {
		t.Errorf("RecvfromInet on AF_UNIX: %d, %v, %v", n, from, err)
	}
}

// TestAddressHelpers covers the one-call addresses Python writes as
// tuples, and the conversions.
func TestAddressHelpers(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"", 9999, "0.0.0.0:9999"},
		{"127.0.0.1", 9999, "127.0.0.1:9999"},
		{"<broadcast>", 7, "255.255.255.255:7"},
	} {
		sa, err := rawsock.InetAddr(tc.host, tc.port)
		if err != nil || rawsock.AddrString(sa) != tc.want {
			t.Errorf("InetAddr(%q, %d) = %s, %v; want %s", tc.host, tc.port, rawsock.AddrString(sa), err, tc.want)
		}
	}
	if sa, err := rawsock.InetAddr("localhost", 80); err != nil {
		t.Logf("localhost does not resolve here: %v", err)
	} else if rawsock.AddrString(sa) != "127.0.0.1:80" {
		t.Errorf("InetAddr(localhost) = %s", rawsock.AddrString(sa))
	}
	for _, bad := range []struct {
		host string
		port int
	}{{"::1", 1}, {"127.0.0.1", 65536}, {"127.0.0.1", -1}} {
		if _, err := rawsock.InetAddr(bad.host, bad.port); err == nil {
			t.Errorf("InetAddr(%q, %d) accepted", bad.host, bad.port)
		}
	}
	for _, tc := range []struct {
		host, want string
	}{{"", "[::]:80"}, {"::1", "[::1]:80"}, {"fe80::1%1", "[fe80::1%1]:80"}} {
		sa, err := rawsock.Inet6Addr(tc.host, 80)
		if err != nil || rawsock.AddrString(sa) != tc.want {
			t.Errorf("Inet6Addr(%q) = %s, %v; want %s", tc.host, rawsock.AddrString(sa), err, tc.want)
		}
	}
	if _, err := rawsock.Inet6Addr("127.0.0.1", 80); err == nil {
		t.Error("Inet6Addr of an IPv4 address accepted")
	}
	for _, tc := range []struct{ path, want string }{{"/tmp/s", "/tmp/s"}, {"@abstract", "@abstract"}} {
		if got := rawsock.AddrString(rawsock.UnixAddr(tc.path)); got != tc.want {
			t.Errorf("UnixAddr(%q) prints %q", tc.path, got)
		}
	}
	ap := netip.MustParseAddrPort("[2001:db8::1]:53")
	back, ok := rawsock.AddrPortFromSockaddr(rawsock.SockaddrFromAddrPort(ap))
	if !ok || back != ap {
		t.Errorf("round trip of %v gave %v", ap, back)
	}
	if _, ok := rawsock.AddrPortFromSockaddr(rawsock.UnixAddr("/x")); ok {
		t.Error("AddrPortFromSockaddr of a unix address succeeded")
	}
}

// TestGetaddrinfo: the answers are ready for Socket and Connect, as
// Python's getaddrinfo tuples are.
func TestGetaddrinfo(t *testing.T) {
	_, la := socktest.Listener(t, rawsock.AF_INET)
	port := itoaPort(t, la)
	ais, err := rawsock.Getaddrinfo("127.0.0.1", port, rawsock.AF_INET, rawsock.SOCK_STREAM, 0, 0)
	if err != nil || len(ais) != 1 {
		t.Fatalf("Getaddrinfo: %v, %v", ais, err)
	}
	ai := ais[0]
	if ai.Family != rawsock.AF_INET || ai.Type != rawsock.SOCK_STREAM || ai.Proto != rawsock.IPPROTO_TCP {
		t.Errorf("answer %+v", ai)
	}
	c, err := rawsock.Socket(ai.Family, ai.Type, ai.Proto)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(ai.Addr); err != nil {
		t.Fatalf("Connect to the answer: %v", err)
	}

	ais, err = rawsock.Getaddrinfo("", "9999", 0, rawsock.SOCK_STREAM, 0, rawsock.AI_PASSIVE)
	if err != nil || len(ais) != 2 || rawsock.AddrString(ais[0].Addr) != "[::]:9999" || rawsock.AddrString(ais[1].Addr) != "0.0.0.0:9999" {
		t.Errorf("passive wildcard: %v, %v", ais, err)
	}
	ais, err = rawsock.Getaddrinfo("", "http", rawsock.AF_INET, 0, 0, 0)
	if err != nil || len(ais) != 3 {
		t.Fatalf("all types: %v, %v", ais, err)
	}
	for i, want := range [][2]int{{rawsock.SOCK_STREAM, rawsock.IPPROTO_TCP}, {rawsock.SOCK_DGRAM, rawsock.IPPROTO_UDP}, {rawsock.SOCK_RAW, 0}} {
		if ais[i].Type != want[0] || ais[i].Proto != want[1] || rawsock.AddrString(ais[i].Addr) != "127.0.0.1:80" {
			t.Errorf("answer %d: %+v %s", i, ais[i], rawsock.AddrString(ais[i].Addr))
		}
	}
	for _, bad := range []struct{ host, port string }{{"not-a-number", "80"}, {"127.0.0.1", "99999"}, {"127.0.0.1", "no-such-service-xyz"}} {
		if _, err := rawsock.Getaddrinfo(bad.host, bad.port, 0, 0, 0, rawsock.AI_NUMERICHOST); err == nil {
			t.Errorf("Getaddrinfo(%q, %q) succeeded", bad.host, bad.port)
		}
	}
	if _, err := rawsock.Getaddrinfo("::1", "1", rawsock.AF_INET, 0, 0, 0); err == nil {
		t.Error("an IPv6 host with family AF_INET succeeded")
	}
}

func itoaPort(t *testing.T, sa unix.Sockaddr) string {
	ap, ok := rawsock.AddrPortFromSockaddr(sa)
	if !ok {
		t.Fatalf("%v has no port", sa)
	}
	return strconv.Itoa(int(ap.Port()))
}

// TestInetPtonNtop: text to network-order bytes and back, as the C calls.
func TestInetPtonNtop(t *testing.T) {
	for _, tc := range []struct {
		family int
		text   string
		bytes  []byte
	}{
		{rawsock.AF_INET, "192.0.2.1", []byte{192, 0, 2, 1}},
		{rawsock.AF_INET6, "2001:db8::1", []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}},
		{rawsock.AF_INET6, "::ffff:10.0.0.1", []byte{10: 0xff, 11: 0xff, 12: 10, 15: 1}},
	} {
		b, err := rawsock.InetPton(tc.family, tc.text)
		if err != nil || !bytes.Equal(b, tc.bytes) {
			t.Errorf("InetPton(%s, %q) = % x, %v", rawsock.FamilyName(tc.family), tc.text, b, err)
		}
		s, err := rawsock.InetNtop(tc.family, tc.bytes)
		if err != nil || s != tc.text {
			t.Errorf("InetNtop(% x) = %q, %v", tc.bytes, s, err)
		}
	}
	for _, bad := range []struct {
		family int
		text   string
	}{{rawsock.AF_INET, "::1"}, {rawsock.AF_INET6, "10.0.0.1"}, {rawsock.AF_INET, "300.1.1.1"}, {rawsock.AF_INET, "fe80::1%eth0"}, {rawsock.AF_UNIX, "1.2.3.4"}} {
		if _, err := rawsock.InetPton(bad.family, bad.text); err == nil {
			t.Errorf("InetPton(%s, %q) accepted", rawsock.FamilyName(bad.family), bad.text)
		}
	}
	if _, err := rawsock.InetNtop(rawsock.AF_INET, []byte{1, 2, 3}); err == nil {
		t.Error("InetNtop of 3 bytes accepted")
	}
	if _, err := rawsock.InetNtop(rawsock.AF_UNIX, []byte{1, 2, 3, 4}); !errors.Is(err, unix.EAFNOSUPPORT) {
		t.Errorf("InetNtop(AF_UNIX): %v", err)
	}
}

// TestByteOrder: Htons puts the high byte first in memory, as the wire
// wants it, on this machine whatever its order.
func TestByteOrder(t *testing.T) {
	var b [4]byte
	put16 := func(v uint16) []byte { binary.NativeEndian.PutUint16(b[:], v); return b[:2] }
	put32 := func(v uint32) []byte { binary.NativeEndian.PutUint32(b[:], v); return b[:4] }
	if got := put16(rawsock.Htons(0x1234)); got[0] != 0x12 || got[1] != 0x34 {
		t.Errorf("Htons(0x1234) lies in memory as % x", got)
	}
	if got := put32(rawsock.Htonl(0x01020304)); !bytes.Equal(got, []byte{1, 2, 3, 4}) {
		t.Errorf("Htonl(0x01020304) lies in memory as % x", got)
	}
	if rawsock.Ntohs(rawsock.Htons(9999)) != 9999 || rawsock.Ntohl(rawsock.Htonl(0xdeadbeef)) != 0xdeadbeef {
		t.Error("Ntoh does not undo Hton")
	}
}
