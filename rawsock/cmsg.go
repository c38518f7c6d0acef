package rawsock

import (
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
// still an error, never an out-of-range read.
func ParseControlMessages(oob []byte) ([]ControlMessage, error) {
	var out []ControlMessage
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return out, fmt.Errorf("rawsock: malformed control message at byte %d: %w", len(oob), err)
		}
		out = append(out, ControlMessage{Level: int(h.Level), Type: int(h.Type), Data: data})
		oob = rest
	}
	return out, nil
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
