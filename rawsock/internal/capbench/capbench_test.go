package capbench

import "testing"

func TestParseSummary(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Summary
		ok   bool
	}{
		{"listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n4 packets captured\n8 packets received by filter\n0 packets dropped by kernel\n", Summary{Captured: 4, Received: 8}, true},
		{"1 packet captured\n4 packets received by filter\n1 packet dropped by kernel\n", Summary{Captured: 1, Received: 4, Dropped: 1}, true},
		{"tcpdump: lo: No such device exists\n", Summary{}, false},
		{"4 packets captured\n8 packets received by filter\n", Summary{}, false},
	} {
		got, err := ParseSummary(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSummary(%q) = %+v, %v; want %+v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
