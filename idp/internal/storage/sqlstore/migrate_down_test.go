package sqlstore_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestMigrationsDown runs every migration up one at a time, then every one
// down again, then all up again with Migrate, on both backends. Each Down
// must put back exactly the schema its Up started from (tables, columns,
// types, defaults, constraints, indexes), and the schema Migrate builds
// afterwards must be the one it built the first time. Down migrations are
// otherwise never run, and a broken one would only show on the day of a
// rollback.
func TestMigrationsDown(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := open(t, d.dsn(t))
			p, db, dialect, err := s.MigrationsForTest()
			if err != nil {
				t.Fatal(err)
			}
			sources := p.ListSources()
			if len(sources) == 0 {
				t.Fatal("no migrations")
			}
			// schemas[i] is the schema after the first i migrations.
			schemas := []string{schemaOf(t, db, dialect)}
			if schemas[0] != "" {
				t.Fatalf("a fresh database has a schema:\n%s", schemas[0])
			}
			for _, src := range sources {
				if _, err := p.UpByOne(ctx); err != nil {
					t.Fatalf("up %d: %v", src.Version, err)
				}
				schemas = append(schemas, schemaOf(t, db, dialect))
			}
			for i := len(sources); i > 0; i-- {
				if _, err := p.Down(ctx); err != nil {
					t.Fatalf("down %d: %v", sources[i-1].Version, err)
				}
				if got := schemaOf(t, db, dialect); got != schemas[i-1] {
					t.Fatalf("down %d does not undo its up:\n%s", sources[i-1].Version, diffLines(schemas[i-1], got))
				}
			}
			if v, err := p.GetDBVersion(ctx); err != nil || v != 0 {
				t.Fatalf("version after every down: %d, %v", v, err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
			if got := schemaOf(t, db, dialect); got != schemas[len(sources)] {
				t.Fatalf("up after down builds another schema:\n%s", diffLines(schemas[len(sources)], got))
			}
			if err := s.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateUser(ctx, storage.User{Type: storage.UserTypeEmployee, GivenName: "Ada", FamilyName: "Lovelace",
				Email: "ada@example.com", Status: storage.StatusActive}); err != nil {
				t.Fatalf("the store on the rebuilt schema: %v", err)
			}
		})
	}
}

// schemaOf describes the application's schema (goose's own table left
// out), one sorted line per column, constraint and index; "" when empty.
func schemaOf(t *testing.T, db *sql.DB, dialect string) string {
	t.Helper()
	var queries []string
	switch dialect {
	case "postgres":
		queries = []string{
			`SELECT 'column', table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
			   FROM information_schema.columns
			  WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`,
			`SELECT 'constraint', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), '', ''
			   FROM pg_constraint c
			  WHERE c.connamespace = 'public'::regnamespace AND c.conrelid::regclass::text <> 'goose_db_version'`,
			`SELECT 'index', tablename, indexname, indexdef, '', ''
			   FROM pg_indexes
			  WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`,
		}
	case "sqlite":
		queries = []string{
			`SELECT m.type, m.name, coalesce(m.sql, ''), '', '', ''
			   FROM sqlite_master m
			  WHERE m.tbl_name <> 'goose_db_version' AND m.name NOT LIKE 'sqlite_%'`,
			`SELECT 'column', m.name, c.name, c.type, c."notnull" || ' pk' || c.pk, coalesce(c.dflt_value, '')
			   FROM sqlite_master m JOIN pragma_table_xinfo(m.name) c
			  WHERE m.type = 'table' AND m.name <> 'goose_db_version' AND m.name NOT LIKE 'sqlite_%'`,
		}
	default:
		t.Fatalf("dialect %q", dialect)
	}
	var lines []string
	for _, q := range queries {
		rows, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatalf("schema query: %v", err)
		}
		for rows.Next() {
			var f [6]string
			if err := rows.Scan(&f[0], &f[1], &f[2], &f[3], &f[4], &f[5]); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.Join(f[:], " | "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// diffLines lists the lines only in want (-) and only in got (+).
func diffLines(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
