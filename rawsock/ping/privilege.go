package ping

import (
	"fmt"

	"github.com/rawsock/rawsock/internal/privdrop"
)

// Nobody is the uid and gid root becomes when SUDO_UID and SUDO_GID do not
// name the invoking user.
const Nobody = privdrop.Nobody

// ErrCapsRemain matches the error DropPrivileges returns when it cleared
// the capabilities of the calling thread but some other thread of the
// process still holds some: see DropPrivileges.
var ErrCapsRemain = privdrop.ErrCapsRemain

// DropPrivileges gives up what opening a raw socket took, as iputils does
// once its socket is open and before it sends: run it between New and Run.
// It changes the whole process, so the Pinger never does it on its own.
//
// As root (real or effective uid 0) it becomes the invoking user, SUDO_UID
// and SUDO_GID when sudo set them (and they are not 0), else nobody
// (65534), and in every case it clears all capabilities on every thread.
// A binary that links cgo can clear only the calling thread's: if another
// thread still holds one (a setcap'd binary run by a user), the error
// matches ErrCapsRemain; build such a binary with CGO_ENABLED=0. The
// rawsock commands share this step (ping, traceroute and send).
func DropPrivileges() error {
	if err := privdrop.Drop(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}
