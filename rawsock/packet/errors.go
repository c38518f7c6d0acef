package packet

import (
	"errors"
	"fmt"
)

// Errors that parse and verify failures match with errors.Is. Each returned
// error is one line naming the layer and the cause, for example
// "ipv4: total length 1500 exceeds the 84 bytes present: packet truncated".
var (
	// ErrTruncated: fewer bytes than the header or a length field says.
	ErrTruncated = errors.New("packet truncated")
	// ErrMalformed: a field holds a value the protocol does not allow.
	ErrMalformed = errors.New("malformed packet")
	// ErrChecksum: a checksum does not match the bytes.
	ErrChecksum = errors.New("bad checksum")
)

// errorf builds a one-line error ending in kind, so errors.Is(err, kind)
// holds. Only error paths call it, so its allocation stays off the hot path.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, kind)...)
}
