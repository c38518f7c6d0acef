// Package privdrop gives up what opening a raw socket took: root and every
// capability, as iputils ping does once its socket is open and before it
// sends. The rawsock commands that open privileged sockets (ping,
// traceroute, send) call Drop after opening them and before their first
// packet; the sockets stay usable, since the kernel checks privilege when a
// socket is created, not when it is used.
//
// Drop changes the whole process (its uid, gid and every thread's
// capabilities), so only a command calls it: the libraries under rawsock/
// never do on their own (ping.DropPrivileges is the library caller's
// explicit request). It lives in the module root's internal/, not under
// rawsock/internal/, because Go's internal rule lets cmd/rawsock import
// only the former.
//
// Read capabilities(7), setgroups(2), setuid(2), capset(2) and ping(8).
package privdrop

import "errors"

// Nobody is the uid and gid root becomes when SUDO_UID and SUDO_GID do not
// name the invoking user.
const Nobody = 65534

// ErrCapsRemain matches the error Drop returns when it cleared the
// capabilities of the calling thread but some other thread of the process
// still holds some: see Drop.
var ErrCapsRemain = errors.New("capabilities remain on other threads")
