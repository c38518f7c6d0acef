package packet

// IPv4 (RFC 791 section 3.1) and TCP (RFC 9293 section 3.1) options share one
// layout: kind 0 ends the list, kind 1 is a one-byte no-op, every other kind
// is followed by a length byte counting kind and length (so at least 2).

const (
	optEnd = 0 // end of option list
	optNop = 1 // no operation (padding)
)

// nextOption returns the option at the start of opts: its kind and total
// length. n is 0 when the list ends (kind 0, or no bytes left), and negative
// when the length byte is missing, below 2, or runs past opts.
func nextOption(opts []byte) (kind byte, n int) {
	if len(opts) == 0 || opts[0] == optEnd {
		return optEnd, 0
	}
	if opts[0] == optNop {
		return optNop, 1
	}
	if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
		return opts[0], -1
	}
	return opts[0], int(opts[1])
}

// checkOptions reports the first option in opts whose length is missing or
// lies. Bytes after an end-of-list option are padding and not checked.
func checkOptions(layer string, opts []byte) error {
	for off := 0; off < len(opts); {
		kind, n := nextOption(opts[off:])
		switch {
		case n == 0:
			return nil
		case n < 0:
			return errorf(ErrMalformed, "%s: option kind %d at option offset %d has a bad length", layer, kind, off)
		}
		off += n
	}
	return nil
}
