package echo_test

import (
	"os"
	"runtime"
	"testing"
)

// TestMain gives the process the second P the epoll engine wants (see
// ServerConfig.Loop): the library leaves GOMAXPROCS to its caller, and
// here the tests are the caller.
func TestMain(m *testing.M) {
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	os.Exit(m.Run())
}
