package rawsock

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// ControlMessage is one ancillary message of a Recvmsg's oob bytes: its
// level, its type and its data, which aliases the caller's buffer.
type ControlMessage struct {
	Level int
	Type  int
	Data  []byte
}

// ParseControlMessages splits the oob bytes Recvmsg returned (oob[:oobn])
// into messages. The input comes from the kernel, but a lying length is
// still an error, never an out-of-range read: the header is decoded from
// the bytes with bounds checks, not cast, so oob may be short or
// misaligned.
func ParseControlMessages(oob []byte) ([]ControlMessage, error) {
	var out []ControlMessage
	hdr := unix.CmsgLen(0) // the header, aligned: where the data starts
	for off := 0; off < len(oob); {
		rest := oob[off:]
		if len(rest) < unix.SizeofCmsghdr {
			return out, fmt.Errorf("rawsock: malformed control message at byte %d: %d bytes, less than a cmsghdr", off, len(rest))
		}
		n := cmsgLen(rest)
		if n < uint64(hdr) || n > uint64(len(rest)) {
			return out, fmt.Errorf("rawsock: malformed control message at byte %d: cmsg_len %d outside [%d, %d]", off, n, hdr, len(rest))
		}
		l := cmsgLenSize
		out = append(out, ControlMessage{
			Level: int(int32(binary.NativeEndian.Uint32(rest[l:]))),
			Type:  int(int32(binary.NativeEndian.Uint32(rest[l+4:]))),
			Data:  rest[hdr:n],
		})
		// The next message starts at CMSG_ALIGN(cmsg_len).
		off += unix.CmsgSpace(int(n)-hdr) - unix.CmsgSpace(0) + hdr
	}
	return out, nil
}

// cmsgLenSize is the size of cmsg_len, a size_t on Linux and a uint32
// elsewhere; cmsg_level and cmsg_type, two ints, follow it.
const cmsgLenSize = unix.SizeofCmsghdr - 8

func cmsgLen(b []byte) uint64 {
	if cmsgLenSize == 8 {
		return binary.NativeEndian.Uint64(b)
	}
	return uint64(binary.NativeEndian.Uint32(b))
}

// CmsgSpace returns the oob buffer size that holds one message of n data
// bytes, as CMSG_SPACE(3).
func CmsgSpace(n int) int { return unix.CmsgSpace(n) }

// UnixRights builds an SCM_RIGHTS message carrying fds, for Sendmsg over
// AF_UNIX.
func UnixRights(fds ...int) []byte { return unix.UnixRights(fds...) }

// String names the message: "SOL_SOCKET/SCM_RIGHTS (8 bytes)".
func (m ControlMessage) String() string {
	return fmt.Sprintf("%s/%s (%d bytes)", LevelName(m.Level), cmsgTypeName(m.Level, m.Type), len(m.Data))
}
