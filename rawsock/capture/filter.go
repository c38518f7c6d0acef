package capture

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// This file turns a tcpdump expression into an AST; filter_gen.go turns the
// AST into classic BPF. The grammar is libpcap's for the supported subset:
// "and" and "or" have equal precedence and associate to the left (so
// "a or b and c" is "(a or b) and c"), "not" binds tightest, and an address
// or number standing alone after "and"/"or" inherits the qualifiers of the
// primitive before it ("host a or b", "port 80 or 53").

// SyntaxError is a bad expression: one line naming the token and its offset.
type SyntaxError struct {
	Expr   string
	Offset int    // byte offset of Token in Expr
	Token  string // "" at the end of the expression
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("filter: end of expression at offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("filter: %q at offset %d: %s", e.Token, e.Offset, e.Msg)
}

// Qualifier values, named after libpcap's Q_ constants.
const (
	qDefault = iota
	// protocols
	qIP
	qIP6
	qARP
	qRARP
	qTCP
	qUDP
	qICMP
	qICMP6
	// directions
	qSrc
	qDst
	qOr  // src or dst
	qAnd // src and dst
	// address kinds
	qHost
	qNet
	qPort
	qErr // no qualifier may be inherited (after a bare protocol)
)

var protoNames = map[string]int{
	"ip": qIP, "ip6": qIP6, "arp": qARP, "tcp": qTCP, "udp": qUDP,
	"icmp": qICMP, "icmp6": qICMP6,
}

func protoName(p int) string {
	for n, q := range protoNames {
		if q == p {
			return n
		}
	}
	return "rarp"
}

// qual is libpcap's struct qual: protocol, direction and address kind.
type qual struct{ proto, dir, addr int }

// node is the AST.
type node interface{}

type (
	andNode   struct{ l, r node }
	orNode    struct{ l, r node }
	notNode   struct{ x node }
	protoNode struct{ proto int } // icmp, tcp, ip6, ...
	// idNode is an address or number with its qualifiers.
	idNode struct {
		q    qual
		kind int // tokHID, tokHID6, tokNum
		v4   uint32
		m4   uint32
		v6   [16]byte
		m6   [16]byte
		num  uint32
	}
)

// Token kinds.
const (
	tokEOF = iota
	tokLParen
	tokRParen
	tokSlash
	tokNot
	tokAnd
	tokOr
	tokWord // keyword or unknown word
	tokNum
	tokHID  // dotted IPv4 address (possibly short, as "10.1")
	tokHID6 // IPv6 address
)

var singleTokens = [256]int{'(': tokLParen, ')': tokRParen, '/': tokSlash, '!': tokNot}

type token struct {
	kind int
	text string
	off  int
}

func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case singleTokens[c] != 0:
			toks = append(toks, token{singleTokens[c], expr[i : i+1], i})
			i++
			continue
		case c == '&' || c == '|':
			if i+1 < len(expr) && expr[i+1] == c {
				k := tokAnd
				if c == '|' {
					k = tokOr
				}
				toks = append(toks, token{k, expr[i : i+2], i})
				i += 2
				continue
			}
			return nil, &SyntaxError{expr, i, expr[i : i+1], "unsupported operator (want && or ||)"}
		}
		j := i
		for j < len(expr) && !strings.ContainsRune(" \t\n\r()/!&|", rune(expr[j])) {
			j++
		}
		w := expr[i:j]
		toks = append(toks, token{classify(w), w, i})
		i = j
	}
	toks = append(toks, token{tokEOF, "", len(expr)})
	return toks, nil
}

func classify(w string) int {
	switch w {
	case "and":
		return tokAnd
	case "or":
		return tokOr
	case "not":
		return tokNot
	}
	digits, dots := true, 0
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] == '.':
			dots++
		case w[i] < '0' || w[i] > '9':
			digits = false
		}
	}
	switch {
	case strings.Contains(w, ":"):
		return tokHID6
	case digits && dots == 0:
		return tokNum
	case digits && dots <= 3 && w[0] != '.' && w[len(w)-1] != '.' && !strings.Contains(w, ".."):
		return tokHID
	}
	return tokWord
}

type parser struct {
	expr  string
	toks  []token
	pos   int
	depth int // nesting of not and parentheses
}

// maxDepth bounds the nesting of "not" and parentheses, so that no
// expression can exhaust the stack of the recursive parser.
const maxDepth = 1000

func (p *parser) enter(t token) error {
	if p.depth++; p.depth > maxDepth {
		return p.errAt(t, "nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &SyntaxError{Expr: p.expr, Offset: t.off, Token: t.text, Msg: fmt.Sprintf(format, args...)}
}

// parse returns the AST of expr, nil for an empty expression.
func parse(expr string) (node, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{expr: expr, toks: toks}
	if p.peek().kind == tokEOF {
		return nil, nil
	}
	n, _, err := p.parseExpr(qual{qErr, qErr, qErr})
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, p.errAt(t, "unbalanced parenthesis")
		}
		return nil, p.errAt(t, "unexpected word (want and, or)")
	}
	return n, nil
}

// parseExpr is libpcap's expr: term { (and|or) (term|id) }, left-associative.
// in is the qualifier a parenthesized expression inherits; it returns the
// qualifier the next bare id inherits.
func (p *parser) parseExpr(in qual) (node, qual, error) {
	l, q, err := p.parseTerm(in)
	if err != nil {
		return nil, q, err
	}
	for {
		op := p.peek()
		if op.kind != tokAnd && op.kind != tokOr {
			return l, q, nil
		}
		p.next()
		var r node
		if p.startsID() {
			if q.addr == qErr {
				t := p.peek()
				for i := 1; t.kind == tokNot || t.kind == tokLParen; i++ {
					t = p.peekAt(i)
				}
				return nil, q, p.errAt(t, "address or number without a qualifier (want host, net, port before it)")
			}
			r, err = p.parseID(q)
		} else {
			r, q, err = p.parseTerm(q)
		}
		if err != nil {
			return nil, q, err
		}
		if op.kind == tokAnd {
			l = &andNode{l, r}
		} else {
			l = &orNode{l, r}
		}
	}
}

// startsID reports whether the next tokens are a bare id (an address or
// number, possibly behind "not" and "("): those inherit qualifiers.
func (p *parser) startsID() bool {
	for i := 0; ; i++ {
		switch p.peekAt(i).kind {
		case tokNot, tokLParen:
			continue
		case tokNum, tokHID, tokHID6:
			return true
		}
		return false
	}
}

func (p *parser) parseTerm(in qual) (node, qual, error) {
	t := p.peek()
	if t.kind == tokNot || t.kind == tokLParen {
		if err := p.enter(t); err != nil {
			return nil, in, err
		}
		defer func() { p.depth-- }()
	}
	switch t.kind {
	case tokNot:
		p.next()
		x, q, err := p.parseTerm(in)
		if err != nil {
			return nil, q, err
		}
		return &notNode{x}, q, nil
	case tokLParen:
		p.next()
		if p.peek().kind == tokRParen {
			return nil, in, p.errAt(p.peek(), "empty parentheses")
		}
		x, _, err := p.parseExpr(in)
		if err != nil {
			return nil, in, err
		}
		if c := p.peek(); c.kind != tokRParen {
			if c.kind == tokEOF {
				return nil, in, p.errAt(t, "unbalanced parenthesis")
			}
			return nil, in, p.errAt(c, "unexpected word (want and, or, ))")
		}
		p.next()
		return x, in, nil
	case tokEOF:
		return nil, in, p.errAt(t, "want a primitive")
	case tokRParen, tokAnd, tokOr, tokSlash:
		return nil, in, p.errAt(t, "want a primitive")
	case tokNum, tokHID, tokHID6:
		return nil, in, p.errAt(t, "address or number without a qualifier (want host, net, port before it)")
	}
	// head id, or a bare protocol.
	q := qual{qDefault, qDefault, qDefault}
	proto, isProto := protoNames[t.text]
	if isProto {
		p.next()
		q.proto = proto
	}
	hasHead := false
	switch p.peek().text {
	case "src", "dst":
		d := p.next()
		q.dir = qSrc
		if d.text == "dst" {
			q.dir = qDst
		}
		// "src or dst", "dst and src", ...
		if o := p.peek(); (o.kind == tokOr || o.kind == tokAnd) && (p.peekAt(1).text == "src" || p.peekAt(1).text == "dst") && p.peekAt(1).text != d.text {
			p.next()
			p.next()
			q.dir = qOr
			if o.kind == tokAnd {
				q.dir = qAnd
			}
		}
		hasHead = true
	}
	switch p.peek().text {
	case "host":
		q.addr = qHost
	case "net":
		q.addr = qNet
	case "port":
		q.addr = qPort
	}
	if q.addr != qDefault {
		p.next()
		hasHead = true
	}
	if !hasHead {
		if isProto {
			return &protoNode{proto}, qual{qErr, qErr, qErr}, nil
		}
		return nil, in, p.errAt(t, "unknown primitive (want host, port, net, src, dst, ip, ip6, arp, tcp, udp, icmp, icmp6)")
	}
	if !p.startsID() {
		return nil, q, p.errAt(p.peek(), "want an address or number")
	}
	x, err := p.parseID(q)
	return x, q, err
}

// parseID is libpcap's id: an address or number with inherited qualifiers,
// "not id", or a parenthesized list of ids joined by and/or.
func (p *parser) parseID(q qual) (node, error) {
	t := p.next()
	if t.kind == tokNot || t.kind == tokLParen {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
	}
	switch t.kind {
	case tokNot:
		x, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	case tokLParen:
		l, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		for {
			op := p.next()
			switch op.kind {
			case tokRParen:
				return l, nil
			case tokAnd, tokOr:
			case tokEOF:
				return nil, p.errAt(t, "unbalanced parenthesis")
			default:
				return nil, p.errAt(op, "unexpected word (want and, or, ))")
			}
			if !p.startsID() {
				return nil, p.errAt(p.peek(), "want an address or number")
			}
			r, err := p.parseID(q)
			if err != nil {
				return nil, err
			}
			if op.kind == tokAnd {
				l = &andNode{l, r}
			} else {
				l = &orNode{l, r}
			}
		}
	case tokNum:
		return p.numID(t, q)
	case tokHID:
		return p.hostID(t, q)
	case tokHID6:
		return p.host6ID(t, q)
	}
	return nil, p.errAt(t, "want an address or number")
}

func (p *parser) numID(t token, q qual) (node, error) {
	v, err := strconv.ParseUint(t.text, 10, 32)
	if err != nil {
		return nil, p.errAt(t, "number overflows 32 bits")
	}
	n := &idNode{q: q, kind: tokNum, num: uint32(v)}
	switch q.addr {
	case qPort:
		if v > 65535 {
			return nil, p.errAt(t, "illegal port number %d > 65535", v)
		}
		switch q.proto {
		case qDefault, qTCP, qUDP:
		default:
			return nil, p.errAt(t, "illegal qualifier of 'port'")
		}
	case qNet:
		// libpcap promotes a short net number: "net 10" is 10.0.0.0/8.
		n.v4, n.m4 = uint32(v), 0xffffffff
		for n.v4 != 0 && n.v4&0xff000000 == 0 {
			n.v4 <<= 8
			n.m4 <<= 8
		}
		return n, p.checkHostProto(t, q, false)
	default:
		n.v4, n.m4 = uint32(v), 0xffffffff
		return n, p.checkHostProto(t, q, false)
	}
	return n, nil
}

// atoin parses a possibly short dotted IPv4 address as libpcap's
// __pcap_atoin: it returns the value and its length in bits.
func atoin(s string) (uint32, int, bool) {
	var v uint32
	bits := 0
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil || n > 255 {
			return 0, 0, false
		}
		v = v<<8 | uint32(n)
		bits += 8
	}
	return v, bits, true
}

func (p *parser) hostID(t token, q qual) (node, error) {
	v, bits, ok := atoin(t.text)
	if !ok {
		return nil, p.errAt(t, "invalid IPv4 address")
	}
	if q.addr == qPort {
		return nil, p.errAt(t, "'port' modifier applied to ip host")
	}
	n := &idNode{q: q, kind: tokHID}
	n.v4, n.m4 = v<<(32-bits), uint32(0xffffffff)<<(32-bits)
	if bits == 32 {
		n.m4 = 0xffffffff
	}
	if p.peek().kind == tokSlash {
		p.next()
		lt := p.next()
		if lt.kind != tokNum {
			return nil, p.errAt(lt, "want a mask length after /")
		}
		ml, err := strconv.ParseUint(lt.text, 10, 32)
		if err != nil || ml > 32 {
			return nil, p.errAt(lt, "mask length must be <= 32")
		}
		m := uint32(0)
		if ml > 0 {
			m = 0xffffffff << (32 - ml)
		}
		if n.v4&^m != 0 {
			return nil, p.errAt(t, "non-network bits set in \"%s/%d\"", t.text, ml)
		}
		if q.addr != qNet {
			return nil, p.errAt(t, "Mask syntax for networks only")
		}
		n.m4 = m
	}
	return n, p.checkHostProto(t, q, false)
}

func (p *parser) host6ID(t token, q qual) (node, error) {
	a, err := netip.ParseAddr(t.text)
	if err != nil || a.Zone() != "" {
		return nil, p.errAt(t, "invalid IPv6 address")
	}
	if q.addr == qPort {
		return nil, p.errAt(t, "'port' modifier applied to ip6 host")
	}
	n := &idNode{q: q, kind: tokHID6, v6: a.As16()}
	ml := uint64(128)
	if p.peek().kind == tokSlash {
		p.next()
		lt := p.next()
		if lt.kind != tokNum {
			return nil, p.errAt(lt, "want a mask length after /")
		}
		ml, err = strconv.ParseUint(lt.text, 10, 32)
		if err != nil || ml > 128 {
			return nil, p.errAt(lt, "mask length must be <= 128")
		}
	}
	for i := 0; i < 16; i++ {
		switch {
		case uint64(8*(i+1)) <= ml:
			n.m6[i] = 0xff
		case uint64(8*i) < ml:
			n.m6[i] = byte(0xff << (8 - (ml - uint64(8*i))))
		}
		if n.v6[i]&^n.m6[i] != 0 {
			return nil, p.errAt(t, "non-network bits set in \"%s/%d\"", t.text, ml)
		}
	}
	if ml != 128 && q.addr != qNet {
		return nil, p.errAt(t, "Mask syntax for networks only")
	}
	return n, p.checkHostProto(t, q, true)
}

// checkHostProto rejects protocol qualifiers that make no sense for an
// address, with libpcap's words.
func (p *parser) checkHostProto(t token, q qual, v6 bool) error {
	what := "host"
	if q.addr == qNet {
		what = "net"
	}
	switch {
	case q.proto == qDefault:
		return nil
	case !v6 && (q.proto == qIP || q.proto == qARP):
		return nil
	case v6 && q.proto == qIP6:
		return nil
	case !v6 && q.proto == qIP6:
		return p.errAt(t, "'ip6' modifier applied to ip %s", what)
	case v6 && (q.proto == qIP || q.proto == qARP):
		return p.errAt(t, "'%s' modifier applied to ip6 %s", protoName(q.proto), what)
	}
	return p.errAt(t, "'%s' modifier applied to %s", protoName(q.proto), what)
}
