package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestClient runs the client against its partner, the seqpacket-echo-server:
// two replies per line, each the whole line after its own timestamp.
func TestClient(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seq.sock")
	extest.Start(t, extest.Build(t, "seqpacket-echo-server"), "-path", path)
	lines := []string{"hello", "x y z", strings.Repeat("q", 1000)}
	extest.Session(t, extest.Build(t, "seqpacket-echo-client"), lines, 2, false, "-path", path)
}

// TestClientWrongType: a SOCK_STREAM listener on the path refuses a
// SOCK_SEQPACKET connect; the client says so in one line.
func TestClientWrongType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stream.sock")
	extest.Start(t, extest.Build(t, "unix-echo-server"), "-path", path)
	_, errs, code := extest.Run(t, extest.Build(t, "seqpacket-echo-client"), "hello\n", "-path", path)
	extest.ErrorLine(t, errs, code, "connect: protocol wrong type for socket")
}
