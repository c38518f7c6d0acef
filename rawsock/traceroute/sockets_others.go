//go:build !linux

package traceroute

import (
	"fmt"
	"net/netip"
	"runtime"

	"github.com/rawsock/rawsock/rawsock"
)

func newTransport(cfg *Config, src netip.Addr) (transport, error) {
	return nil, fmt.Errorf("traceroute: not implemented on %s", runtime.GOOS)
}

func bindDevice(c *rawsock.Conn, device string) error {
	if device == "" {
		return nil
	}
	return fmt.Errorf("traceroute: binding to an interface is not implemented on %s", runtime.GOOS)
}
