package main

import (
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestServer runs the server against its partner, the tcp-echo-client, for
// two clients in a row: the server goes back to accept after each.
func TestServer(t *testing.T) {
	srv := extest.Start(t, extest.Build(t, "tcp-echo-server"), "-host", "127.0.0.1", "-port", "0")
	cli := extest.Build(t, "tcp-echo-client")
	host, port, _ := strings.Cut(srv.Addr, ":")
	for _, lines := range [][]string{{"i", "hello world"}, {"second client"}} {
		extest.Session(t, cli, lines, 1, true, "-host", host, "-port", port)
	}
	if n := srv.Count("...connected from: 127.0.0.1:", 2); n != 2 {
		t.Errorf("server log shows %d connections, want 2:\n%s", n, srv.Output())
	}
}

// TestServerBadPort: a port out of range is one line and a non-zero exit.
func TestServerBadPort(t *testing.T) {
	_, errs, code := extest.Run(t, extest.Build(t, "tcp-echo-server"), "", "-port", "70000")
	extest.ErrorLine(t, errs, code, "tcp-echo-server:")
}

// TestPythonClient: the tutorial's own Python client talks to this server.
func TestPythonClient(t *testing.T) {
	srv := extest.Start(t, extest.Build(t, "tcp-echo-server"), "-host", "127.0.0.1", "-port", "0")
	_, port, _ := strings.Cut(srv.Addr, ":")
	python, client := extest.Tutorial(t, "client", port)
	lines := []string{"i", "hello from python"}
	extest.Session(t, python, lines, 1, true, "-u", client)
}
