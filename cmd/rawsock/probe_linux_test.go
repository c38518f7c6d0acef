package main

import (
	"os"
	"strings"
)

// echoIgnored says whether net.ipv4.icmp_echo_ignore_all is set: then this
// kernel answers no echo request.
func echoIgnored() bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/icmp_echo_ignore_all")
	return err == nil && strings.TrimSpace(string(b)) != "0"
}
