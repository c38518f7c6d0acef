//go:build linux

package main

import (
	"testing"

	"github.com/rawsock/rawsock/examples/internal/extest"
)

// servers are the C epoll server and its Go port: what one does, the other
// must.
var servers = []struct {
	name  string
	build func(testing.TB) string
}{
	{"go", func(t testing.TB) string { return extest.Build(t, "epoll-echo-go") }},
	{"c", extest.BuildC},
}

func TestServers(t *testing.T) {
	for _, tt := range servers {
		t.Run(tt.name, func(t *testing.T) {
			srv := extest.Start(t, tt.build(t), "-b", "127.0.0.1", "-p", "0")
			extest.CheckEchoServer(t, srv.Addr)
		})
	}
}

// TestBadAddress: both refuse a bad address in one line, exit status 2.
func TestBadAddress(t *testing.T) {
	for _, tt := range servers {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := extest.Run(t, tt.build(t), "", "-p", "70000")
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			extest.ErrorLine(t, errs, code, "bad address")
		})
	}
}
