package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStmtCacheBounded: statements past maxCachedStmts distinct ones run
// unprepared, with the same answers, and the cache stays at the bound;
// a statement that does not prepare fails as it would unprepared.
func TestStmtCacheBounded(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "idp.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.stmts == nil {
		t.Fatal("SQLite store without a statement cache")
	}
	for i := range maxCachedStmts + 10 {
		var got int
		if err := s.q.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + $1", i), 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("statement %d: %d, %v; want %d", i, got, err, i+1)
		}
	}
	s.stmts.mu.Lock()
	n := len(s.stmts.m)
	s.stmts.mu.Unlock()
	if n != maxCachedStmts {
		t.Errorf("%d statements cached; want the bound, %d", n, maxCachedStmts)
	}
	if _, err := s.q.ExecContext(ctx, "SELEC 1"); err == nil {
		t.Error("a statement that does not parse ran")
	}
	if err := s.q.QueryRowContext(ctx, "SELEC 1").Scan(new(int)); err == nil {
		t.Error("a row query that does not parse answered")
	}
}
