//go:build !linux

package capture_test

import (
	"runtime"
	"testing"

	"github.com/rawsock/rawsock/rawsock/capture"
)

func TestOpenNotImplemented(t *testing.T) {
	_, err := capture.Open(capture.Config{Interface: "lo"})
	if err == nil || err.Error() != "capture: not implemented on "+runtime.GOOS {
		t.Fatalf("Open: %v, want capture: not implemented on %s", err, runtime.GOOS)
	}
}
