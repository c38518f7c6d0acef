package netns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Sweep removes the namespaces that an earlier, killed test process left in
// /run/netns: those named with Prefix whose pid no longer exists, or is this
// process's own pid but a name this process did not make (the pid was
// reused). It first kills any process still inside them. Namespaces of
// running test processes, and every name without Prefix, are left alone.
// It returns the names removed. New calls it once per process.
func Sweep() ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var stale []string
	ids := map[nsID]bool{}
	for _, e := range ents {
		name := e.Name()
		pid, ok := namePID(name)
		if !ok {
			continue
		}
		if pid == self && isLive(name) || pid != self && pidAlive(pid) {
			continue
		}
		stale = append(stale, name)
		if id, err := statNS(nsPath(name)); err == nil {
			ids[id] = true
		}
	}
	if len(stale) == 0 {
		return nil, nil
	}
	var errs []error
	if _, left := killIn(ids, 5*time.Second); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes %v still inside stale namespaces after SIGKILL", left))
	}
	var removed []string
	for _, name := range stale {
		if err := removeNS(nsPath(name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

// namePID returns the pid in a name of the form Prefix+"PID-SEQ-LABEL".
func namePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	p, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	if _, _, ok := strings.Cut(rest, "-"); !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}
