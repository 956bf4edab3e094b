// Package testenv gives tests the real parts they run against — a fresh
// PostgreSQL database, an SQLite file — and one rule for a part that is
// missing: skip locally, fail in CI, where CC_REQUIRE_ALL=1 is set.
package testenv

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
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Require skips the test with the message, or fails it when CC_REQUIRE_ALL=1
// (CI), so that nothing a missing part would hide goes unnoticed there.
func Require(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CC_REQUIRE_ALL") == "1" {
		t.Fatalf("required in CI: %s", msg)
		return
	}
	t.Skip(msg)
}

// DefaultPostgres is the server tests use when IDP_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresServer is the URL of the server tests create databases on:
// IDP_TEST_POSTGRES, or DefaultPostgres.
func PostgresServer() string {
	if v := os.Getenv("IDP_TEST_POSTGRES"); v != "" {
		return v
	}
	return DefaultPostgres
}

// server is the one administrative connection pool per test binary; a server
// that does not answer is tried once, not once per test.
var server struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	server.once.Do(func() {
		db, err := sql.Open("pgx", PostgresServer())
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = db.PingContext(ctx)
			cancel()
		}
		if err != nil {
			if db != nil {
				_ = db.Close()
			}
			server.err = err
			return
		}
		server.db = db
	})
	if server.err != nil {
		Require(t, "PostgreSQL at %s is unreachable (set IDP_TEST_POSTGRES to a server tests may create databases on): %s",
			redacted(PostgresServer()), strings.Join(strings.Fields(server.err.Error()), " "))
	}
	return server.db
}

// PostgresDSN creates an empty database with a random name on the test
// server, drops it when the test ends, and returns its URL.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	db := adminDB(t)
	name := "idp_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// name is ours (letters, digits, underscore): safe to splice.
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return databaseURL(t, name)
}

// databaseURL is the server URL pointing at database name.
func databaseURL(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(PostgresServer())
	if err != nil {
		t.Fatalf("IDP_TEST_POSTGRES does not parse as a URL")
	}
	u.Path = "/" + name
	return u.String()
}

// SQLitePath returns the path of a not yet existing SQLite file in the
// test's temporary directory.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "idp.db")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// redacted shows a URL without its password.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(IDP_TEST_POSTGRES, not a URL)"
	}
	return u.Redacted()
}
