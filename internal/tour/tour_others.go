//go:build !linux

package tour

import (
	"errors"
	"io"
	"runtime"
	"time"
)

// Options bound the tour in time. Zero values take the defaults.
type Options struct {
	CallTimeout time.Duration
	StepTimeout time.Duration
}

// Run says the tour is Linux's: its matrix, privileges and raw steps read
// /proc and use Linux socket families.
func Run(w io.Writer, opts Options) error {
	return errors.New("tour: not implemented on " + runtime.GOOS)
}
