package main

import (
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestClient runs the client against its partner, the udp-echo-server, with
// a datagram as long as the server's buffer allows whole (1024 - 24 bytes
// of timestamp fit the client's 1024-byte recvfrom).
func TestClient(t *testing.T) {
	srv := extest.Start(t, extest.Build(t, "udp-echo-server"), "-host", "127.0.0.1", "-port", "0")
	host, port, _ := strings.Cut(srv.Addr, ":")
	lines := []string{"hello", "x y z", strings.Repeat("u", 1000)}
	extest.Session(t, extest.Build(t, "udp-echo-client"), lines, 1, false, "-host", host, "-port", port)
}

// TestClientBadHost: an unresolvable host is one line and a non-zero exit.
func TestClientBadHost(t *testing.T) {
	_, errs, code := extest.Run(t, extest.Build(t, "udp-echo-client"), "hello\n", "-host", "no such host.invalid")
	extest.ErrorLine(t, errs, code, "udp-echo-client:")
}
