//go:build !unix

package echobench

import (
	"fmt"
	"runtime"
)

// RaiseNofile makes sure this process may hold n open files; outside Unix
// there is no RLIMIT_NOFILE to raise.
func RaiseNofile(n uint64) error {
	return fmt.Errorf("RaiseNofile: not implemented on %s", runtime.GOOS)
}
