package main

import (
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
	"github.com/rawsock/rawsock/rawsock"
)

// TestClient runs the client against its partner, the tcp-echo-server, and
// ends the session at the end of stdin rather than an empty line.
func TestClient(t *testing.T) {
	srv := extest.Start(t, extest.Build(t, "tcp-echo-server"), "-host", "127.0.0.1", "-port", "0")
	host, port, _ := strings.Cut(srv.Addr, ":")
	lines := []string{"hello", "x y z", strings.Repeat("a", 900)}
	extest.Session(t, extest.Build(t, "tcp-echo-client"), lines, 1, false, "-host", host, "-port", port)
}

// TestClientRefused: no server is one line naming connect and a non-zero
// exit.
func TestClientRefused(t *testing.T) {
	// A port that was free a moment ago: bound, then closed.
	s, err := rawsock.Socket(rawsock.AF_INET, rawsock.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := rawsock.InetAddr("127.0.0.1", 0)
	if err := s.Bind(a); err != nil {
		t.Fatal(err)
	}
	sa, _ := s.Getsockname()
	s.Close()
	_, port, _ := strings.Cut(rawsock.AddrString(sa), ":")
	_, errs, code := extest.Run(t, extest.Build(t, "tcp-echo-client"), "hello\n", "-port", port)
	extest.ErrorLine(t, errs, code, "connect: connection refused")
}

// TestPythonServer: this client talks to the tutorial's own Python server.
func TestPythonServer(t *testing.T) {
	port := extest.FreePort(t)
	python, server := extest.Tutorial(t, "server", port)
	extest.StartListening(t, port, python, "-u", server)
	lines := []string{"i", "hello to python"}
	extest.Session(t, extest.Build(t, "tcp-echo-client"), lines, 1, true, "-port", port)
}
