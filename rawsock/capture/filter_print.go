package capture

import (
	"bufio"
	"fmt"
	"io"

	"golang.org/x/net/bpf"
)

// WriteProgram prints prog as tcpdump -d does: "(000) ldh      [12]" ...
// one line per instruction.
func WriteProgram(w io.Writer, prog []bpf.RawInstruction) error {
	bw := bufio.NewWriter(w)
	for i, ins := range prog {
		bw.WriteString(insnImage(i, ins))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteProgramC prints prog as tcpdump -dd does: "{ 0x28, 0, 0, 0x0000000c },".
func WriteProgramC(w io.Writer, prog []bpf.RawInstruction) error {
	bw := bufio.NewWriter(w)
	for _, ins := range prog {
		fmt.Fprintf(bw, "{ 0x%x, %d, %d, 0x%08x },\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return bw.Flush()
}

// insnImage is one line of tcpdump -d: the mnemonic and operand of every
// classic BPF instruction, "unimp" for codes that are none.
func insnImage(n int, ins bpf.RawInstruction) string {
	k := ins.K
	op, operand := "unimp", fmt.Sprintf("0x%x", ins.Op)
	hex := fmt.Sprintf("#0x%x", k)
	dec := fmt.Sprintf("#%d", int32(k))
	switch c := int(ins.Op); c {
	case clsRET | srcK:
		op, operand = "ret", dec
	case clsRET | rvalA:
		op, operand = "ret", ""
	case clsRET | srcX:
		op, operand = "ret", "x"
	case clsLD | szW | mABS:
		op, operand = "ld", fmt.Sprintf("[%d]", k)
	case clsLD | szH | mABS:
		op, operand = "ldh", fmt.Sprintf("[%d]", k)
	case clsLD | szB | mABS:
		op, operand = "ldb", fmt.Sprintf("[%d]", k)
	case clsLD | szW | mLEN:
		op, operand = "ld", "#pktlen"
	case clsLD | szW | mIND:
		op, operand = "ld", fmt.Sprintf("[x + %d]", k)
	case clsLD | szH | mIND:
		op, operand = "ldh", fmt.Sprintf("[x + %d]", k)
	case clsLD | szB | mIND:
		op, operand = "ldb", fmt.Sprintf("[x + %d]", k)
	case clsLD | mIMM:
		op, operand = "ld", hex
	case clsLDX | mIMM:
		op, operand = "ldx", hex
	case clsLDX | mMSH | szB:
		op, operand = "ldxb", fmt.Sprintf("4*([%d]&0xf)", k)
	case clsLD | mMEM:
		op, operand = "ld", fmt.Sprintf("M[%d]", k)
	case clsLDX | mMEM:
		op, operand = "ldx", fmt.Sprintf("M[%d]", k)
	case clsST:
		op, operand = "st", fmt.Sprintf("M[%d]", k)
	case clsSTX:
		op, operand = "stx", fmt.Sprintf("M[%d]", k)
	case clsJMP | jA:
		op, operand = "ja", fmt.Sprintf("%d", n+1+int(k))
	case clsJMP | jGT | srcK:
		op, operand = "jgt", hex
	case clsJMP | jGE | srcK:
		op, operand = "jge", hex
	case clsJMP | jEQ | srcK:
		op, operand = "jeq", hex
	case clsJMP | jSET | srcK:
		op, operand = "jset", hex
	case clsJMP | jGT | srcX:
		op, operand = "jgt", "x"
	case clsJMP | jGE | srcX:
		op, operand = "jge", "x"
	case clsJMP | jEQ | srcX:
		op, operand = "jeq", "x"
	case clsJMP | jSET | srcX:
		op, operand = "jset", "x"
	case clsALU | aluNEG:
		op, operand = "neg", ""
	case clsMISC | miscTAX:
		op, operand = "tax", ""
	case clsMISC | miscTXA:
		op, operand = "txa", ""
	default:
		if c&0x07 == clsALU {
			names := map[int]string{aluADD: "add", aluSUB: "sub", aluMUL: "mul", aluDIV: "div",
				aluMOD: "mod", aluAND: "and", aluOR: "or", aluXOR: "xor", aluLSH: "lsh", aluRSH: "rsh"}
			if name, ok := names[bpfOp(c)]; ok {
				op = name
				switch {
				case bpfSrc(c) == srcX:
					operand = "x"
				case bpfOp(c) == aluAND || bpfOp(c) == aluOR || bpfOp(c) == aluXOR:
					operand = hex
				default:
					operand = dec
				}
			}
		}
	}
	if bpfClass(int(ins.Op)) == clsJMP && bpfOp(int(ins.Op)) != jA {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d", n, op, operand, n+1+int(ins.Jt), n+1+int(ins.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", n, op, operand)
}
