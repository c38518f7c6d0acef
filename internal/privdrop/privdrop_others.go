//go:build !linux

package privdrop

import (
	"errors"
	"runtime"
)

// Drop is not implemented here.
func Drop() error { return errors.New("privdrop: not implemented on " + runtime.GOOS) }
