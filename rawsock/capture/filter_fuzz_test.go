package capture

import (
	"bytes"
	"errors"
	"math/rand"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// FuzzCompile: any string compiles or gives a *SyntaxError, never a panic;
// a program that compiles is valid classic BPF (x/net/bpf disassembles and
// reassembles it to the same instructions, and its VM runs it).
func FuzzCompile(f *testing.F) {
	for _, e := range goldenExprs {
		f.Add(e)
	}
	for _, e := range []string{"hots", "tcp and", "(tcp", "()", "port 65536", "net 10.0.0.1/8", "host ::1/64",
		"host 1.2.3.4 and (5.6.7.8 or not 9.9.9.9)", "src or dst port 80 or 53", "!!!tcp", "tcp&&||udp"} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := Compile(expr, goldenSnap)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %v is not a *SyntaxError", expr, err)
			}
			if se.Offset < 0 || se.Offset > len(expr) || !strings.HasPrefix(expr[se.Offset:], se.Token) {
				t.Fatalf("Compile(%q): %#v does not point at its token", expr, se)
			}
			return
		}
		checkProgram(t, expr, prog)
	})
}

func checkProgram(t *testing.T, expr string, prog []bpf.RawInstruction) {
	t.Helper()
	if len(prog) == 0 || len(prog) > 4096 {
		t.Fatalf("Compile(%q): %d instructions", expr, len(prog))
	}
	insns, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("Compile(%q): program does not disassemble", expr)
	}
	again, err := bpf.Assemble(insns)
	if err != nil {
		t.Fatalf("Compile(%q): reassemble: %v", expr, err)
	}
	for i := range prog {
		if again[i] != prog[i] {
			t.Fatalf("Compile(%q): instruction %d is %v, reassembled %v", expr, i, prog[i], again[i])
		}
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatalf("Compile(%q): bpf.NewVM: %v", expr, err)
	}
	for _, c := range filterCorpus[:6] {
		if _, err := vm.Run(c.frame); err != nil {
			t.Fatalf("Compile(%q): run on %s: %v", expr, c.name, err)
		}
	}
	if err := WriteProgram(&bytes.Buffer{}, prog); err != nil {
		t.Fatal(err)
	}
}

// randomExpr builds an expression of the supported grammar.
func randomExpr(r *rand.Rand, depth int) string {
	pick := func(s ...string) string { return s[r.Intn(len(s))] }
	if depth > 0 && r.Intn(3) > 0 {
		switch r.Intn(4) {
		case 0:
			return pick("not ", "!") + randomExpr(r, depth-1)
		case 1:
			return "(" + randomExpr(r, depth-1) + ")"
		default:
			return randomExpr(r, depth-1) + pick(" and ", " or ", " && ", " || ") + randomExpr(r, depth-1)
		}
	}
	dir := pick("", "", "src ", "dst ", "src or dst ", "src and dst ")
	v4 := pick("10.0.0.1", "1.2.3.4", "127.0.0.1", "192.168.1.1")
	v6 := pick("::1", "fe80::1", "2001:db8::42")
	join := pick(" or ", " and ", " and not ", " or not ")
	switch r.Intn(11) {
	case 8:
		return pick("", "tcp ", "udp ") + dir + "port " + pick("22", "53", "80") + join + pick("443", "(53 or 80)", "0")
	case 9:
		return dir + "net " + pick("10", "192.168", "10.0.0.0/8") + join + pick("172.16", "1.2.3.4", "(10.1 or 10.2)")
	case 10:
		return pick("", "ip6 ") + dir + "host " + v6 + join + pick("::2", "fe80::/10", "(::3 and ::4)")
	case 0, 1:
		return pick("icmp", "icmp6", "udp", "tcp", "arp", "ip", "ip6")
	case 2:
		return pick("", "ip ", "arp ") + dir + "host " + v4
	case 3:
		return pick("", "ip6 ") + dir + "host " + v6
	case 4:
		return pick("", "tcp ", "udp ") + dir + "port " + pick("22", "53", "80", "443", "0", "65535")
	case 5:
		return dir + "net " + pick("10.0.0.0/8", "192.168.0.0/16", "10.1", "0.0.0.0/0", "172.16.0.0/12")
	case 6:
		return dir + "net " + pick("fe80::/10", "2001:db8::/32", "::/0", "2001:db8::/64", "2001:db8:1::/47")
	}
	return dir + "host " + v4 + join + v4
}

// TestFilterRandomVsTcpdump compiles random expressions with Compile and
// with tcpdump: the programs must be equal (or both rejected).
func TestFilterRandomVsTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skipf("tcpdump not on PATH: %v", err)
	}
	n := 300
	if testing.Short() {
		n = 30
	}
	r := rand.New(rand.NewSource(7))
	for i := 0; i < n; i++ {
		expr := randomExpr(r, 3)
		want, terr := tcpdumpDD("-dd", expr)
		prog, err := Compile(expr, goldenSnap)
		if terr != nil || err != nil {
			if (terr == nil) != (err == nil) {
				t.Errorf("%q: tcpdump: %v, Compile: %v", expr, terr, err)
			}
			continue
		}
		var b bytes.Buffer
		WriteProgramC(&b, prog)
		if b.String() != want {
			var got bytes.Buffer
			WriteProgram(&got, prog)
			t.Errorf("%q: Compile gives\n%s\nwant (tcpdump -dd)\n%s", expr, got.String(), want)
		}
	}
}
