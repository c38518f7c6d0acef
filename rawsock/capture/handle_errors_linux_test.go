package capture_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rawsock/rawsock/internal/socktest"
	"github.com/rawsock/rawsock/rawsock/capture"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestOpenErrors: bad input gives one line naming the cause, and leaks no
// fd (the error paths close the socket and unmap the ring).
func TestOpenErrors(t *testing.T) {
	ns := captureHost(t)
	tests := []struct {
		name string
		cfg  capture.Config
		want string
		is   error
	}{
		{"unknown interface", capture.Config{Interface: "nosuch0"}, `capture: interface "nosuch0": no such network interface`, unix.ENODEV},
		{"long name", capture.Config{Interface: "averyveryverylongname"}, `capture: interface "averyveryverylongname": name longer than 15 bytes`, nil},
		{"promiscuous everywhere", capture.Config{Promiscuous: true}, "capture: promiscuous mode needs an interface: it is set per interface", nil},
		{"negative snaplen", capture.Config{Snaplen: -1}, "capture: negative Snaplen, RingBlockSize, RingBlocks or RingTimeout", nil},
		{"block not pages", capture.Config{RingBlockSize: 5000}, "capture: ring block size 5000 is not a multiple of the page size 4096", nil},
		{"empty filter", capture.Config{Filter: []bpf.RawInstruction{}}, "capture: filter of 0 instructions: the kernel takes 1 to 4096", nil},
		{"refused filter", capture.Config{Filter: jumpPastEnd}, "capture: attach filter: setsockopt: invalid argument (the kernel's checker refused the program)", unix.EINVAL},
		{"block size past uint32", capture.Config{RingBlockSize: 1 << 32, RingBlocks: 8}, "capture: ring of 8 blocks of 4294967296 bytes, timeout 0s: past struct tpacket_req3's fields", nil},
		{"ring too large", capture.Config{RingBlockSize: 1 << 30, RingBlocks: 1 << 20}, "capture: PACKET_RX_RING of 1048576 blocks of 1073741824 bytes: setsockopt: ", nil},
	}
	before := socktest.FDCount(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ns.Do(func() error {
				h, err := capture.Open(tt.cfg)
				if err == nil {
					h.Close()
				}
				return err
			})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Open: %v\nwant one line starting %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open: %v does not match %v", err, tt.is)
			}
		})
	}
	if after := socktest.FDCount(t); after != before {
		t.Errorf("%d fds open before the failed Opens, %d after", before, after)
	}
}

// TestNoFDLeak: Open and Close leave no fd behind, and Close twice is
// harmless.
func TestNoFDLeak(t *testing.T) {
	ns := captureHost(t)
	before := socktest.FDCount(t)
	for range 20 {
		err := ns.Do(func() error {
			h, err := capture.Open(capture.Config{Interface: "lo", RingBlockSize: 1 << 16, RingBlocks: 2})
			if err != nil {
				return err
			}
			if err := h.Close(); err != nil {
				return err
			}
			return h.Close()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if after := socktest.FDCount(t); after != before {
		t.Errorf("%d fds open before 20 Open+Close, %d after", before, after)
	}
}
