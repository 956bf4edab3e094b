package migrations

import (
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// numbered is the only file name shape goose applies: NNNNN_name.sql.
var numbered = regexp.MustCompile(`^[0-9]{5}_[a-z0-9_]+\.sql$`)

// files lists the migration files of one dialect, failing on any file that
// does not follow the numbering scheme.
func files(t *testing.T, dialect string) map[string]bool {
	t.Helper()
	sub, err := Dialect(dialect)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		t.Fatalf("read %s: %v", dialect, err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		if !numbered.MatchString(e.Name()) {
			t.Errorf("%s/%s: name is not NNNNN_name.sql", dialect, e.Name())
			continue
		}
		names[e.Name()] = true
	}
	if len(names) == 0 {
		t.Errorf("%s: no migrations", dialect)
	}
	return names
}

// TestDialectsInLockstep fails when the folders do not hold the same set of
// numbered files: one change must be one number in both dialects.
func TestDialectsInLockstep(t *testing.T) {
	pg, lite := files(t, "postgres"), files(t, "sqlite")
	for name := range pg {
		if !lite[name] {
			t.Errorf("postgres/%s has no sqlite/%s", name, name)
		}
	}
	for name := range lite {
		if !pg[name] {
			t.Errorf("sqlite/%s has no postgres/%s", name, name)
		}
	}
	// Numbers are unique and consecutive from 1, so two engineers who picked
	// the same number notice here rather than in production.
	for i, name := range slices.Sorted(maps.Keys(pg)) {
		if want := fmt.Sprintf("%05d", i+1); name[:5] != want {
			t.Errorf("postgres/%s: want number %s", name, want)
		}
	}
}

// TestGooseAnnotations checks every file has both directions, so a rollback
// never meets a file goose cannot reverse.
func TestGooseAnnotations(t *testing.T) {
	for _, dialect := range Dialects {
		sub, err := Dialect(dialect)
		if err != nil {
			t.Fatal(err)
		}
		for name := range files(t, dialect) {
			b, err := fs.ReadFile(sub, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"-- +goose Up", "-- +goose Down"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("%s/%s: missing %q", dialect, name, want)
				}
			}
		}
	}
}

func TestUnknownDialect(t *testing.T) {
	if _, err := Dialect("mysql"); err == nil {
		t.Fatal("Dialect(mysql): want an error")
	}
}
