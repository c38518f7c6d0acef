//go:build !linux

package echo

// msgNoSignal is Linux's; elsewhere the Go runtime's SIGPIPE handling
// covers sockets that are not stdout.
const msgNoSignal = 0
