package rawsock_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// pingAllowed reports whether net.ipv4.ping_group_range admits one of this
// process's groups, which decides whether an ICMP datagram socket opens.
func pingAllowed(t *testing.T) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Logf("no ping_group_range: %v", err)
		return false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		t.Fatalf("ping_group_range reads %q", b)
	}
	lo, _ := strconv.Atoi(f[0])
	hi, _ := strconv.Atoi(f[1])
	groups, _ := os.Getgroups()
	for _, g := range append(groups, os.Getegid()) {
		if lo <= g && g <= hi {
			return true
		}
	}
	return false
}

// TestSocketMatrix opens family x type x protocol triples and checks each
// outcome against what Linux does: success, or the errno the kernel gives.
// Rows that need CAP_NET_RAW expect success with it and EPERM without it
// (the kernel checks the type and protocol first for some, so those rows
// give the same errno either way).
func TestSocketMatrix(t *testing.T) {
	raw := socktest.RawErr() == nil
	if !raw {
		t.Logf("no CAP_NET_RAW (%v): raw and packet rows expect the kernel's EPERM", socktest.RawErr())
	}
	var ping unix.Errno
	if !pingAllowed(t) {
		ping = unix.EACCES
	}
	ethAll := int(rawsock.Htons(unix.ETH_P_ALL))
	type row struct {
		family, typ, proto int
		want, wantNoRaw    unix.Errno // with CAP_NET_RAW, without
	}
	// always: the same outcome with or without CAP_NET_RAW; needsRaw: this
	// outcome with it, EPERM without.
	always := func(f, t, p int, e unix.Errno) row { return row{f, t, p, e, e} }
	needsRaw := func(f, t, p int, e unix.Errno) row { return row{f, t, p, e, unix.EPERM} }
	rows := []row{
		always(unix.AF_INET, unix.SOCK_STREAM, 0, 0),
		always(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, 0),
		always(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_UDP, unix.EPROTONOSUPPORT),
		always(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP, unix.EPROTONOSUPPORT),
		always(unix.AF_INET, unix.SOCK_DGRAM, 0, 0),
		always(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP, 0),
		always(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_TCP, unix.EPROTONOSUPPORT),
		always(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP, ping),
		always(unix.AF_INET, unix.SOCK_SEQPACKET, 0, unix.ESOCKTNOSUPPORT),
		always(unix.AF_INET, unix.SOCK_SEQPACKET, unix.IPPROTO_SCTP, unix.ESOCKTNOSUPPORT),
		always(unix.AF_INET, unix.SOCK_RAW, 0, unix.EPROTONOSUPPORT),
		needsRaw(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP, 0),
		needsRaw(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP, 0),
		needsRaw(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW, 0),
		always(unix.AF_INET, unix.SOCK_RDM, 0, unix.ESOCKTNOSUPPORT),

		always(unix.AF_INET6, unix.SOCK_STREAM, 0, 0),
		always(unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_TCP, 0),
		always(unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_SCTP, unix.EPROTONOSUPPORT),
		always(unix.AF_INET6, unix.SOCK_DGRAM, 0, 0),
		always(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6, ping),
		always(unix.AF_INET6, unix.SOCK_SEQPACKET, 0, unix.ESOCKTNOSUPPORT),
		always(unix.AF_INET6, unix.SOCK_RAW, 0, unix.EPROTONOSUPPORT),
		needsRaw(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6, 0),
		always(unix.AF_INET6, unix.SOCK_RDM, 0, unix.ESOCKTNOSUPPORT),

		always(unix.AF_UNIX, unix.SOCK_STREAM, 0, 0),
		always(unix.AF_UNIX, unix.SOCK_DGRAM, 0, 0),
		always(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0, 0),
		always(unix.AF_UNIX, unix.SOCK_RAW, 0, 0), // unix(7): taken as SOCK_DGRAM
		always(unix.AF_UNIX, unix.SOCK_RDM, 0, unix.ESOCKTNOSUPPORT),
		always(unix.AF_UNIX, unix.SOCK_STREAM, unix.IPPROTO_TCP, unix.EPROTONOSUPPORT),

		// packet(7) checks the capability before the type.
		needsRaw(unix.AF_PACKET, unix.SOCK_RAW, ethAll, 0),
		needsRaw(unix.AF_PACKET, unix.SOCK_DGRAM, ethAll, 0),
		needsRaw(unix.AF_PACKET, unix.SOCK_STREAM, ethAll, unix.ESOCKTNOSUPPORT),
		needsRaw(unix.AF_PACKET, unix.SOCK_SEQPACKET, ethAll, unix.ESOCKTNOSUPPORT),
		needsRaw(unix.AF_PACKET, unix.SOCK_RDM, ethAll, unix.ESOCKTNOSUPPORT),
	}
	for _, r := range rows {
		name := rawsock.FamilyName(r.family) + "," + rawsock.TypeName(r.typ) + "," + rawsock.ProtoName(r.family, r.proto)
		t.Run(name, func(t *testing.T) {
			want := r.want
			if !raw {
				want = r.wantNoRaw
			}
			c, err := rawsock.Socket(r.family, r.typ, r.proto)
			if r.family == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
				t.Skipf("no IPv6 in this kernel: %v", err)
			}
			if err == nil && r.proto == unix.IPPROTO_SCTP {
				// The kernel loaded its sctp module for the call.
				c.Close()
				t.Skip("this kernel has SCTP: the row expects a kernel without it")
			}
			if err == nil {
				defer c.Close()
				if c.Family() != r.family || c.Type() != r.typ || c.Proto() != r.proto {
					t.Errorf("Conn says %d/%d/%d", c.Family(), c.Type(), c.Proto())
				}
			}
			var got unix.Errno
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("error %v carries no errno", err)
			}
			if got != want {
				t.Fatalf("got %v, want %s", err, errName(want))
			}
			if err != nil && !strings.HasPrefix(err.Error(), "socket(") {
				t.Errorf("error %q does not name the triple", err)
			}
			if got == unix.EPERM && !strings.Contains(err.Error(), "CAP_NET_RAW") {
				t.Errorf("refusal %q does not say which privilege is missing", err)
			}
		})
	}
}

func errName(e unix.Errno) string {
	if e == 0 {
		return "success"
	}
	return unix.ErrnoName(e)
}
