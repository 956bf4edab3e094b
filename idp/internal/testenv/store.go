package testenv

import (
	"context"
	"log/slog"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
)

// Backend is a kind of store the tests run against.
type Backend struct {
	Name string
	// DSN makes a fresh, empty database of this kind for t.
	DSN func(t testing.TB) string
}

// Backends lists every backend: every behaviour is tested on each.
var Backends = []Backend{{"sqlite", SQLitePath}, {"postgres", PostgresDSN}}

// OpenStore opens and migrates the store at dsn and closes it when t ends.
// A nil logger discards.
func OpenStore(t testing.TB, dsn string, logger *slog.Logger) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, logger)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// EachStore runs fn in a parallel subtest per backend, each on a fresh,
// migrated store.
func EachStore(t *testing.T, fn func(t *testing.T, st storage.Storage)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, OpenStore(t, b.DSN(t), nil))
		})
	}
}
