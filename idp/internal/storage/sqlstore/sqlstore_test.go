package sqlstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/storage/storagetest"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

func TestSQLite(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage { return migrated(t, testenv.SQLitePath(t)) })
}

func TestPostgres(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage { return migrated(t, testenv.PostgresDSN(t)) })
}

// dialects gives each test below a fresh database of both kinds.
var dialects = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return testenv.SQLitePath(t) }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresDSN(t) }},
}

// open opens dsn and closes the store when the test ends.
func open(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func migrated(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s := open(t, dsn)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenUnreachable(t *testing.T) {
	for _, tc := range []struct {
		dsn, shown string
	}{
		{"postgres://nobody@127.0.0.1:1/x", "postgres://nobody@127.0.0.1:1/x"},
		{"postgresql://nobody:s3cr3t-pw@127.0.0.1:1/x?sslmode=disable", "postgresql://nobody:xxxxx@127.0.0.1:1/x?sslmode=disable"},
		{"postgres://nobody@127.0.0.1:1/x?password=s3cr3t-pw", "postgres://nobody@127.0.0.1:1/x?password=xxxxx"},
	} {
		_, err := sqlstore.Open(t.Context(), tc.dsn, nil)
		if err == nil {
			t.Fatalf("Open(%s): want an error", tc.shown)
		}
		msg := err.Error()
		t.Logf("Open(%s): %s", tc.shown, msg)
		want := "database " + tc.shown + " is unreachable: "
		if !strings.HasPrefix(msg, want) {
			t.Errorf("error %q: want it to start %q", msg, want)
		}
		if !strings.Contains(msg, "connection refused") {
			t.Errorf("error %q: want the reason (connection refused)", msg)
		}
		if strings.Contains(msg, "s3cr3t-pw") || strings.Contains(msg, "\n") {
			t.Errorf("error %q leaks the password or spans lines", msg)
		}
	}
}

func TestOpenBadSQLitePath(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", ":memory:", "file:x.db"} {
		if _, err := sqlstore.Open(t.Context(), dsn, nil); err == nil {
			t.Errorf("Open(%q): want an error", dsn)
		}
	}
	// A path that cannot be created (its "directory" is a file) names the
	// file and says why.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(file, "idp.db")
	_, err := sqlstore.Open(t.Context(), bad, nil)
	if err == nil || !strings.Contains(err.Error(), "database "+bad+" is unreachable: ") {
		t.Errorf("Open(%s): %v", bad, err)
	}
}

func TestSQLitePrefixAndOddPath(t *testing.T) {
	// "sqlite:" is optional; characters a URI would misread are escaped.
	path := t.TempDir() + "/sub dir/a?b#c%d.db"
	s := migrated(t, "sqlite:"+path)
	if err := s.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateUser(t.Context(), storage.User{Type: storage.UserTypeEmployee, Status: storage.StatusActive, Email: "a@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	again := open(t, path)
	if n, err := again.CountUsers(t.Context()); err != nil || n != 1 {
		t.Fatalf("reopened %s: %d users, %v", path, n, err)
	}
}

func TestMigrateReady(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var log bytes.Buffer
			s, err := sqlstore.Open(ctx, d.dsn(t), slog.New(slog.NewTextHandler(&log, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Ready(ctx); !errors.Is(err, storage.ErrNotMigrated) {
				t.Fatalf("Ready before Migrate: %v, want ErrNotMigrated", err)
			}
			for run, applied := range []string{"version=1 ", ""} { // the second run has nothing to do
				log.Reset()
				if err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				if err := s.Ready(ctx); err != nil {
					t.Fatalf("Ready after Migrate: %v", err)
				}
				got := strings.Contains(log.String(), "migration applied")
				if got != (applied != "") || !strings.Contains(log.String(), applied) {
					t.Errorf("Migrate run %d logged:\n%s\nwant applied %q", run+1, log.String(), applied)
				}
			}
		})
	}
}

// TestMigrateConcurrently: replicas starting together on one database each
// migrate; the schema is applied once and every one of them ends ready.
func TestMigrateConcurrently(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			dsn := d.dsn(t)
			const replicas = 4
			stores := make([]*sqlstore.Store, replicas)
			for i := range stores {
				stores[i] = open(t, dsn)
			}
			var wg sync.WaitGroup
			errs := make([]error, replicas)
			for i, s := range stores {
				wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("replica %d: Migrate: %v", i, err)
				}
				if err := stores[i].Ready(t.Context()); err != nil {
					t.Errorf("replica %d: Ready: %v", i, err)
				}
			}
		})
	}
}
