package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// database is a fresh, empty database for one backend run.
type database struct {
	dsn string
	// seedDSN is what the seeder connects with: for PostgreSQL the same
	// database without waiting for the WAL flush of every commit, which
	// only makes seeding faster (the timed runs use dsn).
	seedDSN string
	// dataDir holds the SQLite file; the provider's IDP_DATA_DIR.
	dataDir string
	// analyze vacuums and refreshes the planner statistics after seeding,
	// as autovacuum does shortly after a bulk insert (PostgreSQL 13+), so
	// reads see the steady state (visibility map, hint bits, statistics)
	// rather than a table just loaded; nil for SQLite.
	analyze func(ctx context.Context) error
	drop    func()
}

// newDatabase is a fresh database of the backend named name ("sqlite" or
// "postgres" on o.postgres).
func newDatabase(ctx context.Context, name string, o options) (*database, error) {
	if name == "postgres" {
		return newPostgres(ctx, o.postgres)
	}
	return newSQLite()
}

// newSQLite is an SQLite file in a temporary directory, removed by drop.
func newSQLite() (*database, error) {
	dir, err := os.MkdirTemp("", "idpbench-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "idp.db")
	return &database{dsn: path, seedDSN: path, dataDir: dir, drop: func() { _ = os.RemoveAll(dir) }}, nil
}

// newPostgres creates idp_bench_<random> on server; drop removes it (and
// the temporary data directory). An unreachable server gives a skipError.
func newPostgres(ctx context.Context, server string) (*database, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, skip("the PostgreSQL server setting is not a postgres:// URL")
	}
	shown := u.Redacted()
	admin, err := sql.Open("pgx", server)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = admin.PingContext(pctx)
		cancel()
	}
	if err != nil {
		if admin != nil {
			_ = admin.Close()
		}
		return nil, skip("PostgreSQL at %s is unreachable (set IDP_BENCH_POSTGRES or IDP_TEST_POSTGRES to a server the bench may create databases on): %s",
			shown, oneLine(err, u))
	}
	name := "idp_bench_" + randomHex(6)
	// name is ours (letters, digits, underscore): safe to splice.
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("create database %s on %s: %s", name, shown, oneLine(err, u))
	}
	dir, err := os.MkdirTemp("", "idpbench-")
	if err != nil {
		dropDatabase(admin, name)
		return nil, err
	}
	db := &database{dataDir: dir}
	u.Path = "/" + name
	db.dsn = u.String()
	q := u.Query()
	q.Set("synchronous_commit", "off") // a runtime parameter to pgx
	u.RawQuery = q.Encode()
	db.seedDSN = u.String()
	db.analyze = func(ctx context.Context) error {
		c, err := sql.Open("pgx", db.dsn)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.ExecContext(ctx, `VACUUM (ANALYZE)`)
		return err
	}
	db.drop = func() {
		dropDatabase(admin, name)
		_ = os.RemoveAll(dir)
	}
	return db, nil
}

func dropDatabase(admin *sql.DB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		fmt.Fprintf(os.Stderr, "idpbench: drop database %s: %v (drop it by hand)\n", name, err)
	}
	_ = admin.Close()
}

// oneLine is err on one line without the URL's password.
func oneLine(err error, u *url.URL) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if p, ok := u.User.Password(); ok && p != "" {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
