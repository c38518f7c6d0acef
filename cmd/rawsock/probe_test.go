package main

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// rawErr probes for CAP_NET_RAW the way rawsock's socktest does (which cmd
// cannot import): nil when a raw socket opens.
func rawErr() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// echoIgnored says whether net.ipv4.icmp_echo_ignore_all is set: then this
// kernel answers no echo request.
func echoIgnored() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/icmp_echo_ignore_all")
	return err == nil && strings.TrimSpace(string(b)) != "0"
}
