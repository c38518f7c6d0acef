package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestServer runs the server against its partner, the seqpacket-echo-client,
// which sends every line twice back to back: the server must log one
// message per send, never the two run together.
func TestServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seq.sock")
	srv := extest.Start(t, extest.Build(t, "seqpacket-echo-server"), "-path", path)
	lines := []string{"i", "hello world"}
	extest.Session(t, extest.Build(t, "seqpacket-echo-client"), lines, 2, true, "-path", path)
	if code := srv.Stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	var want string
	for _, l := range lines {
		want += strings.Repeat(fmt.Sprintf("message of %d bytes\n", len(l)), 2)
	}
	if got := strings.Join(grep(srv.Output(), "message of "), ""); got != want {
		t.Errorf("server read messages:\n%swant:\n%s", got, want)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
}

func grep(s, prefix string) (out []string) {
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}
