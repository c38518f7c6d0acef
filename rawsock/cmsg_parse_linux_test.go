package rawsock_test

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// TestParseControlMessagesShort: input shorter than a cmsghdr, or not
// aligned, is decoded with bounds checks, never cast to a header (under
// -race, checkptr made that cast fatal).
func TestParseControlMessagesShort(t *testing.T) {
	rights := rawsock.UnixRights(7)
	misaligned := make([]byte, len(rights)+1)
	copy(misaligned[1:], rights)
	for _, tc := range []struct {
		name string
		oob  []byte
		ok   bool
	}{
		{"1 byte", []byte{1}, false},
		{"4 bytes", make([]byte, 4), false},
		{"header less 1", make([]byte, unix.CmsgLen(0)-1), false},
		{"header, length 0", make([]byte, unix.CmsgLen(0)), false},
		{"SCM_RIGHTS, misaligned", misaligned[1:], true},
		{"SCM_RIGHTS then 3 bytes", append(append([]byte{}, rights...), 1, 2, 3), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An exact-size copy: a longer backing array would hide the
			// overrun from checkptr.
			oob := bytes.Clone(tc.oob)
			msgs, err := rawsock.ParseControlMessages(oob)
			if (err == nil) != tc.ok {
				t.Fatalf("%d bytes: %v, %v; want ok=%v", len(oob), msgs, err, tc.ok)
			}
			if tc.ok {
				if len(msgs) != 1 {
					t.Fatalf("%d messages, want 1", len(msgs))
				}
				if fds, err := msgs[0].Rights(); err != nil || len(fds) != 1 || fds[0] != 7 {
					t.Errorf("Rights: %v, %v", fds, err)
				}
			}
		})
	}
}

// FuzzParseControlMessages: any input parses or fails without a panic;
// what parses is rebuilt into the same messages, and every decoder runs on
// it.
func FuzzParseControlMessages(f *testing.F) {
	f.Add(rawsock.UnixRights(1, 2))
	f.Add(rawsock.TTLCmsg(64))
	f.Add(append(rawsock.TTLCmsg(1), rawsock.UnixRights(3)...))
	f.Add([]byte{})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, oob []byte) {
		msgs, err := rawsock.ParseControlMessages(oob)
		if err != nil {
			return
		}
		var again []byte
		for _, m := range msgs {
			m.Rights()
			m.TTL()
			m.Pktinfo()
			m.Timestamp()
			_ = m.String()
			again = append(again, cmsg(m.Level, m.Type, m.Data)...)
		}
		msgs2, err := rawsock.ParseControlMessages(again)
		if err != nil {
			t.Fatalf("rebuilt %x: %v", again, err)
		}
		if len(msgs2) != len(msgs) {
			t.Fatalf("%d messages, %d rebuilt", len(msgs), len(msgs2))
		}
		for i := range msgs {
			a, b := msgs[i], msgs2[i]
			if a.Level != b.Level || a.Type != b.Type || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("message %d: %v, rebuilt %v", i, a, b)
			}
		}
	})
}

// cmsg builds one message as the kernel lays it out, padding included.
func cmsg(level, typ int, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := unix.Cmsghdr{Level: int32(level), Type: int32(typ)}
	h.SetLen(unix.CmsgLen(len(data)))
	hb := (*[unix.SizeofCmsghdr]byte)(unsafe.Pointer(&h))
	copy(b, hb[:])
	copy(b[unix.CmsgLen(0):], data)
	return b
}
