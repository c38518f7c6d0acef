package main

import (
	"strings"
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestServer runs the server against its partner, the udp-echo-client: each
// line one datagram, each answered alone, from two clients in a row (no
// accept: the same socket serves both).
func TestServer(t *testing.T) {
	srv := extest.Start(t, extest.Build(t, "udp-echo-server"), "-host", "127.0.0.1", "-port", "0")
	cli := extest.Build(t, "udp-echo-client")
	host, port, _ := strings.Cut(srv.Addr, ":")
	for _, lines := range [][]string{{"i", "hello world"}, {"second client"}} {
		extest.Session(t, cli, lines, 1, true, "-host", host, "-port", port)
	}
	if n := srv.Count("...received from and returned to: 127.0.0.1:", 3); n != 3 {
		t.Errorf("server log shows %d datagrams, want 3:\n%s", n, srv.Output())
	}
}

// TestServerPortInUse: binding a port another socket holds is one line
// naming bind and a non-zero exit.
func TestServerPortInUse(t *testing.T) {
	bin := extest.Build(t, "udp-echo-server")
	srv := extest.Start(t, bin, "-host", "127.0.0.1", "-port", "0")
	_, port, _ := strings.Cut(srv.Addr, ":")
	_, errs, code := extest.Run(t, bin, "", "-host", "127.0.0.1", "-port", port)
	extest.ErrorLine(t, errs, code, "bind: address already in use")
}
