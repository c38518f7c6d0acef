package echo

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rawsock/rawsock/rawsock"
	"golang.org/x/sys/unix"
)

// Networks lists the networks the server and client take, in the order the
// usage text gives them.
var Networks = []string{"tcp", "tcp6", "udp", "udp6", "unix", "unixpacket", "unixgram"}

// network is one Networks entry: the socket(2) arguments it stands for.
type network struct {
	name           string
	family, sotype int
}

func (n network) inet() bool   { return n.family != rawsock.AF_UNIX }
func (n network) stream() bool { return n.sotype == rawsock.SOCK_STREAM }

// connected is true where the server accepts connections.
func (n network) connected() bool { return n.sotype != rawsock.SOCK_DGRAM }

// networkTable is Networks' socket(2) arguments.
var networkTable = map[string][2]int{
	"tcp":        {rawsock.AF_INET, rawsock.SOCK_STREAM},
	"tcp6":       {rawsock.AF_INET6, rawsock.SOCK_STREAM},
	"udp":        {rawsock.AF_INET, rawsock.SOCK_DGRAM},
	"udp6":       {rawsock.AF_INET6, rawsock.SOCK_DGRAM},
	"unix":       {rawsock.AF_UNIX, rawsock.SOCK_STREAM},
	"unixpacket": {rawsock.AF_UNIX, rawsock.SOCK_SEQPACKET},
	"unixgram":   {rawsock.AF_UNIX, rawsock.SOCK_DGRAM},
}

func lookupNetwork(name string) (network, error) {
	if v, ok := networkTable[name]; ok {
		return network{name, v[0], v[1]}, nil
	}
	return network{}, configErrorf("unknown network %q (want one of %s)", name, strings.Join(Networks, ", "))
}

// DefaultPort is the tutorial's PORT.
const DefaultPort = 9999

// DefaultAddr is the address a server listens on (client false) or a client
// connects to (client true) when none is given: the tutorial's (”, 9999)
// and ('127.0.0.1', 9999), and for AF_UNIX a path in the temporary
// directory named after the network, so that the three kinds can run side
// by side.
func DefaultAddr(networkName string, client bool) string {
	switch networkName {
	case "tcp", "udp":
		if client {
			return "127.0.0.1:9999"
		}
		return ":9999"
	case "tcp6", "udp6":
		if client {
			return "[::1]:9999"
		}
		return "[::]:9999"
	}
	return filepath.Join(os.TempDir(), "rawsock-echo-"+networkName+".sock")
}

// maxUnixPath is sun_path's size less the NUL that ends a path name.
const maxUnixPath = len(unix.RawSockaddrUnix{}.Path) - 1

// resolve turns an address in text into the sockaddr for n: HOST:PORT
// (HOST empty for any address, a literal or a name) for inet networks, a
// path (or @name in the abstract namespace) for AF_UNIX ones.
func resolve(n network, addr string) (unix.Sockaddr, error) {
	if !n.inet() {
		switch {
		case addr == "" || addr == "@":
			return nil, configErrorf("malformed address %q: %s needs a socket path (or @name)", addr, n.name)
		case len(addr) > maxUnixPath:
			return nil, configErrorf("malformed address %q: path is %d bytes, AF_UNIX allows %d", addr, len(addr), maxUnixPath)
		case strings.IndexByte(addr, 0) >= 0:
			return nil, configErrorf("malformed address %q: path holds a NUL byte", addr)
		}
		return rawsock.UnixAddr(addr), nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, configErrorf("malformed address %q: want HOST:PORT for %s (%v)", addr, n.name, addrErrText(err))
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, configErrorf("malformed address %q: port %q is not a number from 0 to 65535", addr, portStr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if n.family == rawsock.AF_INET && !ip.Is4() {
			return nil, configErrorf("malformed address %q: %s is an IPv6 address (use %s6)", addr, host, n.name)
		}
		if n.family == rawsock.AF_INET6 && ip.Is4() {
			return nil, configErrorf("malformed address %q: %s is an IPv4 address (use %s, or ::ffff:%s)", addr, host, strings.TrimSuffix(n.name, "6"), host)
		}
	}
	var sa unix.Sockaddr
	if n.family == rawsock.AF_INET6 {
		sa, err = rawsock.Inet6Addr(host, int(port))
	} else {
		sa, err = rawsock.InetAddr(host, int(port))
	}
	if err != nil {
		return nil, configErrorf("address %q: %s", addr, strings.TrimPrefix(err.Error(), "rawsock: "))
	}
	return sa, nil
}

// ErrConfig is matched, with errors.Is, by the errors Listen and Dial
// return for bad input (an unknown network or loop, a malformed or
// unresolvable address, a size out of range), as opposed to the errors of
// the syscalls themselves.
var ErrConfig = errors.New("echo: bad configuration")

type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrConfig }

func configErrorf(format string, args ...any) error {
	return &configError{fmt.Sprintf(format, args...)}
}

// addrErrText is net.SplitHostPort's reason without the repeated address.
func addrErrText(err error) string {
	if ae, ok := err.(*net.AddrError); ok {
		return ae.Err
	}
	return err.Error()
}
