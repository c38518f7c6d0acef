package capture

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzPrint feeds any frame to the Printer, in both modes and with any
// length on the wire. It must not panic, and it prints one line per frame
// (continued only by tab-indented hex lines) that starts with the time.
func FuzzPrint(f *testing.F) {
	for _, c := range printCorpus(f) {
		f.Add(c.frame, uint16(c.wire))
	}
	var out bytes.Buffer
	plain := Printer{W: &out, Location: time.UTC}
	hex := Printer{W: &out, Hex: true, Location: time.UTC}
	f.Fuzz(func(t *testing.T, frame []byte, wire uint16) {
		ci := CaptureInfo{Timestamp: corpusStart, Length: int(wire)}
		for _, p := range []*Printer{&plain, &hex} {
			out.Reset()
			if err := p.Print(ci, frame); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			if !strings.HasPrefix(s, "07:00:00.123456 ") || !strings.HasSuffix(s, "\n") {
				t.Fatalf("printed %q", s)
			}
			for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n")[1:] {
				if !strings.HasPrefix(l, "\t0x") {
					t.Fatalf("printed %q: a second line that is not hex", s)
				}
			}
		}
	})
}
