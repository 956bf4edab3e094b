package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
)

// backendRun is one backend's results.
type backendRun struct {
	Backend     string      `json:"backend"`
	Users       int         `json:"users"`
	SeedSeconds float64     `json:"seed_seconds,omitempty"`
	SeedMethod  string      `json:"seed_method,omitempty"`
	Ops         []*opResult `json:"ops"`
	// Load is issue 11's CPU table (nil with -load 0).
	Load *loadRun `json:"load,omitempty"`
	// Flood is the flood's figures (nil with -flood 0).
	Flood *floodResult `json:"flood,omitempty"`
}

// loginChunk bounds how many codes wait between their sign-in and their
// exchange, well inside the auth request lifetime (10 minutes).
const loginChunk = 100

// runBackend benchmarks one backend on a fresh database.
func runBackend(ctx context.Context, name string, o options, stdout, progress io.Writer) (*backendRun, error) {
	db, err := newDatabase(ctx, name, o)
	if err != nil {
		return nil, err
	}
	defer db.drop()

	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	st, err := openStore(ctx, db.dsn, logger)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	run := &backendRun{Backend: name}
	var ids []string
	if o.users > 0 {
		fmt.Fprintf(progress, "%s: seeding %d users…\n", name, o.users)
		if ids, err = seed(ctx, st, db, o, run, logger); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "%s: seeded %d users in %.1f s (%.0f users/s; %s)\n",
			name, len(ids), run.SeedSeconds, float64(len(ids))/run.SeedSeconds, run.SeedMethod)
	}

	srvCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	p, err := startProvider(srvCtx, st, db, logger)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if run.Users, err = st.CountUsers(ctx); err != nil {
		return nil, err
	}

	fmt.Fprintf(progress, "%s: HTTP operations…\n", name)
	ops, err := httpOps(ctx, p, o.n)
	if err != nil {
		return nil, err
	}
	run.Ops = append(run.Ops, ops...)
	if len(ids) > 0 {
		fmt.Fprintf(progress, "%s: list and search…\n", name)
		ops, err := storageOps(ctx, st, ids, o.n)
		if err != nil {
			return nil, err
		}
		run.Ops = append(run.Ops, ops...)
		fmt.Fprintf(progress, "%s: admin API list and search…\n", name)
		if ops, err = apiOps(ctx, p, o.n); err != nil {
			return nil, fmt.Errorf("admin API: %w", err)
		}
		run.Ops = append(run.Ops, ops...)
	}
	p.close()
	stopServer()
	if o.load > 0 {
		fmt.Fprintf(progress, "%s: load…\n", name)
		if run.Load, err = runLoad(ctx, name, o, progress); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
	}
	if o.flood > 0 {
		fmt.Fprintf(progress, "%s: flood…\n", name)
		if run.Flood, err = floodBackend(ctx, name, o, progress); err != nil {
			return nil, fmt.Errorf("flood: %w", err)
		}
	}
	return run, nil
}

// floodBackend runs the flood on a fresh database of backend name.
func floodBackend(ctx context.Context, name string, o options, progress io.Writer) (*floodResult, error) {
	db, err := newDatabase(ctx, name, o)
	if err != nil {
		return nil, err
	}
	defer db.drop()
	return runFlood(ctx, floodConfig{idp: o.idp, dsn: db.dsn, dataDir: db.dataDir,
		duration: o.flood, conns: o.floodConns, progress: progress})
}

func openStore(ctx context.Context, dsn string, logger *slog.Logger) (*sqlstore.Store, error) {
	st, err := sqlstore.Open(ctx, dsn, logger)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return st, nil
}

// seed fills the directory with o.users users, through a second store when
// the database has a seeding DSN of its own, and refreshes the planner's
// statistics where there are any to refresh.
func seed(ctx context.Context, st *sqlstore.Store, db *database, o options, run *backendRun, logger *slog.Logger) ([]string, error) {
	seeder := st
	if db.seedDSN != db.dsn {
		s, err := sqlstore.Open(ctx, db.seedDSN, logger)
		if err != nil {
			return nil, fmt.Errorf("open seeding store: %w", err)
		}
		defer s.Close()
		seeder = s
	}
	// SQLite has one writer: more seeders only queue for its lock, and a
	// transaction queued behind several 500-user batches would wait past
	// the store's bound on a wait (IDP_DATABASE_WAIT) and be refused.
	workers := o.seeders
	if run.Backend == "sqlite" {
		workers = 1
	}
	t0 := time.Now()
	ids, method, err := seedUsers(ctx, seeder, o.users, workers)
	if err != nil {
		return nil, err
	}
	if db.seedDSN != db.dsn {
		method += ", synchronous_commit=off"
	}
	if db.analyze != nil {
		if err := db.analyze(ctx); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		method += ", then VACUUM (ANALYZE)"
	}
	run.SeedSeconds = time.Since(t0).Seconds()
	run.SeedMethod = method
	return ids, nil
}

// httpOps times sign-in, code exchange, refresh, userinfo and
// introspection, n times each, after one untimed round that warms
// connections and caches.
func httpOps(ctx context.Context, p *provider, n int) ([]*opResult, error) {
	c, err := p.login(ctx)
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	t, err := p.exchange(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("warm-up exchange: %w", err)
	}
	if t, err = p.refresh(ctx, t.RefreshToken); err != nil {
		return nil, fmt.Errorf("warm-up refresh: %w", err)
	}
	if err := p.userinfo(ctx, t.AccessToken); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := p.introspect(ctx, t.AccessToken); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}

	// Sign-ins and exchanges alternate in chunks: each chunk's sign-ins
	// are the login runs and, untimed for token, make the codes its
	// exchanges redeem.
	var login, token sampler
	for done := 0; done < n; {
		k := min(loginChunk, n-done)
		codes := make([]code, 0, k)
		login.start()
		for range k {
			if err := login.time(func() error {
				c, err := p.login(ctx)
				codes = append(codes, c)
				return err
			}); err != nil {
				return nil, fmt.Errorf("login: %w", err)
			}
		}
		login.stop()
		token.start()
		for _, c := range codes {
			if err := token.time(func() error { _, err := p.exchange(ctx, c); return err }); err != nil {
				return nil, fmt.Errorf("token: %w", err)
			}
		}
		token.stop()
		done += k
	}

	var refresh sampler
	rt, at := t.RefreshToken, t.AccessToken
	refresh.start()
	for range n {
		if err := refresh.time(func() error {
			nt, err := p.refresh(ctx, rt)
			rt, at = nt.RefreshToken, nt.AccessToken
			return err
		}); err != nil {
			return nil, fmt.Errorf("refresh: %w", err)
		}
	}
	refresh.stop()

	var userinfo sampler
	userinfo.start()
	for range n {
		if err := userinfo.time(func() error { return p.userinfo(ctx, at) }); err != nil {
			return nil, err
		}
	}
	userinfo.stop()

	var introspect sampler
	introspect.start()
	for range n {
		if err := introspect.time(func() error { return p.introspect(ctx, at) }); err != nil {
			return nil, err
		}
	}
	introspect.stop()

	ops := []*opResult{
		login.result("login", kindHTTP),
		token.result("token", kindHTTP),
		refresh.result("refresh", kindHTTP),
		userinfo.result("userinfo", kindHTTP),
		introspect.result("introspection", kindHTTP),
	}
	ops[0].Note = "GET /authorize → GET /login → POST /login (argon2id) → callback redirect with a code; new cookie jar, no SSO session"
	ops[1].Note = "authorization_code grant with PKCE, client_secret_basic (generated secret: SHA-256); codes made by the login runs"
	ops[2].Note = "refresh_token grant, client_secret_basic (generated secret: SHA-256), chained through the rotated tokens"
	ops[3].Note = "GET userinfo with the bearer access token (JWT)"
	ops[4].Note = "POST introspection endpoint, client_secret_basic (generated secret: SHA-256)"
	return ops, nil
}

// listCase is one ListUsers query timed on the seeded directory.
type listCase struct {
	op, note string
	q        storage.UserQuery
}

// storageOps times ListUsers pages (Limit 50) on the seeded directory: plain
// listing, a deep page via the cursor, filters, and searches from common to
// matching nothing (a full scan).
func storageOps(ctx context.Context, st storage.Storage, ids []string, n int) ([]*opResult, error) {
	// The cursor of the second page of the common search.
	_, searchNext, err := st.ListUsers(ctx, storage.UserQuery{Search: "smi", Limit: 50})
	if err != nil {
		return nil, err
	}
	cases := []listCase{
		{"store.list", "ListUsers, first page of 50, no filter", storage.UserQuery{Limit: 50}},
		{"store.list.deep", "ListUsers, page after the cursor 90 % through the directory", storage.UserQuery{Limit: 50, After: ids[len(ids)*9/10]}},
		{"store.list.filter", "ListUsers Type=clinician Status=active", storage.UserQuery{Type: storage.UserTypeClinician, Status: storage.StatusActive, Limit: 50}},
		{"store.list.role", "ListUsers Role=admin (~0.5 % of users)", storage.UserQuery{Role: storage.RoleAdmin, Limit: 50}},
		{"store.search", `ListUsers Search "smi" (a few % of users), first page`, storage.UserQuery{Search: "smi", Limit: 50}},
		{"store.search.page2", `ListUsers Search "smi", second page via the cursor`, storage.UserQuery{Search: "smi", After: searchNext, Limit: 50}},
		{"store.search.filter", `ListUsers Search "smi" Type=employee Status=active`, storage.UserQuery{Search: "smi", Type: storage.UserTypeEmployee, Status: storage.StatusActive, Limit: 50}},
		{"store.search.rare", `ListUsers Search "okafor" (~0.5 % of users)`, storage.UserQuery{Search: "okafor", Limit: 50}},
		{"store.search.none", `ListUsers Search "qzxj" (matches nobody; a scan unless indexed)`, storage.UserQuery{Search: "qzxj", Limit: 50}},
	}
	var out []*opResult
	for _, c := range cases {
		if _, _, err := st.ListUsers(ctx, c.q); err != nil { // warm-up
			return nil, fmt.Errorf("%s: %w", c.op, err)
		}
		var s sampler
		var rows int
		s.start()
		for range n {
			if err := s.time(func() error {
				users, _, err := st.ListUsers(ctx, c.q)
				rows = len(users)
				return err
			}); err != nil {
				return nil, fmt.Errorf("%s: %w", c.op, err)
			}
		}
		s.stop()
		r := s.result(c.op, kindStorage)
		r.Rows = rows
		r.Note = c.note
		out = append(out, r)
	}
	return out, nil
}
