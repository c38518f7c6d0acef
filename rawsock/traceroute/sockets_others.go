//go:build !linux

package traceroute

import (
	"fmt"
	"net/netip"
	"runtime"
)

func newTransport(cfg *Config, src netip.Addr) (transport, error) {
	return nil, fmt.Errorf("traceroute: not implemented on %s", runtime.GOOS)
}
