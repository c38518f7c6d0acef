package netns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// nsID names a network namespace by the device and inode of its nsfs file,
// the identity stat(2) reports for /proc/PID/ns/net and /run/netns/NAME.
type nsID struct{ dev, ino uint64 }

// openNS opens a namespace file and returns its fd and identity.
func openNS(path string) (int, nsID, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, nsID{}, fmt.Errorf("open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nsID{}, os.NewSyscallError("fstat", err)
	}
	return fd, nsID{uint64(st.Dev), st.Ino}, nil
}

func closeFD(fd int) { unix.Close(fd) }

// statNS returns the identity of the namespace file at path.
func statNS(path string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, err
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

// setns moves the calling thread into the network namespace fd.
func setns(fd int) error {
	return os.NewSyscallError("setns", unix.Setns(fd, unix.CLONE_NEWNET))
}

// goLocked runs fn on a new goroutine locked to an OS thread that exits
// with it, so whatever fn does to the thread (setns, unshare) never reaches
// another goroutine. The main thread is avoided: the runtime cannot end it,
// so it would sit in the namespace for good, and with it everything that
// reads /proc/self/net or /proc/net (the thread group leader's view).
func goLocked(fn func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Hold the main thread until fn's goroutine has a thread
			// of its own, then give it back unchanged.
			started := make(chan struct{})
			goLocked(func() { close(started); fn() })
			<-started
			runtime.UnlockOSThread()
			return
		}
		fn() // no UnlockOSThread: the thread dies with this goroutine
	}()
}

// probeUnshare proves that this process may make network namespaces, on a
// throwaway thread.
func probeUnshare() error {
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("kernel without network namespaces (CONFIG_NET_NS): %v", err)
	}
	c := make(chan error, 1)
	goLocked(func() { c <- unix.Unshare(unix.CLONE_NEWNET) })
	switch err := <-c; {
	case err == nil:
		return nil
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("unshare(CLONE_NEWNET): %v: network namespace tests need root or CAP_SYS_ADMIN", err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("unshare(CLONE_NEWNET): %v: kernel without network namespaces", err)
	default:
		return os.NewSyscallError("unshare(CLONE_NEWNET)", err)
	}
}

// removeNS does what "ip netns delete" does: detach the bind mount that keeps
// the namespace alive, then remove the file. Either being gone already is fine.
func removeNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("umount2 %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// linkUp sets IFF_UP on the interface name in the calling thread's namespace.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCGIFFLAGS "+name+")", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("ioctl(SIOCSIFFLAGS "+name+")", err)
	}
	return nil
}

// pidAlive reports whether a process with this pid exists (EPERM means it
// does, but belongs to someone else).
func pidAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// procsIn lists the processes (not zombies: they have left every namespace)
// whose network namespace is one of ids, skipping this process.
func procsIn(ids map[nsID]bool) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	self := os.Getpid()
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		if id, err := statNS("/proc/" + n + "/ns/net"); err == nil && ids[id] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killIn sends SIGKILL to every process inside the namespaces ids and waits
// up to wait for them to leave. A pidfd pins each process, and its namespace
// is checked again through the pinned pid, so a pid reused meanwhile by an
// unrelated process is never signalled. It returns the pids it killed and
// those still there at the deadline.
func killIn(ids map[nsID]bool, wait time.Duration) (killed, left []int) {
	if len(ids) == 0 {
		return nil, nil
	}
	seen := map[int]bool{}
	deadline := time.Now().Add(wait)
	for {
		pids := procsIn(ids)
		if len(pids) == 0 {
			return killed, nil
		}
		if time.Now().After(deadline) {
			return killed, pids
		}
		for _, pid := range pids {
			if seen[pid] {
				continue
			}
			pfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				continue // gone already
			}
			if id, err := statNS("/proc/" + strconv.Itoa(pid) + "/ns/net"); err == nil && ids[id] {
				if unix.PidfdSendSignal(pfd, unix.SIGKILL, nil, 0) == nil {
					seen[pid] = true
					killed = append(killed, pid)
				}
			}
			unix.Close(pfd)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ifOperUp is IF_OPER_UP of RFC 2863 operstate (linux/if.h).
const ifOperUp = 6

// linkActive reports whether the interface with this index, in the calling
// thread's namespace, is operationally up with its qdisc attached. Both are
// done by linkwatch, a work queue, for the end of a veth pair that came up
// before its peer: until then that end drops what it is given to send, and
// on a busy machine (namespace teardown holds RTNL) that can take seconds.
func linkActive(index int) (bool, error) {
	tab, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return false, os.NewSyscallError("netlink RTM_GETLINK", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(tab)
	if err != nil {
		return false, fmt.Errorf("netlink RTM_GETLINK: %v", err)
	}
	for i := range msgs {
		m := &msgs[i]
		// struct ifinfomsg: family, pad, type (16 bits), index (32 bits), ...
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg ||
			int(int32(binary.NativeEndian.Uint32(m.Data[4:8]))) != index {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return false, fmt.Errorf("netlink RTM_GETLINK: %v", err)
		}
		var oper byte
		var qdisc string
		for _, a := range attrs {
			switch {
			case a.Attr.Type == unix.IFLA_OPERSTATE && len(a.Value) > 0:
				oper = a.Value[0]
			case a.Attr.Type == unix.IFLA_QDISC:
				qdisc = string(bytes.TrimRight(a.Value, "\x00"))
			}
		}
		return oper == ifOperUp && qdisc != "" && qdisc != "noop", nil
	}
	return false, fmt.Errorf("no interface with index %d", index)
}
