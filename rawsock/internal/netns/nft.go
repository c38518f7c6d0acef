package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Nft runs an nft(8) script inside the namespace ("nft -f -") and returns
// its output, or ends the test; "list ruleset" shows every rule and counter.
// It skips the test when nft is not installed.
func (ns *Namespace) Nft(script string) string {
	ns.tp.t.Helper()
	if err := CheckNft(); err != nil {
		ns.tp.t.Skipf("netns: %v", err)
	}
	out, err := ns.run(script, "nft", "-f", "-")
	if err != nil {
		ns.tp.t.Fatalf("netns: %v", err)
	}
	return out
}

// A Rule is one nftables rule a test installed with Loss or Dup, alone in
// its own table, with two named counters: "matched" counts the packets its
// match selected, "acted" those it dropped or duplicated.
type Rule struct {
	NS     *Namespace
	Family string // nft family of the table: inet, ip or ip6
	Table  string
}

// Loss drops percent (0 to 100) of the packets arriving at the namespace,
// forwarded or local, that match the nft expression match, chosen at random
// by "numgen random mod 100 < percent". For example, in a router:
//
//	r := line.Routers[1].Loss(30, "icmp type echo-request")
//
// The rule sits in the prerouting hook, so dropped packets are never
// forwarded nor answered with ICMP errors. It skips the test when nft is
// not installed and ends it on any other error.
func (ns *Namespace) Loss(percent int, match string) *Rule {
	ns.tp.t.Helper()
	if err := CheckNft(); err != nil {
		ns.tp.t.Skipf("netns: %v", err)
	}
	r, err := ns.loss(percent, match)
	if err != nil {
		ns.tp.t.Fatalf("netns: loss: %v", err)
	}
	return r
}

func (ns *Namespace) loss(percent int, match string) (*Rule, error) {
	if percent < 0 || percent > 100 {
		return nil, fmt.Errorf("percent %d outside 0..100", percent)
	}
	if err := checkMatch(match); err != nil {
		return nil, err
	}
	// nft takes "< 100" as out of range for "mod 100": at 100 there is
	// nothing to choose, so every packet drops.
	sel := fmt.Sprintf(" numgen random mod 100 < %d", percent)
	if percent == 100 {
		sel = ""
	}
	stmt := fmt.Sprintf("%s counter name \"matched\"%s counter name \"acted\" drop", match, sel)
	return ns.addRule("inet", "loss", "prerouting", stmt)
}

// Dup duplicates the packets the namespace forwards that match the nft
// expression match: each is sent on as usual and a copy goes toward the
// address toward, through the gateway and device the namespace's own route
// to it picks ("dup to GATEWAY device DEV"). For example, to double every
// echo reply going back to host A:
//
//	r := line.Routers[1].Dup("icmp type echo-reply", line.A.Addr4())
//
// The rule sits in the forward hook: the copies leave through the output
// path and are not counted twice. Only a router forwards, so Dup wants one.
// The family of toward picks the table family (ip or ip6), so match must
// be of the same family. It skips the test when nft is not installed and
// ends it on any other error.
func (ns *Namespace) Dup(match string, toward netip.Addr) *Rule {
	ns.tp.t.Helper()
	if err := CheckNft(); err != nil {
		ns.tp.t.Skipf("netns: %v", err)
	}
	r, err := ns.dup(match, toward)
	if err != nil {
		ns.tp.t.Fatalf("netns: dup: %v", err)
	}
	return r
}

func (ns *Namespace) dup(match string, toward netip.Addr) (*Rule, error) {
	if !ns.Router {
		return nil, fmt.Errorf("%s is not a router: dup acts on forwarded packets", ns.Name)
	}
	if err := checkMatch(match); err != nil {
		return nil, err
	}
	gw, dev, err := ns.NextHop(toward)
	if err != nil {
		return nil, err
	}
	family := "ip6"
	if toward.Unmap().Is4() {
		family, gw = "ip", gw.Unmap()
	}
	stmt := fmt.Sprintf("%s counter name \"matched\" dup to %s device %q counter name \"acted\"", match, gw, dev)
	return ns.addRule(family, "dup", "forward", stmt)
}

// checkMatch refuses a match that would drop or copy every packet, neighbour
// discovery included, or that could end the rule and start another command.
func checkMatch(match string) error {
	if strings.TrimSpace(match) == "" {
		return errors.New("empty match: say which packets, e.g. \"icmp type echo-request\"")
	}
	if strings.ContainsAny(match, ";\n#") {
		return fmt.Errorf("match %q: one nft expression, without ';', '#' or newlines", match)
	}
	return nil
}

func (ns *Namespace) addRule(family, kind, hook, stmt string) (*Rule, error) {
	ns.tp.mu.Lock()
	ns.tp.nrules++
	r := &Rule{NS: ns, Family: family, Table: fmt.Sprintf("rawsock_%s_%d", kind, ns.tp.nrules)}
	ns.tp.mu.Unlock()
	script := fmt.Sprintf(`table %s %s {
	counter matched {}
	counter acted {}
	chain c {
		type filter hook %s priority filter; policy accept;
		%s
	}
}
`, family, r.Table, hook, stmt)
	if _, err := ns.run(script, "nft", "-f", "-"); err != nil {
		return nil, err
	}
	return r, nil
}

// Counters returns how many packets the rule's match selected and how many
// of them it dropped (Loss) or duplicated (Dup), from its nft counters.
func (r *Rule) Counters() (matched, acted uint64, err error) {
	out, err := r.NS.run("", "nft", "-j", "list", "table", r.Family, r.Table)
	if err != nil {
		return 0, 0, err
	}
	var doc struct {
		Nftables []struct {
			Counter *struct {
				Name    string `json:"name"`
				Packets uint64 `json:"packets"`
			} `json:"counter"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return 0, 0, fmt.Errorf("nft -j list table %s %s: %v", r.Family, r.Table, err)
	}
	found := 0
	for _, o := range doc.Nftables {
		switch {
		case o.Counter == nil:
		case o.Counter.Name == "matched":
			matched = o.Counter.Packets
			found++
		case o.Counter.Name == "acted":
			acted = o.Counter.Packets
			found++
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("nft table %s %s: counters missing in %q", r.Family, r.Table, out)
	}
	return matched, acted, nil
}

// String returns the rule's table as nft lists it, counters included, for
// test logs.
func (r *Rule) String() string {
	out, err := r.NS.run("", "nft", "list", "table", r.Family, r.Table)
	if err != nil {
		return err.Error()
	}
	return out
}

// Delete removes the rule (its whole table).
func (r *Rule) Delete() error {
	_, err := r.NS.run("", "nft", "delete", "table", r.Family, r.Table)
	return err
}
