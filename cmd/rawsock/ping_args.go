package main

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rawsock/rawsock/rawsock/ping"
)

// The ping command line, read as iputils reads it.

// pingOpts are the command line, parsed.
type pingOpts struct {
	count       int
	interval    time.Duration
	intervalSet bool
	size        int
	sizeSet     bool
	ttl         int
	ttlSet      bool
	timeout     time.Duration
	deadline    int
	flood       bool
	quiet       bool
	numeric     bool
	family      int // 0, 4 or 6
	iface       string
	json        bool
	host        string

	preload   int
	adaptive  bool
	pattern   string // the bytes, as a string so that pingOpts compares
	tos       int
	pmtu      ping.PMTUDisc
	id        int
	broadcast bool
	stamps    bool // -D
	pending   bool // -O
	user      bool // -U
	audible   bool
	verbose   bool
	version   bool
}

// pingArgError is a bad command line: the message, the exit status
// iputils gives it (1 for a number out of range, 2 otherwise), and
// whether the usage follows (only for an unknown option, as in iputils).
type pingArgError struct {
	msg   string
	code  int
	usage bool
}

func (e *pingArgError) Error() string { return e.msg }

func argErr(code int, format string, a ...any) error {
	return &pingArgError{msg: fmt.Sprintf(format, a...), code: code}
}

// errUsage asks for the usage text (-h), which iputils ends with status 2.
var errUsage = &pingArgError{code: 2, usage: true}

// pingValueOpts are the options that take a value.
const pingValueOpts = "cisItWwlpQMe"

// parsePingArgs parses args as getopt(3) does for iputils: options may be
// grouped (-qc3), take their value attached or as the next word, and may
// follow the destination; "--" ends them.
func parsePingArgs(args []string) (*pingOpts, error) {
	o := &pingOpts{}
	long := func(a string) error {
		switch a {
		case "--json":
			o.json = true
			return nil
		case "--help":
			return errUsage
		}
		return &pingArgError{msg: fmt.Sprintf("unrecognized option '%s'", a), code: 2, usage: true}
	}
	rest, err := getopt(args, pingValueOpts, "option requires an argument -- '%c'", long, func(c byte, val string) error {
		switch {
		case c == 'h':
			return errUsage
		case strings.IndexByte(pingValueOpts, c) >= 0:
			return o.value(c, val)
		}
		return o.flag(c)
	})
	if err != nil {
		var ae *pingArgError
		if !errors.As(err, &ae) { // getopt's missing value: iputils adds the usage
			return nil, &pingArgError{msg: err.Error(), code: 2, usage: true}
		}
		return nil, err
	}
	if o.version {
		return o, nil
	}
	if len(rest) == 0 {
		return nil, &pingArgError{msg: "usage error: Destination address required", code: 1}
	}
	if len(rest) > 1 {
		return nil, argErr(2, "only one destination, not %q", rest)
	}
	o.host = rest[0]
	return o, nil
}

func (o *pingOpts) flag(c byte) error {
	switch c {
	case 'f':
		o.flood = true
	case 'q':
		o.quiet = true
	case 'n':
		o.numeric = true
	case 'A':
		o.adaptive = true
	case 'b':
		o.broadcast = true
	case 'D':
		o.stamps = true
	case 'O':
		o.pending = true
	case 'U':
		o.user = true
	case 'a':
		o.audible = true
	case 'v':
		o.verbose = true
	case 'V':
		o.version = true
	case '4', '6':
		f := int(c - '0')
		if o.family != 0 && o.family != f {
			return argErr(2, "only one -4 or -6 option may be specified")
		}
		o.family = f
	default:
		return &pingArgError{msg: fmt.Sprintf("invalid option -- '%c'", c), code: 2, usage: true}
	}
	return nil
}

func (o *pingOpts) value(c byte, v string) error {
	var err error
	switch c {
	case 'c':
		o.count, err = intArg(v, 1, math.MaxInt64)
	case 's':
		o.size, err = intArg(v, 0, math.MaxInt32)
		o.sizeSet = true
	case 't':
		o.ttl, err = intArg(v, 0, 255)
		o.ttlSet = true
	case 'w':
		o.deadline, err = intArg(v, 0, math.MaxInt32)
	case 'l':
		o.preload, err = intArg(v, 1, 65536)
	case 'e':
		o.id, err = intArg(v, 0, 0xffff)
	case 'i':
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || f < 0 || f > math.MaxInt32/1000 || math.IsNaN(f) {
			return argErr(2, "bad timing interval: %s", v)
		}
		o.interval, o.intervalSet = time.Duration(f*1000)*time.Millisecond, true
	case 'W':
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || f < 0 || f > math.MaxUint32/1e6 || math.IsNaN(f) {
			return argErr(2, "bad linger time: %s", v)
		}
		o.timeout = time.Duration(f * float64(time.Second))
	case 'I':
		o.iface = v
	case 'p':
		b, perr := parsePattern(v)
		o.pattern = string(b)
		return perr
	case 'Q':
		o.tos, err = parseTOS(v)
	case 'M':
		m, ok := map[string]ping.PMTUDisc{"do": ping.PMTUDiscDo, "want": ping.PMTUDiscWant, "dont": ping.PMTUDiscDont}[v]
		if !ok {
			return argErr(2, "invalid -M argument: %s", v)
		}
		o.pmtu = m
	}
	return err
}

// intArg is iputils' strtol_or_err: a decimal number within [lo, hi], or
// exit status 1.
func intArg(v string, lo, hi int) (int, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, argErr(1, "invalid argument: '%s'", v)
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, argErr(1, "invalid argument: '%s': out of range: %d <= value <= %d", v, lo, hi)
	}
	return int(n), nil
}

// parsePattern reads -p as iputils' fill: hex digits only, taken two at a
// time (a last odd digit is a byte of its own), at most 16 bytes.
func parsePattern(v string) ([]byte, error) {
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			return nil, argErr(2, "patterns must be specified as hex digits: %s", v[i:])
		}
	}
	var b []byte
	for i := 0; i < len(v) && len(b) < 16; i += 2 {
		n, _ := strconv.ParseUint(v[i:min(i+2, len(v))], 16, 8)
		b = append(b, byte(n))
	}
	return b, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// parseTOS is iputils' parsetos: decimal, or hex after 0x, up to 255.
func parseTOS(v string) (int, error) {
	s, base := v, 10
	if len(v) > 1 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		s, base = v[2:], 16
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, argErr(2, "bad TOS value: %s", v)
	}
	if n > 255 || n < 0 || err != nil {
		return 0, argErr(2, "the decimal value of TOS bits must be in range 0-255: %d", n)
	}
	return int(n), nil
}

// config turns the options into the pinger's Config (Dst aside).
func (o *pingOpts) config() ping.Config {
	cfg := ping.Config{Count: o.count, TTL: o.ttl, ZeroTTL: o.ttlSet && o.ttl == 0, Timeout: o.timeout,
		Preload: o.preload, Adaptive: o.adaptive, TOS: o.tos, PMTUDisc: o.pmtu, ID: o.id,
		Broadcast: o.broadcast, UserLatency: o.user}
	if o.pattern != "" {
		cfg.Pattern = []byte(o.pattern)
	}
	if o.deadline > 0 {
		cfg.Deadline = time.Duration(o.deadline) * time.Second
	}
	// iputils: -f without -i, or -i 0, sends as fast as replies come.
	if o.intervalSet && o.interval > 0 {
		cfg.Interval = o.interval
	} else if o.flood || o.intervalSet {
		cfg.Flood = true
	}
	if o.sizeSet {
		cfg.Size = o.size
		if o.size == 0 {
			cfg.Size = ping.EmptyPayload
		}
	}
	if a, err := netip.ParseAddr(o.iface); err == nil {
		cfg.Source = a
	} else {
		cfg.Interface = o.iface
	}
	return cfg
}

// printer turns the options into the text Printer's: which lines, and
// how. numeric is a literal destination, whose replies iputils never looks
// up in reverse either. The caller sets the writers and the Pinger's
// figures.
func (o *pingOpts) printer(numeric bool) *ping.Printer {
	return &ping.Printer{Host: o.host, Names: !numeric && !o.numeric && !o.flood, Interface: o.iface,
		Quiet: o.quiet, Flood: o.flood, IPG: o.flood || o.adaptive || o.effectiveInterval() == 0,
		Verbose: o.verbose, Audible: o.audible, Stamps: o.stamps, Pending: o.pending}
}

// interval is the gap between requests the options ask for: 0 in a flood.
func (o *pingOpts) effectiveInterval() time.Duration {
	if o.intervalSet {
		return o.interval
	}
	if o.flood {
		return 0
	}
	return ping.DefaultInterval
}
