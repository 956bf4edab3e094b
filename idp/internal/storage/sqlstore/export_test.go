package sqlstore

import (
	"context"
	"database/sql"

	"github.com/pressly/goose/v3"
)

// Test hooks for the external test package (tests of one migration's data
// changes): apply migrations up to a version, run a raw statement.

func (s *Store) MigrateUpTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

func (s *Store) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, query, args...)
	return err
}

// MigrationsForTest gives the external tests the store's goose provider,
// its database and its dialect name ("postgres" or "sqlite"), so that they
// can run the Down migrations the store itself never runs.
func (s *Store) MigrationsForTest() (*goose.Provider, *sql.DB, string, error) {
	p, err := s.provider()
	return p, s.db, s.d.name, err
}
