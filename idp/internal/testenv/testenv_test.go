package testenv

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// recorder stands in for a test to see what Require does to it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skip(args ...any)               { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestRequire(t *testing.T) {
	t.Setenv("CC_REQUIRE_ALL", "")
	r := &recorder{TB: t}
	Require(r, "no %s here", "chromium")
	if r.skipped != "no chromium here" || r.failed != "" {
		t.Errorf("locally: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}
	t.Setenv("CC_REQUIRE_ALL", "1")
	r = &recorder{TB: t}
	Require(r, "no %s here", "chromium")
	if r.failed != "required in CI: no chromium here" || r.skipped != "" {
		t.Errorf("in CI: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
}

func TestPostgresDSN(t *testing.T) {
	var dsn string
	t.Run("fresh", func(t *testing.T) {
		dsn = PostgresDSN(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var tables int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("fresh database has %d tables", tables)
		}
	})
	if dsn == "" {
		t.Skip("no PostgreSQL")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(name, "idp_test_") {
		t.Errorf("database %q: want a name starting idp_test_", name)
	}
	var n int
	if err := adminDB(t).QueryRowContext(t.Context(), `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test", name)
	}
}

func TestSQLitePath(t *testing.T) {
	p := SQLitePath(t)
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("SQLitePath %s: want a file that does not exist yet (stat: %v)", p, err)
	}
}
