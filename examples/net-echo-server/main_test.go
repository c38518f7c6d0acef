package main

import (
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// TestServer puts the net server through the checks the epoll servers pass.
func TestServer(t *testing.T) {
	srv := extest.Start(t, extest.Build(t, "net-echo-server"), "-addr", "127.0.0.1:0")
	extest.CheckEchoServer(t, srv.Addr)
}

func TestServerBadAddr(t *testing.T) {
	_, errs, code := extest.Run(t, extest.Build(t, "net-echo-server"), "", "-addr", "127.0.0.1:70000")
	extest.ErrorLine(t, errs, code, "invalid port")
}
