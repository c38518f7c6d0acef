package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestClient runs the client against its partner, the unix-echo-server.
func TestClient(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.sock")
	extest.Start(t, extest.Build(t, "unix-echo-server"), "-path", path)
	lines := []string{"hello", "x y z", strings.Repeat("s", 1000)}
	extest.Session(t, extest.Build(t, "unix-echo-client"), lines, 1, false, "-path", path)
}

// TestClientNoServer: a path nobody listens on is one line naming connect.
func TestClientNoServer(t *testing.T) {
	_, errs, code := extest.Run(t, extest.Build(t, "unix-echo-client"), "hello\n", "-path", filepath.Join(t.TempDir(), "none.sock"))
	extest.ErrorLine(t, errs, code, "connect: no such file or directory")
}
