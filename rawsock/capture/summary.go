package capture

import (
	"fmt"
	"io"
)

// WriteSummary writes the three lines tcpdump prints when a live capture
// ends (tcpdump.c's info(), PLURAL_SUFFIX: "1 packet", "0 packets"):
//
//	4 packets captured
//	8 packets received by filter
//	0 packets dropped by kernel
//
// captured is what the loop kept (Loop.Captured); st the kernel's running
// totals (Handle.Stats). On loopback "received by filter" counts both
// copies of each packet, as libpcap's does, since the kernel counts the
// outgoing copy the loop skips.
func WriteSummary(w io.Writer, captured uint64, st Stats) error {
	_, err := fmt.Fprintf(w, "%d packet%s captured\n%d packet%s received by filter\n%d packet%s dropped by kernel\n",
		captured, plural(captured), st.Packets, plural(st.Packets), st.Drops, plural(st.Drops))
	return err
}

func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
