package rawsock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestTypedNilSockaddr: a nil pointer of any Sockaddr type, in the
// interface, is refused with EINVAL naming the call, never a panic.
func TestTypedNilSockaddr(t *testing.T) {
	nils := []unix.Sockaddr{
		(*unix.SockaddrInet4)(nil), (*unix.SockaddrInet6)(nil), (*unix.SockaddrUnix)(nil),
		(*unix.SockaddrLinklayer)(nil), (*unix.SockaddrNetlink)(nil), (*unix.SockaddrHCI)(nil),
		(*unix.SockaddrL2)(nil), (*unix.SockaddrRFCOMM)(nil), (*unix.SockaddrCAN)(nil),
		(*unix.SockaddrCANJ1939)(nil), (*unix.SockaddrALG)(nil), (*unix.SockaddrVM)(nil),
		(*unix.SockaddrXDP)(nil), (*unix.SockaddrPPPoE)(nil), (*unix.SockaddrTIPC)(nil),
		(*unix.SockaddrL2TPIP)(nil), (*unix.SockaddrL2TPIP6)(nil), (*unix.SockaddrIUCV)(nil),
		(*unix.SockaddrNFC)(nil), (*unix.SockaddrNFCLLCP)(nil),
	}
	c := socktest.MustSocket(t, rawsock.AF_INET, rawsock.SOCK_DGRAM, 0)
	ctx := context.Background()
	calls := []struct {
		name string
		call func(sa unix.Sockaddr) error
	}{
		{"bind", c.Bind},
		{"connect", c.Connect},
		{"connect", func(sa unix.Sockaddr) error { return c.ConnectContext(ctx, sa) }},
		{"sendto", func(sa unix.Sockaddr) error { _, err := c.Sendto([]byte("x"), 0, sa); return err }},
		{"sendto", func(sa unix.Sockaddr) error { _, err := c.SendtoContext(ctx, []byte("x"), 0, sa); return err }},
		{"sendmsg", func(sa unix.Sockaddr) error { _, err := c.Sendmsg([]byte("x"), nil, sa, 0); return err }},
	}
	for _, sa := range nils {
		for _, tc := range calls {
			t.Run(fmt.Sprintf("%s/%T", tc.name, sa), func(t *testing.T) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				err := tc.call(sa)
				if !errors.Is(err, unix.EINVAL) || !strings.HasPrefix(err.Error(), tc.name+": ") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want a one-line %q error matching EINVAL", err, tc.name+": ...")
				}
			})
		}
	}
}
