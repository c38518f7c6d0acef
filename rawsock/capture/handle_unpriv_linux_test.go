package capture_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/capture"
	"golang.org/x/sys/unix"
)

// unprivChildEnv makes TestUnprivilegedChild the child TestUnprivileged
// runs as nobody: it opens a capture and prints the outcome. (A test
// rather than TestMain, which the package's other test files may want.)
const unprivChildEnv = "CAPTURE_TEST_UNPRIVILEGED_CHILD"

func TestUnprivilegedChild(t *testing.T) {
	if os.Getenv(unprivChildEnv) == "" {
		t.Skip("the child of TestUnprivileged; runs only there")
	}
	_, err := capture.Open(capture.Config{Interface: "lo"})
	fmt.Printf("eperm=%v %v\n", errors.Is(err, unix.EPERM), err)
}

// TestUnprivileged: without CAP_NET_RAW, Open fails with the core's hint
// on how to grant it, and the error matches EPERM.
func TestUnprivileged(t *testing.T) {
	cmd := socktest.NobodyCommand(t, "-test.run=^TestUnprivilegedChild$")
	cmd.Env = append(os.Environ(), unprivChildEnv+"=1")
	out, stderr, code := socktest.RunNobody(t, cmd)
	if code != 0 {
		t.Fatalf("exit status %d: %s%s", code, out, stderr)
	}
	got, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(got, "eperm=true socket(AF_PACKET, SOCK_RAW, 0): operation not permitted (AF_PACKET sockets need CAP_NET_RAW") {
		t.Errorf("as nobody, Open says %q; want EPERM and the CAP_NET_RAW hint", got)
	}
}
