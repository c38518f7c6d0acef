package capture

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// Code generation follows the shape of libpcap's: each primitive becomes a
// small graph of blocks (statements plus one conditional jump), joined by
// and/or/not through lists of unresolved exits; the graph is then optimized
// (value numbering, jump threading over edge dominators, and/or pull-ups,
// dead stores, merging of equal blocks) and flattened in the same order, so
// the program is the one tcpdump -d prints. The ideas are those of
// McCanne and Jacobson, "The BSD Packet Filter" (1993) and of the BPF+
// paper (Begel, McCanne, Graham, SIGCOMM 1999). Identical output needs the
// same steps in the same order, quirks included, so this Go code follows
// libpcap 1.10's algorithm closely; it was written for this package, and
// the goldens and the random comparison with tcpdump are what check it.

// Classic BPF opcode fields (linux/filter.h).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW = 0x00
	szH = 0x08
	szB = 0x10

	mIMM = 0x00
	mABS = 0x20
	mIND = 0x40
	mMEM = 0x60
	mLEN = 0x80
	mMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jA    = 0x00
	jEQ   = 0x10
	jGT   = 0x20
	jGE   = 0x30
	jSET  = 0x40
	srcK  = 0x00
	srcX  = 0x08
	rvalA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80

	opNOP = -1

	maxInsns = 4096 // BPF_MAXINSNS: the kernel refuses longer programs
)

func bpfClass(c int) int { return c & 0x07 }
func bpfSize(c int) int  { return c & 0x18 }
func bpfMode(c int) int  { return c & 0xe0 }
func bpfOp(c int) int    { return c & 0xf0 }
func bpfSrc(c int) int   { return c & 0x08 }

// Ethernet offsets: the EtherType at 12, the network layer at 14.
const (
	offLinkType = 12
	offLinkPL   = 14

	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeRARP = 0x8035
	etherTypeIPv6 = 0x86dd

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoFrag6  = 44
	protoICMPv6 = 58
	protoSCTP   = 132
	protoUndef  = -1
)

type stmt struct {
	code int
	k    uint32
}

// Atoms: scratch memory M[0..15], then A and X.
const (
	memWords = 16
	atomA    = memWords
	atomX    = memWords + 1
	atomAX   = memWords + 2 // both A and X are used
	nAtoms   = memWords + 2
)

type atomset uint32

func (s atomset) has(a int) bool { return s&(1<<uint(a)) != 0 }

type edge struct {
	id   int
	code int
	edom bitset
	succ *block
	pred *block
	next *edge // next in-edge of succ
}

type block struct {
	id     int
	stmts  []*stmt
	s      stmt
	mark   int
	level  int
	offset int
	sense  bool

	longjt, longjf int // 1 when the branch needs a "ja" to reach its target
	et, ef         edge
	head           *block
	link           *block
	dom            bitset
	inEdge         *edge

	def, kill, inUse, outUse atomset

	oval uint32
	val  [nAtoms]uint32
}

type bitset []uint64

func (b bitset) has(i int) bool { return b[i/64]&(1<<uint(i%64)) != 0 }
func (b bitset) add(i int)      { b[i/64] |= 1 << uint(i%64) }
func (b bitset) and(o bitset) {
	o = o[:len(b)]
	for i := range b {
		b[i] &= o[i]
	}
}
func (b bitset) fill(v uint64) {
	for i := range b {
		b[i] = v
	}
}

// --- code generation (the parts of gencode for the supported subset) ---

func newBlock(code int, k uint32) *block {
	b := &block{s: stmt{code, k}}
	b.head = b
	return b
}

// backpatch points every exit on list at target.
func backpatch(list, target *block) {
	for list != nil {
		var next *block
		if !list.sense {
			next = list.et.succ
			list.et.succ = target
		} else {
			next = list.ef.succ
			list.ef.succ = target
		}
		list = next
	}
}

// merge appends list b1 to list b0.
func merge(b0, b1 *block) {
	p := &b0
	for *p != nil {
		if !(*p).sense {
			p = &(*p).et.succ
		} else {
			p = &(*p).ef.succ
		}
	}
	*p = b1
}

func genAnd(b0, b1 *block) {
	backpatch(b0, b1.head)
	b0.sense = !b0.sense
	b1.sense = !b1.sense
	merge(b1, b0)
	b1.sense = !b1.sense
	b1.head = b0.head
}

func genOr(b0, b1 *block) {
	b0.sense = !b0.sense
	backpatch(b0, b1.head)
	b0.sense = !b0.sense
	merge(b1, b0)
	b1.head = b0.head
}

func genNot(b *block) { b.sense = !b.sense }

// genCmp loads size bytes at off (masked unless mask is all ones) and
// compares them with v.
func genCmp(load []*stmt, mask, v uint32) *block {
	if mask != 0xffffffff {
		load = append(load, &stmt{clsALU | aluAND | srcK, mask})
	}
	b := newBlock(clsJMP|jEQ|srcK, v)
	b.stmts = load
	return b
}

func ldAbs(size int, off uint32) []*stmt {
	return []*stmt{{clsLD | mABS | size, off}}
}

// ldTransIPv4 loads from the transport header after an IPv4 header of any length.
func ldTransIPv4(size int, off uint32) []*stmt {
	return []*stmt{{clsLDX | mMSH | szB, offLinkPL}, {clsLD | mIND | size, offLinkPL + off}}
}

func genLinktype(etherType uint32) *block {
	return genCmp(ldAbs(szH, offLinkType), 0xffffffff, etherType)
}

// genProto matches IP protocol v over IPv4 (proto qIP), IPv6 (qIP6,
// including behind one fragment header) or both (qDefault).
func genProto(v uint32, proto int) *block {
	switch proto {
	case qIP:
		b0 := genLinktype(etherTypeIPv4)
		b1 := genCmp(ldAbs(szB, offLinkPL+9), 0xffffffff, v)
		genAnd(b0, b1)
		return b1
	case qIP6:
		b0 := genLinktype(etherTypeIPv6)
		b2 := genCmp(ldAbs(szB, offLinkPL+6), 0xffffffff, protoFrag6)
		b1 := genCmp(ldAbs(szB, offLinkPL+40), 0xffffffff, v)
		genAnd(b2, b1)
		b2 = genCmp(ldAbs(szB, offLinkPL+6), 0xffffffff, v)
		genOr(b2, b1)
		genAnd(b0, b1)
		return b1
	}
	b0 := genProto(v, qIP)
	b1 := genProto(v, qIP6)
	genOr(b0, b1)
	return b1
}

func genProtoAbbrev(proto int) *block {
	switch proto {
	case qTCP:
		return genProto(protoTCP, qDefault)
	case qUDP:
		return genProto(protoUDP, qDefault)
	case qICMP:
		return genProto(protoICMP, qIP)
	case qICMP6:
		return genProto(protoICMPv6, qIP6)
	case qIP:
		return genLinktype(etherTypeIPv4)
	case qIP6:
		return genLinktype(etherTypeIPv6)
	}
	return genLinktype(etherTypeARP)
}

func genHostop(addr, mask uint32, dir int, etherType uint32, srcOff, dstOff uint32) *block {
	var off uint32
	switch dir {
	case qSrc:
		off = srcOff
	case qDst:
		off = dstOff
	case qAnd:
		b0 := genHostop(addr, mask, qSrc, etherType, srcOff, dstOff)
		b1 := genHostop(addr, mask, qDst, etherType, srcOff, dstOff)
		genAnd(b0, b1)
		return b1
	default:
		b0 := genHostop(addr, mask, qSrc, etherType, srcOff, dstOff)
		b1 := genHostop(addr, mask, qDst, etherType, srcOff, dstOff)
		genOr(b0, b1)
		return b1
	}
	b0 := genLinktype(etherType)
	b1 := genCmp(ldAbs(szW, offLinkPL+off), mask, addr)
	genAnd(b0, b1)
	return b1
}

func genHost(addr, mask uint32, proto, dir int) *block {
	switch proto {
	case qIP:
		return genHostop(addr, mask, dir, etherTypeIPv4, 12, 16)
	case qARP:
		return genHostop(addr, mask, dir, etherTypeARP, 14, 24)
	case qRARP:
		return genHostop(addr, mask, dir, etherTypeRARP, 14, 24)
	}
	b0 := genHost(addr, mask, qIP, dir)
	b1 := genHost(addr, mask, qARP, dir)
	genOr(b0, b1)
	b0 = genHost(addr, mask, qRARP, dir)
	genOr(b1, b0)
	return b0
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func genHostop6(a, m *[16]byte, dir int) *block {
	var off uint32
	switch dir {
	case qSrc:
		off = 8
	case qDst:
		off = 24
	case qAnd, qOr, qDefault:
		b0 := genHostop6(a, m, qSrc)
		b1 := genHostop6(a, m, qDst)
		if dir == qAnd {
			genAnd(b0, b1)
		} else {
			genOr(b0, b1)
		}
		return b1
	}
	b1 := genCmp(ldAbs(szW, offLinkPL+off+12), be32(m[12:]), be32(a[12:]))
	for w := 2; w >= 0; w-- {
		b0 := genCmp(ldAbs(szW, offLinkPL+off+uint32(4*w)), be32(m[4*w:]), be32(a[4*w:]))
		genAnd(b0, b1)
	}
	b0 := genLinktype(etherTypeIPv6)
	genAnd(b0, b1)
	return b1
}

func genIPFrag() *block {
	b := newBlock(clsJMP|jSET|srcK, 0x1fff)
	b.stmts = ldAbs(szH, offLinkPL+6)
	genNot(b)
	return b
}

func genPortAtoms(dir int, atom func(off uint32) *block) *block {
	switch dir {
	case qSrc:
		return atom(0)
	case qDst:
		return atom(2)
	}
	tmp := atom(0)
	b1 := atom(2)
	if dir == qAnd {
		genAnd(tmp, b1)
	} else {
		genOr(tmp, b1)
	}
	return b1
}

func genPortop(port uint32, proto uint32, dir int) *block {
	tmp := genCmp(ldAbs(szB, offLinkPL+9), 0xffffffff, proto)
	b0 := genIPFrag()
	genAnd(tmp, b0)
	b1 := genPortAtoms(dir, func(off uint32) *block {
		return genCmp(ldTransIPv4(szH, off), 0xffffffff, port)
	})
	genAnd(b0, b1)
	return b1
}

func genPortop6(port uint32, proto uint32, dir int) *block {
	b0 := genCmp(ldAbs(szB, offLinkPL+6), 0xffffffff, proto)
	b1 := genPortAtoms(dir, func(off uint32) *block {
		return genCmp(ldAbs(szH, offLinkPL+40+off), 0xffffffff, port)
	})
	genAnd(b0, b1)
	return b1
}

func genPortFamily(port uint32, ipProto int, dir int, etherType uint32, op func(uint32, uint32, int) *block) *block {
	b0 := genLinktype(etherType)
	var b1 *block
	if ipProto == protoUndef {
		tmp := op(port, protoTCP, dir)
		b1 = op(port, protoUDP, dir)
		genOr(tmp, b1)
		tmp = op(port, protoSCTP, dir)
		genOr(tmp, b1)
	} else {
		b1 = op(port, uint32(ipProto), dir)
	}
	genAnd(b0, b1)
	return b1
}

func genPort(port uint32, proto, dir int) *block {
	ipProto := protoUndef
	switch proto {
	case qTCP:
		ipProto = protoTCP
	case qUDP:
		ipProto = protoUDP
	}
	b := genPortFamily(port, ipProto, dir, etherTypeIPv4, genPortop)
	genOr(genPortFamily(port, ipProto, dir, etherTypeIPv6, genPortop6), b)
	return b
}

// genNode generates the blocks of an AST node.
func genNode(n node) *block {
	switch n := n.(type) {
	case *andNode:
		b0, b1 := genNode(n.l), genNode(n.r)
		genAnd(b0, b1)
		return b1
	case *orNode:
		b0, b1 := genNode(n.l), genNode(n.r)
		genOr(b0, b1)
		return b1
	case *notNode:
		b := genNode(n.x)
		genNot(b)
		return b
	case *protoNode:
		return genProtoAbbrev(n.proto)
	case *idNode:
		switch {
		case n.q.addr == qPort:
			return genPort(n.num, n.q.proto, n.q.dir)
		case n.kind == tokHID6:
			return genHostop6(&n.v6, &n.m6, n.q.dir)
		}
		return genHost(n.v4, n.m4, n.q.proto, n.q.dir)
	}
	panic("capture: unknown filter node")
}

// Compile parses expr (a tcpdump expression subset) and returns the classic
// BPF program for Ethernet frames that tcpdump -dd prints for it. An empty
// expr accepts everything.
func Compile(expr string, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 || snaplen > 0x7fffffff {
		return nil, errors.New("filter: snap length must be in 1..2147483647")
	}
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	var root *block
	o := &optimizer{}
	if n == nil {
		root = newBlock(clsRET|srcK, uint32(snaplen))
	} else {
		p := genNode(n)
		backpatch(p, newBlock(clsRET|srcK, uint32(snaplen)))
		p.sense = !p.sense
		backpatch(p, newBlock(clsRET|srcK, 0))
		root = optimize(o, p.head)
		if root.s.code == clsRET|srcK && root.s.k == 0 {
			return nil, wholeError(expr, "expression rejects all packets")
		}
	}
	prog := flatten(o, root)
	if len(prog) > maxInsns {
		return nil, wholeError(expr, fmt.Sprintf("program has %d instructions, more than the kernel's %d", len(prog), maxInsns))
	}
	return prog, nil
}

// wholeError is an error of the expression as a whole: its token is the
// expression's start, cut at a word boundary after 40 bytes.
func wholeError(expr, msg string) *SyntaxError {
	tok := expr
	if len(tok) > 40 {
		if i := strings.IndexByte(tok[40:], ' '); i >= 0 {
			tok = tok[:40+i]
		}
	}
	return &SyntaxError{Expr: expr, Offset: 0, Token: tok, Msg: msg}
}

// DropAll is the program that rejects every packet (ret #0).
func DropAll() []bpf.RawInstruction {
	return []bpf.RawInstruction{{Op: clsRET | srcK, K: 0}}
}

// AcceptAll is the program that accepts every packet whole, up to snaplen
// bytes (ret #snaplen).
func AcceptAll(snaplen int) []bpf.RawInstruction {
	return []bpf.RawInstruction{{Op: clsRET | srcK, K: uint32(snaplen)}}
}
