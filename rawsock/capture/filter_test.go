package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

var updateGoldens = flag.Bool("update", false, "rewrite testdata/filter/goldens.txt with tcpdump -dd")

const (
	goldenFile  = "testdata/filter/goldens.txt"
	emptyPcap   = "testdata/filter/empty-ether.pcap"
	goldenSnap  = 262144
	goldenTitle = "== "
)

// goldenExprs are the expressions whose programs must equal tcpdump's,
// instruction for instruction: every primitive, the src/dst variants, IPv4
// and IPv6 hosts and nets, and combinations with and/or/not/parentheses
// (including the equal precedence of "and" and "or").
var goldenExprs = []string{
	"",
	"icmp",
	"icmp6",
	"udp",
	"tcp",
	"arp",
	"ip",
	"ip6",
	"host 127.0.0.1",
	"src host 10.0.0.1",
	"dst host 192.168.1.1",
	"host ::1",
	"src host fe80::1",
	"dst host 2001:db8::42",
	"ip host 1.2.3.4",
	"arp host 1.2.3.4",
	"ip6 host ::1",
	"src 1.2.3.4",
	"dst 1.2.3.4",
	"src ::1",
	"src or dst host 1.2.3.4",
	"src and dst host 1.2.3.4",
	"host 10.1",
	"port 53",
	"src port 53",
	"dst port 8080",
	"tcp port 80",
	"udp port 53",
	"tcp src port 22",
	"udp dst port 0",
	"port 65535",
	"src or dst port 443",
	"src and dst port 443",
	"net 10.0.0.0/8",
	"src net 192.168.0.0/16",
	"dst net 172.16.0.0/12",
	"net 10",
	"net 10.1",
	"net 0.0.0.0/0",
	"net 1.2.3.4/32",
	"ip net 10.0.0.0/8",
	"net fe80::/10",
	"net 2001:db8::/32",
	"src net 2001:db8:1::/48",
	"dst net ::/0",
	"net 2001:db8::/64",
	"net ::1/128",
	"ip6 net fe80::/64",
	"not tcp",
	"! udp",
	"not not tcp",
	"tcp or udp",
	"tcp || udp",
	"icmp or icmp6",
	"tcp and port 80",
	"tcp && port 80",
	"udp and not port 53",
	"ip and not icmp",
	"ip6 and not tcp",
	"arp or icmp",
	"tcp or udp and port 53",
	"udp or tcp and port 53",
	"icmp or tcp and port 22",
	"tcp and (port 80 or port 443)",
	"(tcp or udp) and port 53",
	"not (tcp or udp)",
	"not (host 1.2.3.4 or host 5.6.7.8)",
	"host 1.2.3.4 and port 80",
	"host 1.2.3.4 and not port 22",
	"host 1.2.3.4 or host 5.6.7.8",
	"host 1.2.3.4 or 5.6.7.8",
	"host 1.2.3.4 and not 5.6.7.8",
	"host 1.2.3.4 and (5.6.7.8 or 9.9.9.9)",
	"port 80 or 53",
	"port 80 or port 443 or port 8080",
	"src host 10.0.0.1 and dst port 53",
	"src host ::1 and dst host ::2",
	"host ::1 or host 127.0.0.1",
	"ip6 and udp and port 53",
	"icmp6 or (udp and dst port 547)",
	"tcp and src port 1024 and dst port 80",
	"arp or (ip and host 10.0.0.1)",
	"(icmp) or (arp)",
	"not arp and not ip6",
	"ip and (tcp or udp) and not port 22",
	"tcp port 80 and not src net 10.0.0.0/8",
	"net 192.168.0.0/24 and not host 192.168.0.1",
	"udp and (src port 67 or src port 68) and (dst port 67 or dst port 68)",
	"icmp and host 127.0.0.1",
	"not icmp and host 127.0.0.1",
	"tcp and not (port 22 or port 80) and net 10.0.0.0/8",
	"ip6 and (net fe80::/10 or host ::1)",
	"port 53 and (udp or tcp)",
	"udp or icmp or arp or icmp6",
	"not (tcp and port 80) or (udp and not port 53)",
	"(host 1.2.3.4 and port 80) or (host 5.6.7.8 and port 443)",
	"not ((tcp or udp) and (port 53 or port 80)) and ip",
	"ip6 net 2001:db8:abcd:12::/63 or ip6 net 2001:db8::/29",
	"src net 10.0.0.0/8 and dst net 10.0.0.0/8 and not port 22",
	"src and dst net 10.0.0.0/8",
	"src or dst net ::/64",
	"(arp or ip) and not (arp and host 1.2.3.4)",
	"icmp or not icmp",
	"host 1.2.3.4 and host 1.2.3.4",
	"port 1 or port 2 or port 3 or port 4 or port 5 or port 6",
	"tcp and port 80 and port 80",
	"not not not not ip",
	"ip6 or ip or arp",
	"host 1.2.3.4 and not (5.6.7.8 or not 9.9.9.9)",
	"(tcp or udp or icmp) and (host 10.0.0.1 or host 10.0.0.2) and not (port 22 or port 23)",
	"icmp6 and src host fe80::1 and dst host ff02::1",
	"udp and dst port 53 and not src net 192.168.0.0/16 or tcp and dst port 80",
	"host 255.255.255.255 or host 0.0.0.0",
	"dst net 224.0.0.0/4",
	"net ::ffff:0:0/96",
	"host ::ffff:1.2.3.4",
	"udp src port 53 or tcp dst port 53",
	"tcp dst port 80 and tcp src port 80",
	// Qualifiers inherited, and the forms tcpdump accepts for them.
	"src or dst 1.2.3.4",
	"dst and src host ::1",
	"ip6 src net 2001:db8::/32",
	"arp src host 1.2.3.4",
	"udp dst port 53 or 5353",
	"port (80 or 443)",
	"port (80 or not 443)",
	"host (1.2.3.4 and 5.6.7.8)",
	"src host 1.2.3.4 or dst 5.6.7.8",
	"ip6 host ::1 or ::2",
	"host 1.2.3.4 or port 80 or 53",
	"host 1.2.3.4 and (not 5.6.7.8)",
	"host 1.2.3.4 and not (tcp)",
	"ip net 10",
	"arp net 10.0.0.0/8",
	"net 192.168",
	"host 16909060",
	"tcp src or dst port 80",
	"dst net 128.0.0.0/1",
	"src net ::/1",
	// Pull-ups later in a pass must see the dominators of the pass start,
	// as libpcap 1.10.3's do (found by the random comparison with tcpdump).
	"ip6 src and dst host 2001:db8::42 and (::3 and ::4) or src or dst port 65535 and tcp port 80 or (53 or 80)",
	// Over 256 instructions: branches reach their targets through "ja".
	"host 10.0.0.1 and port 1 or host 10.0.0.2 and port 2 or host 10.0.0.3 and port 3 or host 10.0.0.4 and port 4 or host 10.0.0.5 and port 5 or host 10.0.0.6 and port 6 or host 10.0.0.7 and port 7 or host 10.0.0.8 and port 8 or host 10.0.0.9 and port 9 or host 10.0.0.10 and port 10 or host 10.0.0.11 and port 11 or host 10.0.0.12 and port 12 or host 10.0.0.13 and port 13 or host 10.0.0.14 and port 14 or host 10.0.0.15 and port 15 or host 10.0.0.16 and port 16 or host 10.0.0.17 and port 17 or host 10.0.0.18 and port 18 or host 10.0.0.19 and port 19 or host 10.0.0.20 and port 20",
}

type golden struct {
	expr string
	dd   string // tcpdump -dd output
}

// tcpdumpDD runs tcpdump on the empty Ethernet pcap, which needs no privilege.
func tcpdumpDD(flagD, expr string) (string, error) {
	out, err := exec.Command("tcpdump", "-r", emptyPcap, flagD, expr).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("tcpdump %s %q: %v: %s", flagD, expr, err, ee.Stderr)
		}
		return "", err
	}
	return string(out), nil
}

func readGoldens(t *testing.T) []golden {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v (regenerate with go test -run TestFilterGoldens -update)", err)
	}
	defer f.Close()
	var gs []golden
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, goldenTitle):
			e, err := strconv.Unquote(strings.TrimPrefix(line, goldenTitle))
			if err != nil {
				t.Fatalf("%s: bad title line %q: %v", goldenFile, line, err)
			}
			gs = append(gs, golden{expr: e})
		case strings.HasPrefix(line, "#") || line == "":
		case len(gs) == 0:
			t.Fatalf("%s: program line before any %q line: %q", goldenFile, goldenTitle, line)
		default:
			gs[len(gs)-1].dd += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return gs
}

// parseDD reads tcpdump -dd output back into instructions.
func parseDD(t *testing.T, dd string) []bpf.RawInstruction {
	t.Helper()
	var prog []bpf.RawInstruction
	for _, line := range strings.Split(strings.TrimSpace(dd), "\n") {
		var ins bpf.RawInstruction
		if _, err := fmt.Sscanf(line, "{ 0x%x, %d, %d, 0x%x },", &ins.Op, &ins.Jt, &ins.Jf, &ins.K); err != nil {
			t.Fatalf("bad -dd line %q: %v", line, err)
		}
		prog = append(prog, ins)
	}
	return prog
}

func TestFilterGoldens(t *testing.T) {
	if *updateGoldens {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			t.Fatalf("-update needs tcpdump: %v", err)
		}
		var b bytes.Buffer
		b.WriteString("# Programs printed by tcpdump -dd for an Ethernet capture with snap length 262144\n")
		b.WriteString("# (tcpdump -r empty-ether.pcap -dd EXPR). Regenerate: go test -run TestFilterGoldens -update\n")
		for _, e := range goldenExprs {
			dd, err := tcpdumpDD("-dd", e)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "\n%s%q\n%s", goldenTitle, e, dd)
		}
		if err := os.WriteFile(goldenFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gs := readGoldens(t)
	if len(gs) != len(goldenExprs) {
		t.Fatalf("%s has %d entries, goldenExprs %d: run with -update", goldenFile, len(gs), len(goldenExprs))
	}
	for i, g := range gs {
		if g.expr != goldenExprs[i] {
			t.Fatalf("%s entry %d is %q, goldenExprs has %q: run with -update", goldenFile, i, g.expr, goldenExprs[i])
		}
	}
	// (a) Compile gives tcpdump's program exactly.
	for _, g := range gs {
		prog, err := Compile(g.expr, goldenSnap)
		if err != nil {
			t.Errorf("Compile(%q): %v", g.expr, err)
			continue
		}
		var b bytes.Buffer
		if err := WriteProgramC(&b, prog); err != nil {
			t.Fatal(err)
		}
		if b.String() != g.dd {
			var got, want bytes.Buffer
			WriteProgram(&got, prog)
			WriteProgram(&want, parseDD(t, g.dd))
			t.Errorf("Compile(%q):\n%s\nwant (tcpdump):\n%s", g.expr, got.String(), want.String())
		}
	}
	// (b) The goldens are what this machine's tcpdump prints, and
	// WriteProgram prints them as tcpdump -d does.
	t.Run("tcpdump", func(t *testing.T) {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			t.Skipf("tcpdump not on PATH, goldens not re-checked: %v", err)
		}
		for _, g := range gs {
			dd, err := tcpdumpDD("-dd", g.expr)
			if err != nil {
				t.Fatal(err)
			}
			if dd != g.dd {
				t.Errorf("tcpdump -dd %q drifted from the golden:\n%s\nwant:\n%s", g.expr, dd, g.dd)
			}
			d, err := tcpdumpDD("-d", g.expr)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteProgram(&b, parseDD(t, g.dd)); err != nil {
				t.Fatal(err)
			}
			if b.String() != d {
				t.Errorf("WriteProgram for %q:\n%s\nwant (tcpdump -d):\n%s", g.expr, b.String(), d)
			}
		}
	})
}

func TestFilterAcceptDrop(t *testing.T) {
	for _, tc := range []struct {
		prog []bpf.RawInstruction
		want string
	}{
		{DropAll(), "(000) ret      #0\n"},
		{AcceptAll(goldenSnap), "(000) ret      #262144\n"},
	} {
		var b bytes.Buffer
		if err := WriteProgram(&b, tc.prog); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
	prog, err := Compile("", 1500)
	if err != nil || len(prog) != 1 || prog[0] != AcceptAll(1500)[0] {
		t.Errorf(`Compile("", 1500) = %v, %v; want AcceptAll(1500)`, prog, err)
	}
}

func TestFilterErrors(t *testing.T) {
	cases := []struct {
		expr   string
		offset int
		token  string
		msg    string
	}{
		{"hots 1.2.3.4", 0, "hots", "unknown primitive"},
		{"tcp and", 7, "", "want a primitive"},
		{"tcp &&", 6, "", "want a primitive"},
		{"and tcp", 0, "and", "want a primitive"},
		{"tcp or or udp", 7, "or", "want a primitive"},
		{"(tcp", 0, "(", "unbalanced parenthesis"},
		{"tcp)", 3, ")", "unbalanced parenthesis"},
		{"()", 1, ")", "empty parentheses"},
		{"tcp and ()", 9, ")", "empty parentheses"},
		{"((tcp)", 0, "(", "unbalanced parenthesis"},
		{"host 1.2.3.256", 5, "1.2.3.256", "invalid IPv4 address"},
		{"host 1.2.3", 5, "1.2.3", ""}, // a short address is a network, as in tcpdump: no error
		{"host 1..2", 5, "1..2", "want an address or number"},
		{"host ::g", 5, "::g", "invalid IPv6 address"},
		{"host fe80::1%eth0", 5, "fe80::1%eth0", "invalid IPv6 address"},
		{"host", 4, "", "want an address or number"},
		{"port", 4, "", "want an address or number"},
		{"port 65536", 5, "65536", "illegal port number 65536 > 65535"},
		{"port 99999999999", 5, "99999999999", "overflows 32 bits"},
		{"port 1.2.3.4", 5, "1.2.3.4", "'port' modifier applied to ip host"},
		{"port ::1", 5, "::1", "'port' modifier applied to ip6 host"},
		{"icmp port 80", 10, "80", "illegal qualifier of 'port'"},
		{"net 10.0.0.1/8", 4, "10.0.0.1", `non-network bits set in "10.0.0.1/8"`},
		{"net fe80::1/10", 4, "fe80::1", `non-network bits set in "fe80::1/10"`},
		{"net 10.0.0.0/33", 13, "33", "mask length must be <= 32"},
		{"net ::/129", 7, "129", "mask length must be <= 128"},
		{"net 10.0.0.0/", 13, "", "want a mask length"},
		{"host 10.0.0.0/8", 5, "10.0.0.0", "Mask syntax for networks only"},
		{"host ::/64", 5, "::", "Mask syntax for networks only"},
		{"tcp host 1.2.3.4", 9, "1.2.3.4", "'tcp' modifier applied to host"},
		{"ip6 host 1.2.3.4", 9, "1.2.3.4", "'ip6' modifier applied to ip host"},
		{"ip host ::1", 8, "::1", "'ip' modifier applied to ip6 host"},
		{"1.2.3.4", 0, "1.2.3.4", "without a qualifier"},
		{"tcp and 1.2.3.4", 8, "1.2.3.4", "without a qualifier"},
		{"icmp and not 1.2.3.4", 13, "1.2.3.4", "without a qualifier"},
		{"host 1.2.3.4 and (5.6.7.8 or port 80)", 29, "port", "want an address or number"},
		{"port 80 and 1.2.3.4", 12, "1.2.3.4", "'port' modifier applied to ip host"},
		{"net 0/0", 5, "/", "unexpected word"},
		{"(host 1.2.3.4) or 5.6.7.8", 18, "5.6.7.8", "without a qualifier"},
		{"tcp udp", 4, "udp", "unexpected word"},
		{"tcp & udp", 4, "&", "unsupported operator"},
		{"tcp and not tcp", 0, "tcp and not tcp", "expression rejects all packets"},
		{"ip and arp", 0, "ip and arp", "expression rejects all packets"},
		{"tcp or udp and icmp", 0, "tcp or udp and icmp", "expression rejects all packets"},
	}
	for _, tc := range cases {
		prog, err := Compile(tc.expr, goldenSnap)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("Compile(%q): %v", tc.expr, err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) = %v, %v; want a *SyntaxError", tc.expr, prog, err)
			continue
		}
		if se.Expr != tc.expr || se.Offset != tc.offset || se.Token != tc.token || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("Compile(%q): %#v; want offset %d token %q msg ~%q", tc.expr, se, tc.offset, tc.token, tc.msg)
		}
		if s := err.Error(); strings.Contains(s, "\n") || !strings.HasPrefix(s, "filter: ") {
			t.Errorf("Compile(%q): error %q is not one line starting with \"filter: \"", tc.expr, s)
		}
	}
	// tcpdump refuses these too.
	t.Run("tcpdump", func(t *testing.T) {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			t.Skipf("tcpdump not on PATH: %v", err)
		}
		for _, tc := range cases {
			if _, err := tcpdumpDD("-d", tc.expr); (err == nil) != (tc.msg == "") {
				t.Errorf("tcpdump -d %q: %v", tc.expr, err)
			}
		}
	})
	// Nesting is bounded (the parser recurses), not the number of terms.
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{strings.Repeat("(", 1000) + "tcp" + strings.Repeat(")", 1000), true},
		{strings.Repeat("(", 1001) + "tcp" + strings.Repeat(")", 1001), false},
		{strings.Repeat("not ", 1000) + "tcp", true},
		{strings.Repeat("! ", 100000) + "tcp", false},
		{"host 1.2.3.4 and " + strings.Repeat("not ", 999) + "5.6.7.8", true},
		{"host 1.2.3.4 and " + strings.Repeat("(", 1001) + "5.6.7.8" + strings.Repeat(")", 1001), false},
		{strings.Repeat("(tcp) or ", 2000) + "udp", true},
	} {
		_, err := Compile(tc.expr, goldenSnap)
		var se *SyntaxError
		if tc.ok && err != nil || !tc.ok && (!errors.As(err, &se) || !strings.Contains(se.Msg, "nested more than 1000 deep")) {
			t.Errorf("Compile(%.30q...): %v, want ok=%v", tc.expr, err, tc.ok)
		}
	}
	if _, err := Compile("tcp", 0); err == nil {
		t.Error("Compile with snaplen 0: no error")
	}
	want := `filter: "hots" at offset 0: unknown primitive (want host, port, net, src, dst, ip, ip6, arp, tcp, udp, icmp, icmp6)`
	if _, err := Compile("hots", goldenSnap); err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// --- semantics: the programs run in the x/net/bpf VM over a packet corpus ---

func ether(etherType uint16, payload []byte) []byte {
	b := []byte{0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, byte(etherType >> 8), byte(etherType)}
	return append(b, payload...)
}

// l4 is a transport header prefix: the ports and 16 more bytes.
func l4(sport, dport uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	return b
}

type ip4 struct {
	proto    byte
	src, dst string
	optWords int    // IHL - 5
	frag     uint16 // flags and fragment offset
	payload  []byte
}

func (p ip4) frame() []byte {
	h := make([]byte, 20+4*p.optWords)
	h[0] = 0x45 + byte(p.optWords)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(p.payload)))
	binary.BigEndian.PutUint16(h[6:], p.frag)
	h[8], h[9] = 64, p.proto
	s, d := netip.MustParseAddr(p.src).As4(), netip.MustParseAddr(p.dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	for i := 20; i < len(h); i++ {
		h[i] = 1 // NOP options
	}
	return ether(etherTypeIPv4, append(h, p.payload...))
}

type ip6 struct {
	nxt      byte
	src, dst string
	fragNxt  byte // when set, a fragment header carrying fragNxt comes first
	payload  []byte
}

func (p ip6) frame() []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	h[6], h[7] = p.nxt, 64
	pl := p.payload
	if p.fragNxt != 0 {
		h[6] = protoFrag6
		pl = append([]byte{p.fragNxt, 0, 0, 0, 0, 0, 0, 1}, pl...)
	}
	binary.BigEndian.PutUint16(h[4:], uint16(len(pl)))
	s, d := netip.MustParseAddr(p.src).As16(), netip.MustParseAddr(p.dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return ether(etherTypeIPv6, append(h, pl...))
}

func arpFrame(etherType uint16, spa, tpa string) []byte {
	b := []byte{0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x02}
	s, d := netip.MustParseAddr(spa).As4(), netip.MustParseAddr(tpa).As4()
	b = append(b, s[:]...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, d[:]...)
	return ether(etherType, b)
}

var echo = []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1}
var echo6 = []byte{128, 0, 0, 0, 0x12, 0x34, 0, 1}

// filterCorpus is named frames; the names are used in the expectation table.
var filterCorpus = []struct {
	name  string
	frame []byte
}{
	{"icmp4", ip4{proto: protoICMP, src: "10.0.0.1", dst: "10.0.0.2", payload: echo}.frame()},
	{"icmp4-lo", ip4{proto: protoICMP, src: "127.0.0.1", dst: "127.0.0.1", payload: echo}.frame()},
	{"udp4-dns-query", ip4{proto: protoUDP, src: "10.0.0.1", dst: "192.168.1.1", payload: l4(34567, 53)}.frame()},
	{"udp4-dns-reply", ip4{proto: protoUDP, src: "192.168.1.1", dst: "10.0.0.1", payload: l4(53, 34567)}.frame()},
	{"udp4-dhcp", ip4{proto: protoUDP, src: "0.0.0.0", dst: "255.255.255.255", payload: l4(68, 67)}.frame()},
	{"tcp4-http", ip4{proto: protoTCP, src: "1.2.3.4", dst: "5.6.7.8", payload: l4(40000, 80)}.frame()},
	{"tcp4-http-reply", ip4{proto: protoTCP, src: "5.6.7.8", dst: "1.2.3.4", payload: l4(80, 40000)}.frame()},
	{"tcp4-ssh", ip4{proto: protoTCP, src: "10.0.0.5", dst: "10.0.0.1", payload: l4(50000, 22)}.frame()},
	{"tcp4-options", ip4{proto: protoTCP, src: "172.16.5.4", dst: "172.31.0.1", optWords: 3, payload: l4(443, 1024)}.frame()},
	{"udp4-frag-first", ip4{proto: protoUDP, src: "10.1.2.3", dst: "10.0.0.1", frag: 0x2000, payload: l4(53, 53)}.frame()},
	{"udp4-frag-later", ip4{proto: protoUDP, src: "10.1.2.3", dst: "10.0.0.1", frag: 185, payload: l4(53, 53)}.frame()},
	{"sctp4-53", ip4{proto: protoSCTP, src: "9.9.9.9", dst: "5.6.7.8", payload: l4(53, 9999)}.frame()},
	{"udp4-mdns", ip4{proto: protoUDP, src: "192.168.0.1", dst: "224.0.0.251", payload: l4(5353, 5353)}.frame()},
	{"icmp6", ip6{nxt: protoICMPv6, src: "fe80::1", dst: "ff02::1", payload: echo6}.frame()},
	{"icmp6-lo", ip6{nxt: protoICMPv6, src: "::1", dst: "::1", payload: echo6}.frame()},
	{"udp6-dhcp", ip6{nxt: protoUDP, src: "fe80::2", dst: "ff02::1:2", payload: l4(546, 547)}.frame()},
	{"tcp6-http", ip6{nxt: protoTCP, src: "2001:db8::1", dst: "2001:db8:abcd:12::5", payload: l4(40000, 80)}.frame()},
	{"udp6-frag", ip6{nxt: protoUDP, src: "2001:db8::1", dst: "::2", fragNxt: protoUDP, payload: l4(53, 53)}.frame()},
	{"icmp6-frag", ip6{src: "fe80::1", dst: "fe80::2", fragNxt: protoICMPv6, payload: echo6}.frame()},
	{"arp", arpFrame(etherTypeARP, "1.2.3.4", "5.6.7.8")},
	{"arp-10", arpFrame(etherTypeARP, "10.0.0.1", "10.0.0.2")},
	{"rarp", arpFrame(etherTypeRARP, "1.2.3.4", "1.2.3.4")},
	{"lldp", ether(0x88cc, make([]byte, 40))},
	{"8023-length", ether(0x0040, make([]byte, 64))},
	{"tcp4-truncated", ip4{proto: protoTCP, src: "1.2.3.4", dst: "5.6.7.8", payload: l4(40000, 80)}.frame()[:36]},
	{"ip6-truncated", ip6{nxt: protoTCP, src: "::1", dst: "::1", payload: l4(1, 80)}.frame()[:30]},
	{"ether-only", ether(etherTypeIPv4, nil)},
	{"runt", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	{"empty", nil},
}

func runVM(t testing.TB, prog []bpf.RawInstruction, frame []byte) bool {
	t.Helper()
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("program does not disassemble: %v", prog)
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("bpf.NewVM: %v", err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatalf("vm.Run: %v", err)
	}
	return n > 0
}

// TestFilterSemantics runs every golden program and Compile's program over
// the corpus: the verdicts must agree, and where the table below says what
// an expression means, they must be that.
func TestFilterSemantics(t *testing.T) {
	for _, g := range readGoldens(t) {
		want := parseDD(t, g.dd)
		got, err := Compile(g.expr, goldenSnap)
		if err != nil {
			t.Errorf("Compile(%q): %v", g.expr, err)
			continue
		}
		for _, c := range filterCorpus {
			if v, w := runVM(t, got, c.frame), runVM(t, want, c.frame); v != w {
				t.Errorf("%q on %s: Compile's program says %v, tcpdump's %v", g.expr, c.name, v, w)
			}
		}
	}
	for _, tc := range []struct {
		expr    string
		matches []string // every other corpus frame must not match
	}{
		{"", []string{"icmp4", "icmp4-lo", "udp4-dns-query", "udp4-dns-reply", "udp4-dhcp", "tcp4-http", "tcp4-http-reply", "tcp4-ssh", "tcp4-options", "udp4-frag-first", "udp4-frag-later", "sctp4-53", "udp4-mdns", "icmp6", "icmp6-lo", "udp6-dhcp", "tcp6-http", "udp6-frag", "icmp6-frag", "arp", "arp-10", "rarp", "lldp", "8023-length", "tcp4-truncated", "ip6-truncated", "ether-only", "runt", "empty"}},
		{"icmp", []string{"icmp4", "icmp4-lo"}},
		{"icmp6", []string{"icmp6", "icmp6-lo", "icmp6-frag"}},
		{"arp", []string{"arp", "arp-10"}},
		{"ip6", []string{"icmp6", "icmp6-lo", "udp6-dhcp", "tcp6-http", "udp6-frag", "icmp6-frag", "ip6-truncated"}},
		{"udp", []string{"udp4-dns-query", "udp4-dns-reply", "udp4-dhcp", "udp4-frag-first", "udp4-frag-later", "udp4-mdns", "udp6-dhcp", "udp6-frag"}},
		// A non-first IPv4 fragment has no ports; the first fragment has.
		// As in tcpdump, "udp" looks behind an IPv6 fragment header but
		// "port" does not.
		{"port 53", []string{"udp4-dns-query", "udp4-dns-reply", "udp4-frag-first", "sctp4-53"}},
		{"udp and not port 53", []string{"udp4-dhcp", "udp4-frag-later", "udp4-mdns", "udp6-dhcp", "udp6-frag"}},
		{"src port 53", []string{"udp4-dns-reply", "udp4-frag-first", "sctp4-53"}},
		// IHL 8: the ports are found behind the options.
		{"dst port 1024", []string{"tcp4-options"}},
		// The truncated frame still holds its addresses, not its ports.
		{"host 1.2.3.4", []string{"tcp4-http", "tcp4-http-reply", "arp", "rarp", "tcp4-truncated"}},
		{"src host 1.2.3.4", []string{"tcp4-http", "arp", "rarp", "tcp4-truncated"}},
		{"ip host 1.2.3.4", []string{"tcp4-http", "tcp4-http-reply", "tcp4-truncated"}},
		{"tcp and dst port 80", []string{"tcp4-http", "tcp6-http"}},
		{"host ::1", []string{"icmp6-lo"}},
		{"net 10.0.0.0/8", []string{"icmp4", "udp4-dns-query", "udp4-dns-reply", "tcp4-ssh", "udp4-frag-first", "udp4-frag-later", "arp-10"}},
		{"dst net 224.0.0.0/4", []string{"udp4-mdns"}},
		{"net 2001:db8::/32", []string{"tcp6-http", "udp6-frag"}},
		{"dst net 2001:db8:abcd:12::/63", []string{"tcp6-http"}},
		{"tcp or udp and port 53", []string{"udp4-dns-query", "udp4-dns-reply", "udp4-frag-first"}},
		{"tcp port 80 and not src net 5.0.0.0/8", []string{"tcp4-http", "tcp6-http"}},
		{"not ip and not ip6", []string{"arp", "arp-10", "rarp", "lldp", "8023-length"}},
	} {
		prog, err := Compile(tc.expr, goldenSnap)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.expr, err)
			continue
		}
		want := map[string]bool{}
		for _, n := range tc.matches {
			want[n] = true
		}
		for _, c := range filterCorpus {
			if got := runVM(t, prog, c.frame); got != want[c.name] {
				t.Errorf("%q on %s: match %v, want %v", tc.expr, c.name, got, want[c.name])
			}
		}
	}
}

var benchExprs = []struct{ name, expr string }{
	{"icmp", "icmp"},
	{"port", "tcp port 80 and host 10.0.0.1"},
	{"composite", "(tcp or udp or icmp) and (host 10.0.0.1 or host 10.0.0.2) and not (port 22 or port 23)"},
}

// BenchmarkCompile and BenchmarkTcpdumpCompile side by side: the latter
// includes starting tcpdump, which is what a user of tcpdump -d pays.
func BenchmarkCompile(b *testing.B) {
	for _, e := range benchExprs {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(e.expr, goldenSnap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTcpdumpCompile(b *testing.B) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		b.Skipf("tcpdump not on PATH: %v", err)
	}
	for _, e := range benchExprs {
		b.Run(e.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tcpdumpDD("-dd", e.expr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
