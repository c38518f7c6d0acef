package echo

import (
	"strings"
	"testing"
)

const st = "Tue Sep 13 19:11:20 2016" // a stamp, for building answers

// TestFramer feeds answers byte by byte and whole, and checks where the
// framer says they are complete, including data that looks like a stamp.
func TestFramer(t *testing.T) {
	for _, tc := range []struct {
		name, msg, answer string
		err               string // substring; "" for a complete answer
		maybe             bool   // complete, but could be a stamp's start
	}{
		{"one chunk", "hello", st + "hello", "", false},
		{"two chunks", "hello", st + "hel" + st + "lo", "", false},
		{"capital data", "Tuesday", st + "Tuesday", "", false},
		{"capital chunks", "TTT", st + "T" + st + "T" + st + "T", "", false},
		{"short capital", "Test", st + "Test", "", false},
		{"stamp as data", st + "!", st + st + "!", "", false},
		{"stamp as data, split", st + "!", st + st[:5] + st + st[5:] + "!", "", false},
		{"data ends like a stamp", "xxTue", st + "xxTue", "", true},
		{"data ends like a stamp, then one", "xxTue", st + "xx" + st + "Tue", "", false},
		{"no stamp", "hello", "hello" + strings.Repeat(" ", 24), "does not start with a ctime", false},
		{"wrong data", "hello", st + "help!", "differs from the message at data byte 3", false},
		{"empty chunk", "hi", st + st + "hi", "differs", false},
		{"extra bytes", "hi", st + "hi" + "!", "bytes after the whole answer", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bytewise := range []bool{false, true} {
				f := framer{want: []byte(tc.msg)}
				var done bool
				var err error
				steps := []int{len(tc.answer)}
				if bytewise {
					steps = steps[:0]
					for i := 1; i <= len(tc.answer); i++ {
						steps = append(steps, i)
					}
				}
				for _, n := range steps {
					if done, err = f.feed([]byte(tc.answer[:n])); err != nil {
						break
					}
					if done && n < len(tc.answer) && tc.err == "" {
						t.Fatalf("bytewise %v: done after %d of %d bytes", bytewise, n, len(tc.answer))
					}
				}
				switch {
				case tc.maybe:
					if err != nil || done || !f.maybeDone {
						t.Errorf("bytewise %v: done %v, maybe %v, %v; want maybe", bytewise, done, f.maybeDone, err)
					}
				case tc.err == "" && (err != nil || !done):
					t.Errorf("bytewise %v: done %v, %v; want complete", bytewise, done, err)
				case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
					t.Errorf("bytewise %v: done %v, %v; want an error with %q", bytewise, done, err, tc.err)
				}
			}
		})
	}
}

// FuzzFramer: any answer a server could send for any message, split
// anywhere, is accepted, and every other byte string fed to the framer
// gives an error or "not yet" without a panic.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("hello"), uint8(3), []byte{})
	f.Add([]byte(st+"x"), uint8(1), []byte(st))
	f.Fuzz(func(t *testing.T, msg []byte, cut uint8, junk []byte) {
		if len(msg) == 0 {
			return
		}
		// A server's answer: msg in chunks of cut bytes, each stamped.
		c := int(cut)%len(msg) + 1
		var answer []byte
		for i := 0; i < len(msg); i += c {
			answer = append(answer, st...)
			answer = append(answer, msg[i:min(i+c, len(msg))]...)
		}
		fr := framer{want: msg}
		done, err := fr.feed(answer)
		if err == nil && !done && fr.maybeDone {
			done = true // Exchange's short wait decides this one
		}
		if err != nil || !done {
			// Only data that itself holds stamps can mislead the framer.
			if !strings.Contains(string(msg), "19:11:") {
				t.Fatalf("answer %q for %q: done %v, %v", answer, msg, done, err)
			}
		}
		fr = framer{want: msg}
		fr.feed(junk)
	})
}
