package sqlstore

import "context"

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
