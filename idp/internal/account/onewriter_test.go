package account_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// userWrites are the storage methods that write user records.
var userWrites = map[string]bool{"CreateUser": true, "UpdateUser": true}

// TestOneWriterOfUsers: account is the one writer of user records (a
// change and all its side effects commit together), so no other package of
// the provider calls the store's user writes. The storage packages
// implement them; tests and the bench's seeding are fixtures.
func TestOneWriterOfUsers(t *testing.T) {
	root := ".." // idp/internal
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "account" || rel == "storage" || strings.HasPrefix(rel, "storage"+string(filepath.Separator)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && userWrites[sel.Sel.Name] {
				t.Errorf("%s: %s writes a user outside account", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d files under %s; the walk missed the packages", checked, root)
	}
}
