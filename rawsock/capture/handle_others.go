//go:build !linux

package capture

import (
	"fmt"
	"runtime"

	"golang.org/x/net/bpf"
)

var errNotImplemented = fmt.Errorf("capture: not implemented on %s", runtime.GOOS)

// ring holds nothing where there is no AF_PACKET.
type ring struct{}

func open(Config) (*Handle, error)                     { return nil, errNotImplemented }
func (h *Handle) read(*CaptureInfo) ([]byte, error)    { return nil, errNotImplemented }
func (h *Handle) setFilter([]bpf.RawInstruction) error { return errNotImplemented }
func (h *Handle) readStats() (Stats, error)            { return Stats{}, errNotImplemented }
func (h *Handle) close() error                         { return errNotImplemented }
