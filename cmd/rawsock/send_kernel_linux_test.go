package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
)

// kernelChanged reads the fields --show-kernel reports changed.
func kernelChanged(t *testing.T, stdout string) []string {
	t.Helper()
	for _, l := range strings.Split(stdout, "\n") {
		if l == "the kernel changed nothing" {
			return nil
		}
		if s, ok := strings.CutPrefix(l, "the kernel changed: "); ok {
			return strings.Split(s, ", ")
		}
	}
	t.Fatalf("no 'the kernel changed' line in:\n%s", stdout)
	return nil
}

func TestSendShowKernel(t *testing.T) {
	socktest.NeedRaw(t)
	_, port := udpListener(t)
	dport := strconv.Itoa(int(port))
	for i, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"id, source, length and checksum 0", []string{"--proto", "udp", "--dport", dport, "--id", "0", "--src", "0.0.0.0", "--tot-len", "0", "--ip-csum", "0"},
			[]string{"total length", "identification", "header checksum", "source address"}},
		{"id and source given", []string{"--proto", "udp", "--dport", dport, "--id", "4660", "--src", "127.0.0.1", "--tot-len", "0", "--ip-csum", "0"},
			[]string{"total length", "header checksum"}},
		{"a wrong length and checksum", []string{"--proto", "udp", "--dport", dport, "--id", "4660", "--tot-len", "999", "--ip-csum", "0x1234"},
			[]string{"total length", "header checksum"}},
		{"all right already", []string{"--proto", "udp", "--dport", dport, "--id", "4660"}, nil},
		// TCP: the segment's checksum covers the source, which the kernel
		// never rewrites into it.
		{"tcp", []string{"--proto", "tcp", "--dport", "9", "--flags", "R", "--id", "0", "--ip-csum", "0"},
			[]string{"identification", "header checksum"}},
		{"icmp", []string{"--proto", "icmp", "--icmp-type", "13", "--id", "0", "--src", "0.0.0.0"},
			[]string{"identification", "header checksum", "source address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A unique source port (UDP, TCP) or payload tells our packet apart.
			args := append([]string{"send", "--show-kernel", "--dst", "127.0.0.1", "--sport", strconv.Itoa(41000 + i), "--payload", "show-kernel " + tc.name}, tc.args...)
			for try := 0; ; try++ {
				stdout, stderr, code := runCmd(args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				got := kernelChanged(t, stdout)
				// The kernel's chosen id is 0 once in 65536: then it
				// "changed" nothing there. Try once more.
				if slices.Contains(tc.want, "identification") && !slices.Contains(got, "identification") && try == 0 {
					continue
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("the kernel changed %q, want %q\n%s", got, tc.want, stdout)
				}
				if strings.Contains(stdout, "! CHANGED") {
					t.Errorf("a field outside raw(7)'s list changed:\n%s", stdout)
				}
				return
			}
		})
	}
}

func TestSendShowKernelNoPrivilege(t *testing.T) {
	_, stderr, code := runWithoutRaw(t, "send", "--show-kernel", "--dst", "127.0.0.1", "--payload", "x")
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "operation not permitted") || !strings.Contains(stderr, "CAP_NET_RAW") {
		t.Errorf("exit %d, stderr %q: want 2 and one line with the privilege hint", code, stderr)
	}
}
