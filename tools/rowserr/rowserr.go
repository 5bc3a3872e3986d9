// Package rowserr is a vet-style analyzer: every loop over a result set's
// Next must be followed by a look at its Err. A ClickHouse read cut short
// (a network error, a server limit) ends Next early exactly as the end of the
// data does; only Err tells them apart, and a settler that took a cut read
// of cumulative totals for the whole would post a root that drops accounts.
//
// Written here because the kept linters of the kind (rowserrcheck,
// sqlclosecheck) know only database/sql and a few drivers' named types;
// clickhouse-go's driver.Rows is an interface they do not follow. This one
// recognises any value with Next() bool, Scan and Err() error methods.
package rowserr

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzer reports result sets whose Next is called in a function that
// never calls their Err.
var Analyzer = &analysis.Analyzer{
	Name:     "rowserr",
	Doc:      "report rows.Next loops whose rows.Err is never checked",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

func run(pass *analysis.Pass) (any, error) {
	in := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	in.Preorder([]ast.Node{(*ast.FuncDecl)(nil)}, func(n ast.Node) {
		fn := n.(*ast.FuncDecl)
		if fn.Body == nil {
			return
		}
		next := map[types.Object]*ast.CallExpr{}
		checked := map[types.Object]bool{}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			obj := pass.TypesInfo.Uses[id]
			if obj == nil || !isRows(obj.Type()) {
				return true
			}
			switch sel.Sel.Name {
			case "Next":
				if _, seen := next[obj]; !seen {
					next[obj] = call
				}
			case "Err":
				checked[obj] = true
			}
			return true
		})
		for obj, call := range next {
			if !checked[obj] {
				pass.Reportf(call.Pos(), "%s.Next() without %s.Err(): a read cut short would pass for the end of the rows", obj.Name(), obj.Name())
			}
		}
	})
	return nil, nil
}

// isRows reports whether t has the methods of a result set.
func isRows(t types.Type) bool {
	has := func(name string) *types.Signature {
		obj, _, _ := types.LookupFieldOrMethod(t, true, nil, name)
		f, ok := obj.(*types.Func)
		if !ok {
			return nil
		}
		return f.Type().(*types.Signature)
	}
	nextSig, errSig, scan := has("Next"), has("Err"), has("Scan")
	if nextSig == nil || errSig == nil || scan == nil {
		return false
	}
	if nextSig.Params().Len() != 0 || nextSig.Results().Len() != 1 || errSig.Params().Len() != 0 || errSig.Results().Len() != 1 {
		return false
	}
	b, ok := nextSig.Results().At(0).Type().Underlying().(*types.Basic)
	return ok && b.Kind() == types.Bool && types.Identical(errSig.Results().At(0).Type(), types.Universe.Lookup("error").Type())
}
