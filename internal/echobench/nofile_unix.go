//go:build unix

package echobench

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// RaiseNofile makes sure this process may hold n open files: it raises the
// soft RLIMIT_NOFILE to n, and the hard limit too when n is above it and
// the process may (CAP_SYS_RESOURCE). Processes started afterwards inherit
// the raised limits. It does nothing when the soft limit is already n or
// more.
func RaiseNofile(n uint64) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return os.NewSyscallError("getrlimit", err)
	}
	if lim.Cur >= n {
		return nil
	}
	want := lim
	want.Cur = n
	want.Max = max(lim.Max, n)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("setrlimit(RLIMIT_NOFILE, %d): %w (the hard limit is %d: raise it with ulimit -Hn, or run with CAP_SYS_RESOURCE)",
			n, os.NewSyscallError("setrlimit", err), lim.Max)
	}
	return nil
}
