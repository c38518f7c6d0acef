package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestServer runs the server against its partner, the unix-echo-client, on a
// path in a temporary directory, for two clients in a row; SIGTERM then
// ends it with status 0 and removes the socket file.
func TestServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.sock")
	srv := extest.Start(t, extest.Build(t, "unix-echo-server"), "-path", path)
	cli := extest.Build(t, "unix-echo-client")
	for _, lines := range [][]string{{"i", "hello world"}, {"second client"}} {
		extest.Session(t, cli, lines, 1, true, "-path", path)
	}
	if n := srv.Count("...connected", 2); n != 2 {
		t.Errorf("server log shows %d connections, want 2:\n%s", n, srv.Output())
	}
	if code := srv.Stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
}

// TestServerStalePath: a socket file left by an earlier run is replaced; a
// path in a directory that does not exist is one line naming bind.
func TestServerStalePath(t *testing.T) {
	bin := extest.Build(t, "unix-echo-server")
	path := filepath.Join(t.TempDir(), "echo.sock")
	first := extest.Start(t, bin, "-path", path)
	first.Stop(t, syscall.SIGKILL) // leaves the file
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("SIGKILL should leave the socket file: %v", err)
	}
	extest.Start(t, bin, "-path", path)
	_, errs, code := extest.Run(t, bin, "", "-path", filepath.Join(path+".d", "x.sock"))
	extest.ErrorLine(t, errs, code, "bind: no such file or directory")
}
