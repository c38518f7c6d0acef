package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"github.com/rawsock/rawsock/rawsock/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

var lo4 = netip.MustParseAddr("127.0.0.1")

// runCmd runs a subcommand in this process and returns its output.
func runCmd(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// udpListener is a UDP socket on 127.0.0.1, port chosen by the kernel.
func udpListener(t *testing.T) (*rawsock.Conn, uint16) {
	t.Helper()
	c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(lo4, 0))); err != nil {
		t.Fatal(err)
	}
	sa, err := c.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	ap, _ := rawsock.AddrPortFromSockaddr(sa)
	return c, ap.Port()
}

func TestSendBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--dst is required"},
		{[]string{"--dst", "::1"}, `want an IPv4 address, got "::1"`},
		{[]string{"--dst", "example"}, `want an IPv4 address, got "example"`},
		{[]string{"--dst", "127.0.0.1", "--ttl", "256"}, `flag -ttl: want a number from 0 to 255, got "256"`},
		{[]string{"--dst", "127.0.0.1", "--id", "-1"}, `flag -id: want a number from 0 to 65535`},
		{[]string{"--dst", "127.0.0.1", "--dport", "65536"}, `flag -dport: want a number from 0 to 65535`},
		{[]string{"--dst", "127.0.0.1", "--proto", "sctp"}, `--proto "sctp": want udp, icmp or tcp`},
		{[]string{"--dst", "127.0.0.1", "--proto", "tcp", "--flags", "SX"}, `--flags "SX"`},
		{[]string{"--dst", "127.0.0.1", "--payload", "a", "--payload-hex", "61"}, "give one of them"},
		{[]string{"--dst", "127.0.0.1", "--payload-hex", "6g"}, `--payload-hex "6g": encoding/hex: invalid byte`},
		{[]string{"--dst", "127.0.0.1", "--payload-hex", "616"}, `--payload-hex "616": encoding/hex: odd length`},
		{[]string{"--dst", "127.0.0.1", "--src", "0.0.0.0", "--proto", "tcp"}, "the TCP checksum covers the source address"},
		{[]string{"--dst", "127.0.0.1", "--payload", strings.Repeat("x", 65535-28+1)}, "an IPv4 total length holds at most 65535"},
		{[]string{"--dst", "127.0.0.1", "extra"}, `unexpected argument "extra"`},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
	} {
		stdout, stderr, code := runCmd(append([]string{"send", "--dry-run"}, tc.args...)...)
		if code != 2 {
			t.Errorf("send %q: exit status %d, want 2", tc.args, code)
		}
		if !strings.HasPrefix(stderr, "rawsock send: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("send %q: stderr %q, want one line containing %q", tc.args, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("send %q: printed %q before failing", tc.args, stdout)
		}
	}
}

func TestSendHelp(t *testing.T) {
	_, stderr, code := runCmd("send", "-h")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	for _, want := range []string{"IP_HDRINCL", "header checksum   always", "total length      always",
		"identification    when 0", "source address    when 0.0.0.0", "setcap cap_net_raw+ep", "-payload-hex"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("usage does not say %q:\n%s", want, stderr)
		}
	}
}

// TestSendBuild checks the built bytes field by field through packet's
// parsers, checksums included, for each protocol.
func TestSendBuild(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	common := []string{"--dst", dst.String(), "--src", src.String(), "--ttl", "7", "--id", "0x1234", "--tos", "0xb8", "--df"}
	for _, tc := range []struct {
		name  string
		args  []string
		proto uint8
		check func(t *testing.T, seg []byte)
	}{
		{"udp", []string{"--proto", "udp", "--sport", "1111", "--dport", "2222", "--payload", "hello"}, packet.ProtoUDP,
			func(t *testing.T, seg []byte) {
				var u packet.UDP
				data, err := u.Parse(seg)
				if err != nil || u.SrcPort != 1111 || u.DstPort != 2222 || string(data) != "hello" || u.Checksum == 0 {
					t.Errorf("UDP %+v data %q: %v", u, data, err)
				}
				if err := packet.VerifyUDPChecksum(src, dst, seg); err != nil {
					t.Error(err)
				}
			}},
		{"tcp", []string{"--proto", "tcp", "--sport", "1111", "--dport", "80", "--flags", "FPU", "--seq", "4000000000", "--ack", "7", "--payload-hex", "de ad:be ef"}, packet.ProtoTCP,
			func(t *testing.T, seg []byte) {
				var h packet.TCP
				data, err := h.Parse(seg)
				if err != nil || h.SrcPort != 1111 || h.DstPort != 80 || h.Flags != packet.TCPFin|packet.TCPPsh|packet.TCPUrg ||
					h.Seq != 4000000000 || h.Ack != 7 || h.Window != sendDefaultWindow || !bytes.Equal(data, []byte{0xde, 0xad, 0xbe, 0xef}) {
					t.Errorf("TCP %+v data %x: %v", h, data, err)
				}
				if err := packet.VerifyTCPChecksum(src, dst, seg); err != nil {
					t.Error(err)
				}
			}},
		{"icmp", []string{"--proto", "icmp", "--icmp-id", "77", "--icmp-seq", "9", "--payload", "ping"}, packet.ProtoICMP,
			func(t *testing.T, seg []byte) {
				var m packet.ICMP
				if err := m.Parse(packet.ProtoICMP, seg); err != nil || !m.IsEchoRequest() || m.ID != 77 || m.Seq != 9 || string(m.Data) != "ping" {
					t.Errorf("ICMP %+v: %v", m, err)
				}
				if err := packet.VerifyICMPChecksum(packet.ProtoICMP, src, dst, seg); err != nil {
					t.Error(err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(append(append([]string{"send", "--dry-run"}, common...), tc.args...)...)
			if code != 0 {
				t.Fatalf("exit status %d: %s", code, stderr)
			}
			s, err := parseSendArgs(append(common, tc.args...), nil)
			if err != nil {
				t.Fatal(err)
			}
			pkt, err := s.build()
			if err != nil {
				t.Fatal(err)
			}
			if want := packet.Dump(pkt, packet.LayerIPv4); !strings.HasPrefix(stdout, want) {
				t.Errorf("output does not start with the packet's dump:\n%s\nwant:\n%s", stdout, want)
			}
			if !strings.Contains(stdout, "the kernel fills in: header checksum, total length\n") || !strings.Contains(stdout, "dry run: ") {
				t.Errorf("output does not say what the kernel fills in, or that nothing was sent:\n%s", stdout)
			}
			var ip packet.IPv4
			seg, err := ip.Parse(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if ip.Src != src || ip.Dst != dst || ip.TTL != 7 || ip.ID != 0x1234 || ip.TOS != 0xb8 || ip.Flags != packet.DontFragment ||
				ip.Protocol != tc.proto || int(ip.TotalLen) != len(pkt) {
				t.Errorf("IPv4 header %+v", ip)
			}
			if err := packet.VerifyIPv4Checksum(pkt); err != nil {
				t.Error(err)
			}
			tc.check(t, seg)
		})
	}
}

// TestSendDefaults: without --src the route's source is used (loopback's
// is 127.0.0.1), and --src 0.0.0.0 with --id 0 leaves both to the kernel,
// which the output says, and UDP then carries no checksum.
func TestSendDefaults(t *testing.T) {
	s, err := parseSendArgs([]string{"--dst", "127.0.0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.src != lo4 || s.ttl != sendDefaultTTL || s.id != 0 || s.proto != packet.ProtoUDP || s.dport != sendDefaultDport || s.flags != packet.TCPSyn {
		t.Errorf("defaults %+v", s)
	}
	stdout, _, code := runCmd("send", "--dry-run", "--dst", "127.0.0.1", "--src", "0.0.0.0")
	if code != 0 || !strings.Contains(stdout, "the kernel fills in: header checksum, total length, identification (0), source address (0.0.0.0)\n") ||
		!strings.Contains(stdout, "checksum 0x0000 (none: allowed over IPv4)") {
		t.Errorf("exit %d, output:\n%s", code, stdout)
	}
}

// TestSendUDPReceived sends UDP datagrams through IP_HDRINCL to an
// ordinary UDP socket on 127.0.0.1: the payload arrives from the source
// port given. A copy with one bit of the UDP checksum flipped does not
// arrive (the kernel verifies checksums of packets a raw socket sent, even
// on lo), so arriving proves the checksum right.
func TestSendUDPReceived(t *testing.T) {
	socktest.NeedRaw(t)
	l, port := udpListener(t)
	l.SetTimeout(2 * time.Second)
	for _, extra := range [][]string{nil, {"--src", "0.0.0.0"}, {"--df", "--id", "999", "--tos", "4"}} {
		payload := "hello " + strconv.Itoa(len(extra))
		args := append([]string{"send", "--dst", "127.0.0.1", "--sport", "4242", "--dport", strconv.Itoa(int(port)), "--payload", payload}, extra...)
		stdout, stderr, code := runCmd(args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		want := "sendto(\\d+, " + strconv.Itoa(28+len(payload)) + ", {AF_INET, 127.0.0.1:0}) = " + strconv.Itoa(28+len(payload))
		mustMatch(t, stdout, `(?m)^`+strings.NewReplacer("(", `\(`, ")", `\)`, "{", `\{`, "}", `\}`, ".", `\.`).Replace(want)+`$`)
		buf := make([]byte, 100)
		n, from, err := l.RecvfromInet(buf, 0)
		if err != nil {
			t.Fatalf("%q: nothing received: %v", args, err)
		}
		if string(buf[:n]) != payload || from != netip.AddrPortFrom(lo4, 4242) {
			t.Errorf("%q: received %q from %v", args, buf[:n], from)
		}
	}

	s, err := parseSendArgs([]string{"--dst", "127.0.0.1", "--dport", strconv.Itoa(int(port)), "--payload", "bad"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := s.build()
	if err != nil {
		t.Fatal(err)
	}
	pkt[packet.IPv4HeaderLen+7] ^= 1
	c, err := openHdrincl()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Sendto(pkt, 0, rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(lo4, 0))); err != nil {
		t.Fatal(err)
	}
	l.SetTimeout(300 * time.Millisecond)
	if n, _, err := l.Recvfrom(make([]byte, 100), 0); err == nil {
		t.Errorf("a datagram with a wrong UDP checksum arrived (%d bytes): the receive test proves nothing", n)
	}
}

// TestSendKernelFills captures what went out on a raw UDP socket: the
// kernel filled in the identification left 0 and the source left 0.0.0.0,
// and the header checksum it computed is right.
func TestSendKernelFills(t *testing.T) {
	socktest.NeedRaw(t)
	capture, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, rawsock.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	// Every UDP datagram of the host comes to this socket: let the kernel
	// keep only ours, or a busy loopback fills its buffer first.
	const sport = 4243
	attachFilter(t, capture, []bpf.Instruction{
		bpf.LoadAbsolute{Off: packet.IPv4HeaderLen, Size: 2}, // UDP source port, after a 20-byte header
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: sport, SkipTrue: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
	_, port := udpListener(t)
	buf := make([]byte, 1500)
	for try := 0; ; try++ {
		// A kernel-chosen ID is 0 once in 65536 sends: try again then.
		_, stderr, code := runCmd("send", "--dst", "127.0.0.1", "--src", "0.0.0.0", "--id", "0", "--sport", strconv.Itoa(sport), "--dport", strconv.Itoa(int(port)), "--payload", "fill")
		if code != 0 {
			t.Fatal(stderr)
		}
		var ip packet.IPv4
		var u packet.UDP
		deadline := time.Now().Add(2 * time.Second)
		for {
			capture.SetReadDeadline(deadline)
			n, _, err := capture.Recvfrom(buf, 0)
			if err != nil {
				t.Fatalf("our datagram was not captured: %v", err)
			}
			seg, err := ip.Parse(buf[:n])
			if err != nil {
				continue
			}
			if _, err := u.Parse(seg); err == nil && u.SrcPort == sport && u.DstPort == port {
				break
			}
		}
		if ip.Src != lo4 {
			t.Errorf("source %v, want the kernel's 127.0.0.1", ip.Src)
		}
		if u.Checksum != 0 {
			t.Errorf("UDP checksum %#04x: with the source left to the kernel none can be right, want 0", u.Checksum)
		}
		if err := packet.VerifyIPv4Checksum(buf); err != nil {
			t.Error(err)
		}
		if ip.ID != 0 || try == 1 {
			if ip.ID == 0 {
				t.Error("the kernel left the identification 0 twice")
			}
			return
		}
	}
}

// TestSendAnswered sends what the kernel answers: a TCP SYN to a listening
// port (SYN-ACK) and an ICMP echo request (echo reply). An answer proves
// the checksums right: the kernel drops a segment whose checksum is wrong.
func TestSendAnswered(t *testing.T) {
	socktest.NeedRaw(t)
	if echoIgnored() {
		t.Skip("net.ipv4.icmp_echo_ignore_all is set: this kernel answers no echo request")
	}
	l, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(rawsock.SockaddrFromAddrPort(netip.AddrPortFrom(lo4, 0))); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	sa, _ := l.Getsockname()
	lport, _ := rawsock.AddrPortFromSockaddr(sa)
	const sport, icmpID = 4244, 0xbeef
	for _, tc := range []struct {
		name   string
		args   []string
		proto  int
		filter []bpf.Instruction // passes only the answer
		check  func(seg []byte) error
	}{
		{"tcp SYN", []string{"--proto", "tcp", "--flags", "S", "--seq", "1000", "--sport", strconv.Itoa(sport), "--dport", strconv.Itoa(int(lport.Port()))},
			rawsock.IPPROTO_TCP,
			[]bpf.Instruction{
				bpf.LoadAbsolute{Off: packet.IPv4HeaderLen + 2, Size: 2}, // TCP destination port
				bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: sport, SkipTrue: 1},
				bpf.RetConstant{Val: 0xffff},
				bpf.RetConstant{Val: 0},
			},
			func(seg []byte) error {
				var h packet.TCP
				if _, err := h.Parse(seg); err != nil {
					return err
				}
				if h.Flags != packet.TCPSyn|packet.TCPAck || h.Ack != 1001 || h.SrcPort != lport.Port() {
					return errors.New("not the SYN-ACK to our SYN: " + h.Flags.String() + " ack " + strconv.Itoa(int(h.Ack)))
				}
				return nil
			}},
		{"icmp echo", []string{"--proto", "icmp", "--icmp-id", strconv.Itoa(icmpID), "--icmp-seq", "5", "--payload", "are you there"},
			rawsock.IPPROTO_ICMP,
			[]bpf.Instruction{
				bpf.LoadAbsolute{Off: packet.IPv4HeaderLen, Size: 1}, // ICMP type
				bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: packet.ICMPv4EchoReply, SkipTrue: 3},
				bpf.LoadAbsolute{Off: packet.IPv4HeaderLen + 4, Size: 2}, // echo identifier
				bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: icmpID, SkipTrue: 1},
				bpf.RetConstant{Val: 0xffff},
				bpf.RetConstant{Val: 0},
			},
			func(seg []byte) error {
				var m packet.ICMP
				if err := m.Parse(packet.ProtoICMP, seg); err != nil {
					return err
				}
				if !m.IsEchoReply() || m.Seq != 5 || string(m.Data) != "are you there" {
					return errors.New("not the reply to our request")
				}
				return nil
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_RAW, tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			attachFilter(t, c, tc.filter)
			if _, stderr, code := runCmd(append([]string{"send", "--dst", "127.0.0.1"}, tc.args...)...); code != 0 {
				t.Fatal(stderr)
			}
			c.SetTimeout(2 * time.Second)
			buf := make([]byte, 1500)
			n, _, err := c.Recvfrom(buf, 0)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			var ip packet.IPv4
			seg, err := ip.Parse(buf[:n])
			if err == nil {
				err = tc.check(seg)
			}
			if err != nil {
				t.Errorf("%v:\n%s", err, packet.Dump(buf[:n], packet.LayerIPv4))
			}
		})
	}
}

// TestSendNoPrivilege: without CAP_NET_RAW the error is the one line with
// the privilege hint, exit 2. As root it runs the command as uid 65534.
func TestSendNoPrivilege(t *testing.T) {
	stdout, stderr, code := runWithoutRaw(t, "send", "--dst", "127.0.0.1", "--payload", "x")
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	// The privilege is checked before the dump is printed (it was
	// printed first, then the socket refused).
	if stdout != "" {
		t.Errorf("printed before failing:\n%s", stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "rawsock send: socket(AF_INET, SOCK_RAW, IPPROTO_RAW): operation not permitted") ||
		!strings.Contains(stderr, "need CAP_NET_RAW: run as root, or grant it with `sudo setcap cap_net_raw+ep ") {
		t.Errorf("stderr %q: want one line with the privilege hint", stderr)
	}
}

// attachFilter sets a classic BPF program on c (SO_ATTACH_FILTER, socket(7))
// and drains what was queued before it.
func attachFilter(t *testing.T, c *rawsock.Conn, prog []bpf.Instruction) {
	t.Helper()
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	fprog := unix.SockFprog{Len: uint16(len(raw)), Filter: (*unix.SockFilter)(unsafe.Pointer(&raw[0]))}
	err = c.SetsockoptBytes(unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, unsafe.Slice((*byte)(unsafe.Pointer(&fprog)), unsafe.Sizeof(fprog)))
	runtime.KeepAlive(raw)
	if err != nil {
		t.Fatal(err)
	}
	c.SetBlocking(false)
	for buf := make([]byte, 1<<16); ; {
		if _, err := c.Recv(buf, 0); err != nil {
			break
		}
	}
	c.SetBlocking(true)
}

// TestSendICMPFields: the 4 ICMP header bytes after the checksum follow
// the type, as the flags set them; a flag for a field the type lacks is
// refused; the dump names each field by the type. Before, every type got
// the echo identifier and sequence, and a "fragmentation needed" was dumped
// with "length 106 (RFC 4884)" and "next-hop MTU 1".
func TestSendICMPFields(t *testing.T) {
	base := []string{"--dry-run", "--dst", "192.0.2.1", "--src", "192.0.2.2", "--proto", "icmp"}
	for _, tc := range []struct {
		name string
		args []string
		rest string // header bytes 4-7, hex
		dump []string
	}{
		{"echo", []string{"--icmp-id", "0x1234", "--icmp-seq", "5"}, "12340005", []string{"identifier 0x1234 (4660)", "sequence number 5"}},
		{"frag needed", []string{"--icmp-type", "3", "--icmp-code", "4", "--mtu", "1400"}, "00000578",
			[]string{"unused", "length 0 (no RFC 4884 extensions)", "next-hop MTU 1400 (RFC 1191)"}},
		{"frag needed, defaults", []string{"--icmp-type", "3", "--icmp-code", "4"}, "00000000", []string{"next-hop MTU 0"}},
		{"port unreachable, RFC 4884", []string{"--icmp-type", "3", "--icmp-code", "3", "--icmp-length", "7"}, "00070000", []string{"length 7 (RFC 4884"}},
		{"time exceeded", []string{"--icmp-type", "11"}, "00000000", []string{"length 0", "unused"}},
		{"parameter problem", []string{"--icmp-type", "12", "--pointer", "9", "--icmp-length", "2"}, "09020000", []string{"pointer 9", "length 2"}},
		{"redirect", []string{"--icmp-type", "5", "--gateway", "192.0.2.254"}, "c00002fe", []string{"gateway 192.0.2.254"}},
		{"timestamp", []string{"--icmp-type", "13", "--icmp-id", "1", "--icmp-seq", "2"}, "00010002",
			[]string{"originate timestamp", "receive timestamp 0 (00:00:00.000 UT)", "transmit timestamp 0 (00:00:00.000 UT)"}},
		{"unknown type", []string{"--icmp-type", "42"}, "00000000", []string{"rest of header 0x00000000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSendArgs(append(base, tc.args...), nil)
			if err != nil {
				t.Fatal(err)
			}
			pkt, err := s.build()
			if err != nil {
				t.Fatal(err)
			}
			var m packet.ICMP
			if err := m.Parse(packet.ProtoICMP, pkt[packet.IPv4HeaderLen:]); err != nil && !m.IsError() {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%08x", uint32(m.ID)<<16|uint32(m.Seq)); got != tc.rest {
				t.Errorf("header bytes 4-7 %s, want %s", got, tc.rest)
			}
			if err := packet.VerifyICMPChecksum(packet.ProtoICMP, netip.Addr{}, netip.Addr{}, pkt[packet.IPv4HeaderLen:]); err != nil {
				t.Error(err)
			}
			stdout, stderr, code := runCmd(append([]string{"send"}, append(base, tc.args...)...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.dump {
				if !strings.Contains(stdout, w) {
					t.Errorf("dump lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--icmp-type", "3", "--icmp-id", "7"}, "--icmp-id: ICMP type 3 code 0 has no identifier field"},
		{[]string{"--icmp-type", "3", "--icmp-code", "3", "--mtu", "1400"}, "--mtu: ICMP type 3 code 3 has no MTU field"},
		{[]string{"--icmp-type", "11", "--pointer", "1"}, "--pointer: ICMP type 11 code 0 has no pointer field"},
		{[]string{"--gateway", "192.0.2.9"}, "--gateway: ICMP type 8 code 0 has no gateway field"},
		{[]string{"--icmp-type", "8", "--icmp-length", "2"}, "--icmp-length: ICMP type 8 code 0"},
	} {
		_, stderr, code := runCmd(append([]string{"send"}, append(base, tc.args...)...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	_, stderr, code := runCmd("send", "--dry-run", "--dst", "192.0.2.1", "--mtu", "1400")
	if code != 2 || !strings.Contains(stderr, "--mtu is an ICMP header field: give --proto icmp") {
		t.Errorf("--mtu on UDP: exit %d, %q", code, stderr)
	}
}

// TestSendQuiet: -q prints no dump, only the outcome.
func TestSendQuiet(t *testing.T) {
	stdout, stderr, code := runCmd("send", "-q", "--dry-run", "--dst", "192.0.2.1", "--src", "192.0.2.2", "--payload", "hi")
	if code != 0 || stdout != "dry run: 30 bytes not sent\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want only the dry run line", code, stdout, stderr)
	}
}

// TestSendOverMTU: a packet over the MTU of the route's interface (a veth
// of MTU 1500, in a network namespace of its own) is refused
// before anything is printed, exit 1, as sendto(2) would refuse it
// (EMSGSIZE) after the dump before.
func TestSendOverMTU(t *testing.T) {
	socktest.NeedRaw(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("no ip(8) to make an interface: %v", err)
	}
	type result struct {
		stdout, stderr string
		code           int
	}
	var big, fits result
	errc := make(chan error, 1)
	go func() {
		// The thread enters a namespace of its own and is never unlocked:
		// it ends with this goroutine. ip(8) forks from it, inside.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("skip: unshare(CLONE_NEWNET): %v", err)
			return
		}
		for _, args := range [][]string{{"link", "add", "v0", "mtu", "1500", "type", "veth", "peer", "name", "v1"},
			{"link", "set", "v1", "up"}, {"link", "set", "v0", "up"}, {"addr", "add", "192.0.2.1/24", "dev", "v0"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				errc <- fmt.Errorf("ip %v: %v: %s", args, err, out)
				return
			}
		}
		big.stdout, big.stderr, big.code = runCmd("send", "--dst", "192.0.2.2", "--payload", strings.Repeat("x", 1500))
		fits.stdout, fits.stderr, fits.code = runCmd("send", "-q", "--dst", "192.0.2.2", "--payload", strings.Repeat("x", 1500-28))
		errc <- nil
	}()
	if err := <-errc; err != nil {
		if strings.HasPrefix(err.Error(), "skip: ") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if big.code != 1 || big.stdout != "" || !strings.Contains(big.stderr, "packet of 1528 bytes: over the MTU 1500 of the route to 192.0.2.2") {
		t.Errorf("1528 bytes: exit %d, stdout %q, stderr %q", big.code, big.stdout, big.stderr)
	}
	if fits.code != 0 || !strings.HasPrefix(fits.stdout, "sendto(") {
		t.Errorf("1500 bytes: exit %d, stdout %q, stderr %q", fits.code, fits.stdout, fits.stderr)
	}
}
