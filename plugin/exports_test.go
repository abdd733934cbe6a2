package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every function the library exports to Fluent Bit defers its recover as
// its first statement, so a panic anywhere in it, its first lines
// included, is caught at the cgo boundary (recoverExport, endInit).
func TestExportsRecoverFirst(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	exports := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil || !hasExport(fn.Doc) {
				continue
			}
			exports++
			first, ok := fn.Body.List[0].(*ast.DeferStmt)
			if !ok {
				t.Errorf("%s: first statement is not a defer", fn.Name.Name)
				continue
			}
			if id, ok := first.Call.Fun.(*ast.Ident); !ok || (id.Name != "recoverExport" && id.Name != "endInit") {
				t.Errorf("%s: first statement defers %T, want recoverExport or endInit", fn.Name.Name, first.Call.Fun)
			}
		}
	}
	if exports != 7 {
		t.Errorf("%d exports found, want 7 (Register, Init, Flush, FlushCtx, ExitCtx, Exit, Unregister)", exports)
	}
}

func hasExport(g *ast.CommentGroup) bool {
	for _, c := range g.List {
		if strings.HasPrefix(c.Text, "//export ") {
			return true
		}
	}
	return false
}
