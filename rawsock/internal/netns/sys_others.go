//go:build !linux

package netns

import (
	"errors"
	"time"
)

var errUnsupported = errors.New("network namespaces are Linux-only")

type nsID struct{ dev, ino uint64 }

func openNS(string) (int, nsID, error)                 { return -1, nsID{}, errUnsupported }
func goLocked(fn func())                               { go fn() }
func closeFD(int)                                      {}
func statNS(string) (nsID, error)                      { return nsID{}, errUnsupported }
func setns(int) error                                  { return errUnsupported }
func probeUnshare() error                              { return errUnsupported }
func removeNS(string) error                            { return errUnsupported }
func linkActive(int) (bool, error)                     { return false, errUnsupported }
func linkUp(string) error                              { return errUnsupported }
func pidAlive(int) bool                                { return false }
func procsIn(map[nsID]bool) []int                      { return nil }
func killIn(map[nsID]bool, time.Duration) (k, l []int) { return nil, nil }
