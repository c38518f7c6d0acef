package traceroute

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Printer writes a trace as the classic Linux traceroute prints it:
//
//	traceroute to example.net (192.0.2.7), 30 hops max, 60 byte packets
//	 1  gw.example (10.0.0.1)  0.271 ms  0.203 ms  0.187 ms
//	 2  * * *
//	 3  192.0.2.7 (192.0.2.7)  1.024 ms !H  0.950 ms !H  *
//
// A probe's address is printed when it differs from the last answered one
// of its hop; a silent probe is '*'; an unreachable's mark follows its
// time, and so does F=<mtu> when DiscoverMTU sent it again at a new
// length. A probe the local kernel refused as too big has no address and
// prints, as traceroute, "*  0.012 ms !F-1500".
type Printer struct {
	W io.Writer
	// Numeric prints addresses only (traceroute -n); otherwise each is
	// printed as "name (address)", the name looked up by Names (the
	// address itself when it has none).
	Numeric bool
	Names   *Names
}

// Header writes the first line. host is the destination as the user gave
// it.
func (p *Printer) Header(host string, dst netip.Addr, maxTTL, packetLen int) error {
	_, err := fmt.Fprintf(p.W, "traceroute to %s (%s), %d hops max, %d byte packets\n", host, dst, maxTTL, packetLen)
	return err
}

// Hop writes one hop's line.
func (p *Printer) Hop(h *Hop) error {
	_, err := io.WriteString(p.W, p.Line(h))
	return err
}

// Line returns a hop's line, newline included.
func (p *Printer) Line(h *Hop) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%2d ", h.TTL)
	var last netip.Addr
	for i := range h.Probes {
		pr := &h.Probes[i]
		if !pr.Answered() {
			b.WriteString(" *")
			continue
		}
		if !pr.From.IsValid() {
			// Answered here: the kernel refused a probe too big.
			b.WriteString(" *")
		} else if pr.From != last {
			b.WriteByte(' ')
			b.WriteString(p.addr(pr.From))
			last = pr.From
		}
		b.WriteString("  ")
		b.WriteString(strconv.FormatFloat(float64(pr.RTT.Nanoseconds())/1e6, 'f', 3, 64))
		b.WriteString(" ms")
		if pr.MTU != 0 {
			b.WriteString(" F=")
			b.WriteString(strconv.Itoa(pr.MTU))
		}
		if pr.Annotation != "" {
			b.WriteByte(' ')
			b.WriteString(pr.Annotation)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

func (p *Printer) addr(a netip.Addr) string {
	s := a.String()
	if p.Numeric {
		return s
	}
	name := ""
	if p.Names != nil {
		name = p.Names.Lookup(a)
	}
	if name == "" {
		name = s
	}
	return name + " (" + s + ")"
}
