package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/rawsock/rawsock/internal/privdrop"
)

// dropPrivileges is privdrop.Drop: ping, traceroute and send call it once
// their sockets are open and before their first packet. The tests that
// run a command inside the test process set it to nothing (TestMain), so
// that the test binary itself stays root; the tests that run it as a
// child process keep it.
var dropPrivileges = privdrop.Drop

// dropPrivilegesOrExit gives up root and capabilities; prefix names the
// command in its messages ("ping: ", "rawsock send: "). It returns false
// when the drop failed and the command must exit 2; capabilities left on
// other threads of a cgo build are only a warning, as the socket is open
// and the command can go on.
func dropPrivilegesOrExit(prefix string, stderr io.Writer) bool {
	err := dropPrivileges()
	switch {
	case err == nil:
		return true
	case errors.Is(err, privdrop.ErrCapsRemain):
		fmt.Fprintf(stderr, "%swarning: %v\n", prefix, err)
		return true
	}
	fmt.Fprintf(stderr, "%s%v\n", prefix, err)
	return false
}
