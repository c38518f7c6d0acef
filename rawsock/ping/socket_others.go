//go:build !linux

package ping

import (
	"context"
	"errors"
	"runtime"
)

var errNotImplemented = errors.New("ping: not implemented on " + runtime.GOOS)

type sysConn struct{}

type state struct{}

func (sc *sysConn) close() error { return nil }

func (p *Pinger) open() error { return errNotImplemented }

func (p *Pinger) run(ctx context.Context, fn func(*Event)) error { return errNotImplemented }

// Payload returns nil here: New fails.
func (p *Pinger) Payload() []byte { return nil }
