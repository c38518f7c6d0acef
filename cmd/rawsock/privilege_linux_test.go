package main

import (
	"bytes"
	"github.com/rawsock/rawsock/internal/socktest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDropPrivilegesOrder runs ping, traceroute and send as root under
// strace(1) and reads the order of their syscalls: every socket is opened
// (AF_INET, AF_INET6, AF_PACKET) before the first setgroups(2) of the drop, the drop becomes nobody and
// clears every capability, and every packet (a sendto(2) or sendmsg(2) to
// an IPv4 or IPv6 address) leaves after its last call. What the drop
// leaves on every thread is internal/privdrop's test, from /proc.
func TestDropPrivilegesOrder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test is that root gives itself up")
	}
	socktest.NeedRaw(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ping", "-c", "2", "-i", "0.2", "-w", "10", "127.0.0.1"},
		{"traceroute", "-n", "-q", "1", "-m", "2", "127.0.0.1"},
		{"traceroute", "-n", "-T", "-q", "1", "-m", "2", "127.0.0.1"},
		{"traceroute", "-n", "-I", "-q", "1", "-m", "2", "127.0.0.1"},
		{"send", "-q", "--dst", "127.0.0.1", "--payload", "drop"},
		{"send", "-q", "--show-kernel", "--dst", "127.0.0.1", "--payload", "drop"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "strace")
			cmd := exec.Command(strace, append([]string{"-f", "-qq", "-o", log, "-e", "trace=socket,setgroups,setgid,setuid,capset,sendto,sendmsg,sendmmsg", exe}, args...)...)
			cmd.Env = append(os.Environ(), envRunMain+"=1", "RAWSOCK_TRACE=", "SUDO_UID=", "SUDO_GID=")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v:\n%s", err, out.String())
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			checkDropOrder(t, string(b))
		})
	}
}

var (
	straceCall = regexp.MustCompile(`^\d+ +(\w+)\(`)
	netSocket  = regexp.MustCompile(`socket\(AF_(INET6?|PACKET),`) // not netlink's, which name lookups open
	wireSend   = regexp.MustCompile(`sa_family=AF_INET6?,`)
)

// checkDropOrder checks a strace -f log for the order the drop must have.
func checkDropOrder(t *testing.T, log string) {
	t.Helper()
	firstDrop, lastDrop, lastSocket, firstSend := -1, -1, -1, -1
	var sawUID, sawCaps bool
	lines := strings.Split(log, "\n")
	for i, line := range lines {
		m := straceCall.FindStringSubmatch(line)
		if m == nil {
			continue // a signal, or the end of an unfinished call
		}
		switch m[1] {
		case "socket":
			if netSocket.MatchString(line) {
				lastSocket = i
			}
		case "setgroups", "setgid", "setuid", "capset":
			if firstDrop < 0 {
				firstDrop = i
			}
			lastDrop = i
			sawUID = sawUID || strings.Contains(line, "setuid(65534")
			sawCaps = sawCaps || strings.Contains(line, "{effective=0, permitted=0, inheritable=0}) = 0")
		default: // the sends
			if firstSend < 0 && wireSend.MatchString(line) {
				firstSend = i
			}
		}
	}
	switch {
	case !sawUID || !sawCaps:
		t.Errorf("no setuid(65534) or no capset clearing every set:\n%s", log)
	case lastSocket > firstDrop:
		t.Errorf("a socket opened after the drop began (line %d, drop at %d):\n%s", lastSocket+1, firstDrop+1, log)
	case firstSend < 0:
		t.Errorf("no packet sent:\n%s", log)
	case firstSend < lastDrop:
		t.Errorf("a packet left (line %d) before the drop ended (line %d):\n%s", firstSend+1, lastDrop+1, log)
	}
}
