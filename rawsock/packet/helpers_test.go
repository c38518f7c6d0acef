package packet

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

var (
	addrA4 = netip.MustParseAddr("192.0.2.1")
	addrB4 = netip.MustParseAddr("198.51.100.7")
	addrA6 = netip.MustParseAddr("2001:db8::1")
	addrB6 = netip.MustParseAddr("2001:db8::2")
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// modified returns a copy of b changed by f.
func modified(b []byte, f func(b []byte)) []byte {
	c := append([]byte(nil), b...)
	f(c)
	return c
}

// parseCase is bad input and the kind of error its parse must return.
type parseCase struct {
	name string
	b    []byte
	kind error
}

// checkParseErrors runs parse on each case and checks the error's kind.
func checkParseErrors(t *testing.T, cases []parseCase, parse func(b []byte) ([]byte, error)) {
	t.Helper()
	for _, c := range cases {
		p, err := parse(c.b)
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: Parse(%x) = %x, %v; want an error matching %v", c.name, c.b, p, err, c.kind)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
}
