package rawsock_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestSyscallPointerArgs checks unsafe.Pointer rule 4 in the package's
// source: a uintptr(unsafe.Pointer(p)) conversion must be written in the
// argument list of the call (Syscall6, ...) itself, which keeps p alive
// and unmoved until the call returns; one stored in a uintptr variable
// first is not a reference the GC knows of. Neither go vet's unsafeptr
// check nor checkptr (-race) sees this, so the test reads the source.
func TestSyscallPointerArgs(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		inCall := map[ast.Expr]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && !isIdent(c.Fun, "uintptr") {
				for _, a := range c.Args {
					inCall[a] = true
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || !isPointerToUintptr(c) {
				return true
			}
			checked++
			if !inCall[c] {
				t.Errorf("%s: uintptr(unsafe.Pointer(...)) outside the argument list of a call", fset.Position(c.Pos()))
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no uintptr(unsafe.Pointer(...)) conversion found: the test reads nothing")
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// isPointerToUintptr reports whether c is uintptr(unsafe.Pointer(...)).
func isPointerToUintptr(c *ast.CallExpr) bool {
	if !isIdent(c.Fun, "uintptr") || len(c.Args) != 1 {
		return false
	}
	inner, ok := c.Args[0].(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := inner.Fun.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, "unsafe") && sel.Sel.Name == "Pointer"
}
