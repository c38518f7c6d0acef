package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/rawsock/capture"
	"github.com/rawsock/rawsock/rawsock/internal/socktest"
	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a child that opens a capture and prints
// the outcome: TestUnprivileged runs it as nobody.
const childEnv = "CAPTURE_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		_, err := capture.Open(capture.Config{Interface: "lo"})
		fmt.Printf("eperm=%v %v\n", errors.Is(err, unix.EPERM), err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestUnprivileged: without CAP_NET_RAW, Open fails with the core's hint
// on how to grant it, and the error matches EPERM.
func TestUnprivileged(t *testing.T) {
	cmd := socktest.NobodyCommand(t, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	got := strings.TrimSpace(out.String())
	if !strings.HasPrefix(got, "eperm=true socket(AF_PACKET, SOCK_RAW, 0): operation not permitted (AF_PACKET sockets need CAP_NET_RAW") || strings.Count(got, "\n") != 0 {
		t.Errorf("as nobody, Open says %q; want one line with EPERM and the CAP_NET_RAW hint", got)
	}
}
