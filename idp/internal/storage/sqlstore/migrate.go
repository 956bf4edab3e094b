package sqlstore

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/migrations"
)

// Migrate applies the pending embedded migrations. It is safe to run twice
// and from several processes at once: PostgreSQL serializes migrators on an
// advisory lock, SQLite on an exclusive lock of <dbfile>.migrate-lock.
func (s *Store) Migrate(ctx context.Context) error {
	locker, err := s.d.migrationLocker(s.path)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.name, err)
	}
	p, err := s.provider(goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.name, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.name, err)
	}
	for _, r := range results {
		s.log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	version, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: read version: %w", s.name, err)
	}
	s.log.Info("database schema is current", "dialect", s.d.name, "version", version, "applied", len(results))
	return nil
}

// Ready returns nil when the database answers and every embedded migration
// has been applied, and storage.ErrNotMigrated (wrapped) when some are not.
// On a database never migrated it leaves goose's (empty) version table
// behind.
func (s *Store) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database %s: %w", s.name, s.check(ctx, err))
	}
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("database %s: %w", s.name, err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("database %s: check migrations: %w", s.name, s.check(ctx, err))
	}
	if pending {
		return fmt.Errorf("database %s: %w", s.name, storage.ErrNotMigrated)
	}
	return nil
}

// provider returns a goose provider for this dialect's embedded migrations.
// A provider remembers that it created the version table, even when that
// failed, so each call gets a fresh one.
func (s *Store) provider(opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, err := migrations.Dialect(s.d.name)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(s.d.goose, s.db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}
