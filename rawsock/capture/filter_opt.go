package capture

import (
	"encoding/binary"
	"math/bits"

	"golang.org/x/net/bpf"
)

// The optimizer works on the block graph built by filter_gen.go. It runs
// the same passes, in the same order, as the optimizer whose output tcpdump
// prints, because the golden tests demand the identical program: passes
// over the graph by level (leaves are level 0) compute the value held in
// each register as a value number, drop loads of a value already there,
// redirect a jump whose outcome an edge dominating it already decided
// ("jump threading"), pull a test up a chain of or-ed/and-ed tests on the
// same value, and finally merge identical blocks.

type vmapEntry struct {
	isConst bool
	val     uint32
}

type optimizer struct {
	blocks  []*block
	edges   []*edge
	levels  []*block
	curMark int

	done      bool
	nonBranch bool // something other than branch movement changed

	vals   map[[3]uint32]uint32
	vmap   []vmapEntry
	curval uint32
}

func (o *optimizer) unmarkAll()           { o.curMark++ }
func (o *optimizer) marked(b *block) bool { return b.mark == o.curMark }
func (o *optimizer) setMark(b *block)     { b.mark = o.curMark }
func jt(b *block) *block                  { return b.et.succ }
func jf(b *block) *block                  { return b.ef.succ }

func optimize(o *optimizer, root *block) *block {
	o.unmarkAll()
	o.numberBlocks(root)
	n := len(o.blocks)
	o.edges = make([]*edge, 2*n)
	nw, ew := (n+63)/64, (2*n+63)/64
	sets := make(bitset, n*(nw+2*ew))
	for i, b := range o.blocks {
		b.dom, sets = sets[:nw:nw], sets[nw:]
		b.et.edom, sets = sets[:ew:ew], sets[ew:]
		b.ef.edom, sets = sets[:ew:ew], sets[ew:]
		b.et.id, b.ef.id = i, n+i
		o.edges[i], o.edges[n+i] = &b.et, &b.ef
		b.et.pred, b.ef.pred = b, b
	}
	o.loop(root, false)
	o.loop(root, true)
	o.internBlocks(root)
	return optRoot(root)
}

func (o *optimizer) numberBlocks(p *block) {
	if p == nil || o.marked(p) {
		return
	}
	o.setMark(p)
	p.id = len(o.blocks)
	o.blocks = append(o.blocks, p)
	o.numberBlocks(jt(p))
	o.numberBlocks(jf(p))
}

func (o *optimizer) loop(root *block, doStmts bool) {
	idle := 0
	for {
		o.done, o.nonBranch = true, false
		o.findLevels(root)
		o.findDom(root)
		o.findUD(root)
		o.findEdom(root)
		o.optBlks(root, doStmts)
		if o.done {
			return
		}
		// Passes that only move branches can cycle; stop after 100.
		if o.nonBranch {
			idle = 0
		} else if idle++; idle >= 100 {
			return
		}
	}
}

func (o *optimizer) findLevels(root *block) {
	o.unmarkAll()
	o.levels = make([]*block, len(o.blocks))
	o.findLevelsR(root)
}

func (o *optimizer) findLevelsR(b *block) {
	if o.marked(b) {
		return
	}
	o.setMark(b)
	b.link = nil
	level := 0
	if jt(b) != nil {
		o.findLevelsR(jt(b))
		o.findLevelsR(jf(b))
		level = max(jt(b).level, jf(b).level) + 1
	}
	b.level = level
	b.link = o.levels[level]
	o.levels[level] = b
}

// findDom computes the dominators of every block. Only blocks on the level
// lists are set: no other block is reachable, now or later in the pass.
func (o *optimizer) findDom(root *block) {
	for level := root.level; level >= 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			b.dom.fill(^uint64(0))
		}
	}
	root.dom.fill(0)
	for level := root.level; level >= 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			b.dom.add(b.id)
			if jt(b) == nil {
				continue
			}
			jt(b).dom.and(b.dom)
			jf(b).dom.and(b.dom)
		}
	}
}

func propEdom(ep *edge) {
	ep.edom.add(ep.id)
	if ep.succ != nil {
		ep.succ.et.edom.and(ep.edom)
		ep.succ.ef.edom.and(ep.edom)
	}
}

// findEdom computes the edges dominating every edge.
func (o *optimizer) findEdom(root *block) {
	for _, e := range o.edges {
		e.edom.fill(^uint64(0))
	}
	root.et.edom.fill(0)
	root.ef.edom.fill(0)
	for level := root.level; level >= 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			propEdom(&b.et)
			propEdom(&b.ef)
		}
	}
}

// atomUse returns the atom s reads, atomAX for both A and X, -1 for none.
func atomUse(s *stmt) int {
	c := s.code
	if c == opNOP {
		return -1
	}
	switch bpfClass(c) {
	case clsRET:
		switch c & 0x18 {
		case rvalA:
			return atomA
		case srcX:
			return atomX
		}
		return -1
	case clsLD, clsLDX:
		switch bpfMode(c) {
		case mIND:
			return atomX
		case mMEM:
			return int(s.k)
		}
		return -1
	case clsST:
		return atomA
	case clsSTX:
		return atomX
	case clsJMP, clsALU:
		if bpfSrc(c) == srcX {
			return atomAX
		}
		return atomA
	}
	if c&0xf8 == miscTXA {
		return atomX
	}
	return atomA
}

// atomDef returns the atom s writes, -1 for none.
func atomDef(s *stmt) int {
	if s.code == opNOP {
		return -1
	}
	switch bpfClass(s.code) {
	case clsLD, clsALU:
		return atomA
	case clsLDX:
		return atomX
	case clsST, clsSTX:
		return int(s.k)
	case clsMISC:
		if s.code&0xf8 == miscTAX {
			return atomX
		}
		return atomA
	}
	return -1
}

func addUse(use *atomset, def atomset, atom int) {
	switch {
	case atom == atomAX:
		if !def.has(atomX) {
			*use |= 1 << atomX
		}
		if !def.has(atomA) {
			*use |= 1 << atomA
		}
	case atom >= 0:
		if !def.has(atom) {
			*use |= 1 << uint(atom)
		}
	}
}

func computeLocalUD(b *block) {
	var def, use, killed atomset
	for _, s := range b.stmts {
		if s.code == opNOP {
			continue
		}
		addUse(&use, def, atomUse(s))
		if atom := atomDef(s); atom >= 0 {
			if !use.has(atom) {
				killed |= 1 << uint(atom)
			}
			def |= 1 << uint(atom)
		}
	}
	if bpfClass(b.s.code) == clsJMP {
		addUse(&use, def, atomUse(&b.s))
	}
	b.def, b.kill, b.inUse = def, killed, use
}

// findUD computes which atoms each block uses before defining them, and
// which its successors use.
func (o *optimizer) findUD(root *block) {
	for i := root.level; i >= 0; i-- {
		for p := o.levels[i]; p != nil; p = p.link {
			computeLocalUD(p)
			p.outUse = 0
		}
	}
	for i := 1; i <= root.level; i++ {
		for p := o.levels[i]; p != nil; p = p.link {
			p.outUse |= jt(p).inUse | jf(p).inUse
			p.inUse |= p.outUse &^ p.kill
		}
	}
}

func (o *optimizer) findInedges(root *block) {
	for _, b := range o.blocks {
		b.inEdge = nil
	}
	for level := root.level; level > 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			b.et.next, jt(b).inEdge = jt(b).inEdge, &b.et
			b.ef.next, jf(b).inEdge = jf(b).inEdge, &b.ef
		}
	}
}

// --- value numbering ---

func (o *optimizer) initVal() {
	o.curval = 0
	o.vals = make(map[[3]uint32]uint32)
	o.vmap = o.vmap[:0]
	o.vmap = append(o.vmap, vmapEntry{})
}

// valueOf numbers the value computed by code from v0 and v1.
func (o *optimizer) valueOf(code int, v0, v1 uint32) uint32 {
	key := [3]uint32{uint32(code), v0, v1}
	if v, ok := o.vals[key]; ok {
		return v
	}
	o.curval++
	v := o.curval
	e := vmapEntry{}
	if bpfMode(code) == mIMM && (bpfClass(code) == clsLD || bpfClass(code) == clsLDX) {
		e = vmapEntry{true, v0}
	}
	o.vmap = append(o.vmap, e)
	o.vals[key] = v
	return v
}

func (o *optimizer) konst(k uint32) uint32 { return o.valueOf(clsLD|mIMM|szW, k, 0) }

func vstore(s *stmt, valp *uint32, v uint32, alter bool) {
	if alter && v != 0 && *valp == v {
		s.code = opNOP
	} else {
		*valp = v
	}
}

func (o *optimizer) changed() { o.done, o.nonBranch = false, true }

func aluK(op int, a, k uint32) uint32 {
	switch op {
	case aluADD:
		return a + k
	case aluSUB:
		return a - k
	case aluMUL:
		return a * k
	case aluOR:
		return a | k
	case aluAND:
		return a & k
	case aluXOR:
		return a ^ k
	case aluLSH:
		if k < 32 {
			return a << k
		}
		return 0
	case aluRSH:
		if k < 32 {
			return a >> k
		}
		return 0
	}
	return 0
}

// optStmt tracks the values s leaves in the registers and, when alter is
// set, simplifies s with what is known.
func (o *optimizer) optStmt(s *stmt, val *[nAtoms]uint32, alter bool) {
	switch c := s.code; {
	case c == opNOP:
	case bpfClass(c) == clsLD && (bpfMode(c) == mABS || bpfMode(c) == mLEN):
		vstore(s, &val[atomA], o.valueOf(c, s.k, 0), alter)
	case bpfClass(c) == clsLD && bpfMode(c) == mIND:
		v := val[atomX]
		if alter && o.vmap[v].isConst {
			s.code = clsLD | mABS | bpfSize(c)
			s.k += o.vmap[v].val
			v = o.valueOf(s.code, s.k, 0)
			o.changed()
		} else {
			v = o.valueOf(c, s.k, v)
		}
		vstore(s, &val[atomA], v, alter)
	case c == clsLD|mIMM:
		vstore(s, &val[atomA], o.konst(s.k), alter)
	case c == clsLDX|mIMM:
		vstore(s, &val[atomX], o.konst(s.k), alter)
	case c == clsLDX|mMSH|szB:
		vstore(s, &val[atomX], o.valueOf(c, s.k, 0), alter)
	case bpfClass(c) == clsALU && bpfSrc(c) == srcK && bpfOp(c) != aluNEG && bpfOp(c) != aluDIV && bpfOp(c) != aluMOD:
		op := bpfOp(c)
		if alter {
			if s.k == 0 {
				switch op {
				case aluADD, aluLSH, aluRSH, aluOR, aluXOR:
					s.code = opNOP
					return
				case aluMUL, aluAND:
					s.code = clsLD | mIMM
					val[atomA] = o.konst(s.k)
					return
				}
			}
			if o.vmap[val[atomA]].isConst {
				s.k = aluK(op, o.vmap[val[atomA]].val, s.k)
				s.code = clsLD | mIMM
				o.changed()
				val[atomA] = o.konst(s.k)
				return
			}
		}
		val[atomA] = o.valueOf(c, val[atomA], o.konst(s.k))
	}
}

func (o *optimizer) optBlk(b *block, doStmts bool) {
	if ep := b.inEdge; ep == nil {
		b.val = [nAtoms]uint32{}
	} else {
		b.val = ep.pred.val
		for ep = ep.next; ep != nil; ep = ep.next {
			for i := range b.val {
				if b.val[i] != ep.pred.val[i] {
					b.val[i] = 0
				}
			}
		}
	}
	aval, xval := b.val[atomA], b.val[atomX]
	for _, s := range b.stmts {
		o.optStmt(s, &b.val, doStmts)
	}
	// A block that changes nothing anyone uses, or a return, needs no statements.
	if doStmts && ((b.outUse == 0 && aval != 0 && b.val[atomA] == aval && xval != 0 && b.val[atomX] == xval) ||
		bpfClass(b.s.code) == clsRET) {
		if b.stmts != nil {
			b.stmts = nil
			o.changed()
		}
	} else {
		o.optPeep(b)
		o.optDeadstores(b)
	}
	if bpfSrc(b.s.code) == srcK {
		b.oval = o.konst(b.s.k)
	} else {
		b.oval = b.val[atomX]
	}
	b.et.code = b.s.code
	b.ef.code = -b.s.code
}

func optNot(b *block) { b.et.succ, b.ef.succ = b.ef.succ, b.et.succ }

func (o *optimizer) optPeep(b *block) {
	if b.stmts == nil {
		return
	}
	last := b.stmts[0]
	var real []*stmt
	for _, s := range b.stmts {
		if s.code != opNOP {
			real = append(real, s)
		}
	}
	if len(real) >= 2 {
		last = real[len(real)-1]
	}
	// and #k; jeq #0  ->  jset #k with the branches swapped.
	if b.s.code == clsJMP|jEQ|srcK && !b.outUse.has(atomA) &&
		last.code == clsALU|aluAND|srcK && b.s.k == 0 {
		b.s.k = last.k
		b.s.code = clsJMP | jSET | srcK
		last.code = opNOP
		o.changed()
		optNot(b)
	}
	if b.s.code == clsJMP|jSET|srcK {
		if b.s.k == 0 {
			b.et.succ = b.ef.succ
		}
		if b.s.k == 0xffffffff {
			b.ef.succ = b.et.succ
		}
	}
	// A known constant in A decides the branch.
	if v := b.val[atomA]; o.vmap[v].isConst && bpfSrc(b.s.code) == srcK && bpfClass(b.s.code) == clsJMP {
		a := o.vmap[v].val
		var taken bool
		switch bpfOp(b.s.code) {
		case jEQ:
			taken = a == b.s.k
		case jGT:
			taken = a > b.s.k
		case jGE:
			taken = a >= b.s.k
		case jSET:
			taken = a&b.s.k != 0
		default:
			return
		}
		if jf(b) != jt(b) {
			o.changed()
		}
		if taken {
			b.ef.succ = b.et.succ
		} else {
			b.et.succ = b.ef.succ
		}
	}
}

func deadStmt(o *optimizer, s *stmt, last *[nAtoms]*stmt) {
	switch atom := atomUse(s); {
	case atom == atomAX:
		last[atomX], last[atomA] = nil, nil
	case atom >= 0:
		last[atom] = nil
	}
	if atom := atomDef(s); atom >= 0 {
		if last[atom] != nil {
			o.changed()
			last[atom].code = opNOP
		}
		last[atom] = s
	}
}

// optDeadstores removes stores overwritten in the block or unused after it.
func (o *optimizer) optDeadstores(b *block) {
	var last [nAtoms]*stmt
	for _, s := range b.stmts {
		deadStmt(o, s, &last)
	}
	deadStmt(o, &b.s, &last)
	for atom, s := range last {
		if s != nil && !b.outUse.has(atom) {
			s.code = opNOP
			b.val[atom] = 0
			o.changed()
		}
	}
}

func (o *optimizer) optBlks(root *block, doStmts bool) {
	o.initVal()
	maxlevel := root.level
	o.findInedges(root)
	for i := maxlevel; i >= 0; i-- {
		for p := o.levels[i]; p != nil; p = p.link {
			o.optBlk(p, doStmts)
		}
	}
	if doStmts {
		return
	}
	for i := 1; i <= maxlevel; i++ {
		for p := o.levels[i]; p != nil; p = p.link {
			o.optJ(&p.et)
			o.optJ(&p.ef)
		}
	}
	o.findInedges(root)
	for i := 1; i <= maxlevel; i++ {
		for p := o.levels[i]; p != nil; p = p.link {
			o.pullup(p, false)
			o.pullup(p, true)
		}
	}
}

// useConflict reports whether a register succ's successors use holds a
// different value at the end of b than at the end of succ.
func useConflict(b, succ *block) bool {
	use := succ.outUse
	for atom := 0; atom < nAtoms && use != 0; atom++ {
		if use.has(atom) && b.val[atom] != succ.val[atom] {
			return true
		}
	}
	return false
}

// foldEdge returns where child's branch goes when reached through a path
// that took ep, if ep's test decides it; nil otherwise.
func foldEdge(child *block, ep *edge) *block {
	code, sense := ep.code, true
	if code < 0 {
		code, sense = -code, false
	}
	if child.s.code != code {
		return nil
	}
	if child.val[atomA] != ep.pred.val[atomA] {
		return nil
	}
	if child.oval == ep.pred.oval {
		if sense {
			return jt(child)
		}
		return jf(child)
	}
	if sense && code == clsJMP|jEQ|srcK {
		return jf(child)
	}
	return nil
}

// optJ threads the jump on edge ep past tests already decided.
func (o *optimizer) optJ(ep *edge) {
	if jt(ep.succ) == nil {
		return
	}
	if jt(ep.succ) == jf(ep.succ) && !useConflict(ep.pred, jt(ep.succ)) {
		o.changed()
		ep.succ = jt(ep.succ)
	}
top:
	for w, word := range ep.edom {
		for x := word; x != 0; x &= x - 1 {
			k := w*64 + bits.TrailingZeros64(x)
			target := foldEdge(ep.succ, o.edges[k])
			if target != nil && !useConflict(ep.pred, target) {
				o.done = false
				ep.succ = target
				if jt(target) != nil {
					goto top
				}
				return
			}
		}
	}
}

// pullup is or_pullup (and=false) and and_pullup (and=true): in a chain of
// tests joined on their true (false) exit, move a test of the value the
// predecessors hold up to the top of the chain.
func (o *optimizer) pullup(b *block, and bool) {
	// along follows the chain, same is the exit the chain shares.
	along, same := func(p *block) **block { return &p.ef.succ }, jt
	if and {
		along, same = func(p *block) **block { return &p.et.succ }, jf
	}
	ep := b.inEdge
	if ep == nil {
		return
	}
	val := ep.pred.val[atomA]
	for ep = ep.next; ep != nil; ep = ep.next {
		if val != ep.pred.val[atomA] {
			return
		}
	}
	first := b.inEdge.pred
	diffp := &first.ef.succ
	if jt(first) == b {
		diffp = &first.et.succ
	}
	atTop := true
	for {
		if *diffp == nil || same(*diffp) != same(b) || !(*diffp).dom.has(b.id) {
			return
		}
		if (*diffp).val[atomA] != val {
			break
		}
		diffp = along(*diffp)
		atTop = false
	}
	samep := along(*diffp)
	for {
		if *samep == nil || same(*samep) != same(b) || !(*samep).dom.has(b.id) {
			return
		}
		if (*samep).val[atomA] == val {
			break
		}
		samep = along(*samep)
	}
	pull := *samep
	*samep = *along(pull)
	*along(pull) = *diffp
	if atTop {
		for ep := b.inEdge; ep != nil; ep = ep.next {
			if jt(ep.pred) == b {
				ep.pred.et.succ = pull
			} else {
				ep.pred.ef.succ = pull
			}
		}
	} else {
		*diffp = pull
	}
	// The dominators are left as they were at the start of the pass,
	// although the graph changed: libpcap 1.10.3 does the same, and its
	// later pull-ups in the pass see those stale sets (recomputing them
	// here gives programs that differ from tcpdump's).
	o.done = false
}

// blockKey identifies a block by its branch, its successors and its
// statements: two blocks with equal keys are interchangeable.
func blockKey(b *block, buf []byte) string {
	buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(b.s.code))
	buf = binary.LittleEndian.AppendUint32(buf, b.s.k)
	for _, succ := range []*block{jt(b), jf(b)} {
		id := uint32(0xffffffff)
		if succ != nil {
			id = uint32(succ.id)
		}
		buf = binary.LittleEndian.AppendUint32(buf, id)
	}
	for _, st := range b.stmts {
		if st.code != opNOP {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(st.code))
			buf = binary.LittleEndian.AppendUint32(buf, st.k)
		}
	}
	return string(buf)
}

func (o *optimizer) makeMarks(p *block) {
	if o.marked(p) {
		return
	}
	o.setMark(p)
	if bpfClass(p.s.code) != clsRET {
		o.makeMarks(jt(p))
		o.makeMarks(jf(p))
	}
}

// internBlocks merges identical blocks.
func (o *optimizer) internBlocks(root *block) {
	n := len(o.blocks)
	for {
		for _, b := range o.blocks {
			b.link = nil
		}
		o.unmarkAll()
		o.makeMarks(root)
		// Each reachable block links to the lowest-numbered equal block
		// after it (or to where that one links).
		seen := make(map[string]*block)
		var buf []byte
		for i := n - 1; i >= 0; i-- {
			bi := o.blocks[i]
			if !o.marked(bi) {
				continue
			}
			key := blockKey(bi, buf)
			if bj := seen[key]; bj != nil {
				bi.link = bj
				if bj.link != nil {
					bi.link = bj.link
				}
			}
			seen[key] = bi
		}
		done := true
		for _, p := range o.blocks {
			if jt(p) == nil {
				continue
			}
			if jt(p).link != nil {
				done = false
				p.et.succ = jt(p).link
			}
			if jf(p).link != nil {
				done = false
				p.ef.succ = jf(p).link
			}
		}
		if done {
			return
		}
	}
}

// optRoot skips root blocks whose branches agree, keeping their statements.
func optRoot(b *block) *block {
	s := b.stmts
	b.stmts = nil
	for bpfClass(b.s.code) == clsJMP && jt(b) == jf(b) {
		b = jt(b)
	}
	if b.stmts != nil {
		s = append(s, b.stmts...)
	}
	b.stmts = s
	if bpfClass(b.s.code) == clsRET {
		b.stmts = nil
	}
	return b
}

// --- flattening ---

type flattener struct {
	o    *optimizer
	prog []bpf.RawInstruction
	tail int
}

func slength(ss []*stmt) int {
	n := 0
	for _, s := range ss {
		if s.code != opNOP {
			n++
		}
	}
	return n
}

func (f *flattener) count(p *block) int {
	if p == nil || f.o.marked(p) {
		return 0
	}
	f.o.setMark(p)
	return f.count(jt(p)) + f.count(jf(p)) + slength(p.stmts) + 1 + p.longjt + p.longjf
}

// emit lays out p's false branch, then its true branch, then p before
// them, filling the program from its end.
func (f *flattener) emit(p *block) bool {
	if p == nil || f.o.marked(p) {
		return true
	}
	f.o.setMark(p)
	if !f.emit(jf(p)) || !f.emit(jt(p)) {
		return false
	}
	slen := slength(p.stmts)
	f.tail -= slen + 1 + p.longjt + p.longjf
	p.offset = f.tail
	dst := f.tail
	for _, s := range p.stmts {
		if s.code != opNOP {
			f.prog[dst] = bpf.RawInstruction{Op: uint16(s.code), K: s.k}
			dst++
		}
	}
	ins := bpf.RawInstruction{Op: uint16(p.s.code), K: p.s.k}
	if jt(p) != nil {
		// A branch offset is 8 bits: a longer one goes through a "ja"
		// placed right after the branch; the layout is then redone.
		extra := 0
		long := func(target *block, n *int) (uint8, bool) {
			off := target.offset - (p.offset + slen) - 1
			if off < 256 {
				return uint8(off), true
			}
			if *n == 0 {
				*n = 1
				return 0, false
			}
			j := extra
			extra++
			f.prog[dst+extra] = bpf.RawInstruction{Op: clsJMP | jA, K: uint32(off - extra)}
			return uint8(j), true
		}
		var ok bool
		if ins.Jt, ok = long(jt(p), &p.longjt); !ok {
			return false
		}
		if ins.Jf, ok = long(jf(p), &p.longjf); !ok {
			return false
		}
	}
	f.prog[dst] = ins
	return true
}

// flatten turns the graph at root into a program.
func flatten(o *optimizer, root *block) []bpf.RawInstruction {
	f := &flattener{o: o}
	for {
		f.o.unmarkAll()
		n := f.count(root)
		f.prog = make([]bpf.RawInstruction, n)
		f.tail = n
		f.o.unmarkAll()
		if f.emit(root) {
			return f.prog
		}
	}
}
