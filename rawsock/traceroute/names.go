package traceroute

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// DefaultLookupTimeout bounds one reverse lookup of Names.
const DefaultLookupTimeout = time.Second

// Names looks up the host names of addresses for printing, each address
// once (the answer, or the lack of one, is remembered), each lookup bounded
// by Timeout so that an unreachable DNS server delays a hop by that much
// at most. Its zero value uses net.DefaultResolver (/etc/hosts, then DNS)
// and DefaultLookupTimeout. It is safe for concurrent use.
type Names struct {
	Resolver *net.Resolver
	Timeout  time.Duration

	mu    sync.Mutex
	cache map[netip.Addr]string
}

// Lookup returns the first name the resolver gives for a, without the
// trailing dot, or "" when it has none or takes longer than Timeout.
func (n *Names) Lookup(a netip.Addr) string {
	n.mu.Lock()
	name, ok := n.cache[a]
	n.mu.Unlock()
	if ok {
		return name
	}
	r, d := n.Resolver, n.Timeout
	if r == nil {
		r = net.DefaultResolver
	}
	if d <= 0 {
		d = DefaultLookupTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	names, err := r.LookupAddr(ctx, a.String())
	cancel()
	if err == nil && len(names) > 0 {
		name = strings.TrimSuffix(names[0], ".")
	}
	n.mu.Lock()
	if n.cache == nil {
		n.cache = map[netip.Addr]string{}
	}
	n.cache[a] = name
	n.mu.Unlock()
	return name
}
