package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// TestBenchSQLite runs the whole bench, tiny, on SQLite: it keeps the
// program compiling and its flows working against the real provider. It
// checks what was measured, never how fast.
func TestBenchSQLite(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-backend", "sqlite", "-n", "3", "-users", "200", "-flood", "0", "-load", "0", "-json", jsonPath}, &out, &errOut)
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
		"store.search", "store.search.page2", "store.search.filter", "store.search.rare", "store.search.none",
		"api.employees.list", "api.employees.list.deep", "api.employees.search", "api.employees.search.none"} {
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
	// About 30 % of the 200 seeded users are employees, and the bench user
	// is one: more than one page of 50.
	if r := ops["api.employees.list"]; r != nil && (r.Rows != 50 || r.Kind != kindAPI) {
		t.Errorf("api.employees.list returned %d rows (kind %s), want a full page of 50 (api)", r.Rows, r.Kind)
	}
	if r := ops["api.employees.list.deep"]; r != nil && (r.Rows == 0 || r.Rows == 50) {
		t.Errorf("api.employees.list.deep returned %d rows, want the partial last page", r.Rows)
	}
	if r := ops["api.employees.search.none"]; r != nil && r.Rows != 0 {
		t.Errorf("api.employees.search.none returned %d rows, want 0", r.Rows)
	}
	if r := ops["api.employees.search"]; r != nil && r.Rows == 0 {
		t.Error(`api.employees.search "smi" found nobody`)
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

// The admin API session renews its access token by the refresh_token
// grant when it is about to expire (a run longer than the access token
// TTL), and the renewed token works.
func TestAdminTokenRefresh(t *testing.T) {
	ctx := t.Context()
	db, err := newSQLite()
	if err != nil {
		t.Fatal(err)
	}
	defer db.drop()
	logger := slog.New(slog.DiscardHandler)
	st, err := openStore(ctx, db.dsn, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := startProvider(ctx, st, db, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	s, err := newAdminSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.fresh(ctx); err != nil { // fresh enough: no refresh
		t.Fatal(err)
	}
	old := s.access
	if s.refreshTk == "" || time.Until(s.expires) <= tokenMargin {
		t.Fatalf("admin session: refresh token %t, expires in %v", s.refreshTk != "", time.Until(s.expires))
	}
	s.expires = time.Now().Add(tokenMargin / 2) // about to expire
	if err := s.fresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s.access == old || time.Until(s.expires) <= tokenMargin {
		t.Fatalf("not refreshed: same token %t, expires in %v", s.access == old, time.Until(s.expires))
	}
	me, err := adminapi.NewClient(p.issuer, p.api, s.token).Me(ctx)
	if err != nil {
		t.Fatalf("admin API with the refreshed token: %v", err)
	}
	if !slices.Contains(me.User.Roles, adminapi.RoleSuperAdmin) {
		t.Errorf("me = %+v, want the bench user as super_admin", me.User)
	}
}
