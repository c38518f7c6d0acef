package privdrop

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Drop gives up what opening a raw socket took, as iputils does once its
// socket is open and before it sends.
//
// As root (real or effective uid 0) it becomes the invoking user, SUDO_UID
// and SUDO_GID when sudo set them (and they are not 0), else nobody
// (65534): setgroups(2) to none, setgid(2), setuid(2). Go applies these to
// every thread of the process. Leaving uid 0 clears the permitted,
// effective and ambient capabilities (capabilities(7)).
//
// In every case it then clears all capabilities, effective, permitted and
// inheritable (and so ambient), with capset(2) on every thread
// (syscall.AllThreadsSyscall). A binary that links cgo cannot do that: the
// Go runtime refuses to, since C code may have threads of its own. Then
// only the calling thread's are cleared with capset(2), every thread's are
// read back from /proc/self/task, and if one still holds a capability
// (a setcap'd binary run by a user, where no uid change clears them) the
// error matches ErrCapsRemain. Build such a binary with CGO_ENABLED=0.
//
// Errors name the syscall and carry its errno; the caller puts its own
// name in front ("ping: setuid(65534): operation not permitted").
func Drop() error {
	if os.Getuid() == 0 || os.Geteuid() == 0 {
		uid, gid := invokingUser()
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("setgid(%d): %w", gid, err)
		}
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("setuid(%d): %w", uid, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // all zero: no capability in any set
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP: // cgo linked
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return fmt.Errorf("capset: %w", err)
		}
		return checkThreads()
	}
	return fmt.Errorf("capset: %w", errno)
}

// invokingUser reads SUDO_UID and SUDO_GID, else returns nobody.
func invokingUser() (uid, gid int) {
	u, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	g, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 != nil || err2 != nil || u <= 0 || g <= 0 {
		return Nobody, Nobody
	}
	return u, g
}

// checkThreads reads CapPrm and CapEff of every thread of the process.
func checkThreads() error {
	dirs, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("cannot read the threads' capabilities: %w (%w)", err, ErrCapsRemain)
	}
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "CapPrm" || k == "CapEff") && strings.Trim(strings.TrimSpace(v), "0") != "" {
				return fmt.Errorf("%s %s on thread %s: this binary links cgo, which keeps Go from clearing capabilities on every thread; build it with CGO_ENABLED=0 (%w)",
					k, strings.TrimSpace(v), filepath.Base(filepath.Dir(f)), ErrCapsRemain)
			}
		}
	}
	return nil
}
