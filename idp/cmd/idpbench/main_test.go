package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSQLite runs the whole bench, tiny, on SQLite: it keeps the
// program compiling and its flows working against the real provider. It
// checks what was measured, never how fast.
func TestBenchSQLite(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-backend", "sqlite", "-n", "3", "-users", "200", "-json", jsonPath}, &out, &errOut)
	t.Logf("output:\n%s", out.String())
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if len(rep.Backends) != 1 || rep.Backends[0].Backend != "sqlite" {
		t.Fatalf("backends = %+v, want sqlite alone", rep.Backends)
	}
	run := rep.Backends[0]
	if run.Users != 201 { // the seeded users and the one who signs in
		t.Errorf("users = %d, want 201", run.Users)
	}
	ops := map[string]*opResult{}
	for _, r := range run.Ops {
		ops[r.Op] = r
	}
	for _, name := range []string{"login", "token", "refresh", "userinfo", "introspection",
		"store.list", "store.list.deep", "store.list.filter", "store.list.role",
		"store.search", "store.search.page2", "store.search.filter", "store.search.rare", "store.search.none"} {
		r := ops[name]
		switch {
		case r == nil:
			t.Errorf("%s: not measured", name)
		case r.N != 3:
			t.Errorf("%s: n = %d, want 3", name, r.N)
		case r.P50MS <= 0 || r.P50MS > r.P95MS || r.P95MS > r.P99MS || r.P99MS > r.MaxMS:
			t.Errorf("%s: percentiles out of order: %+v", name, r)
		case r.OpsPerS <= 0:
			t.Errorf("%s: ops/s = %v", name, r.OpsPerS)
		}
		if !strings.Contains(out.String(), "sqlite    "+name+" ") {
			t.Errorf("%s: no table row", name)
		}
	}
	if r := ops["store.list"]; r != nil && r.Rows != 50 {
		t.Errorf("store.list returned %d rows, want a full page of 50", r.Rows)
	}
	if r := ops["store.search.none"]; r != nil && r.Rows != 0 {
		t.Errorf("store.search.none returned %d rows, want 0", r.Rows)
	}
	if r := ops["store.search"]; r != nil && r.Rows == 0 {
		t.Error(`store.search "smi" found nobody among 200 users`)
	}
	if rep.Target == nil || rep.Target.Met || !strings.Contains(rep.Target.Note, "NOT EVALUATED") {
		t.Errorf("target without PostgreSQL = %+v, want not evaluated", rep.Target)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-backend", "mysql"}, {"-n", "0"}, {"-users", "-1"}, {"-seeders", "0"}, {"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// An unreachable PostgreSQL server is skipped with a clear line; with no
// other backend, nothing ran and the exit status says so.
func TestPostgresUnreachable(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-backend", "postgres", "-n", "1", "-users", "0",
		"-postgres", "postgres://postgres:hunter2@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out.String(), "postgres: SKIPPED: PostgreSQL at") || !strings.Contains(out.String(), "unreachable") {
		t.Errorf("no skip line:\n%s", out.String())
	}
	if strings.Contains(out.String()+errOut.String(), "hunter2") {
		t.Error("the password was shown")
	}
}
