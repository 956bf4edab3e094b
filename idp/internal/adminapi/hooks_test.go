package adminapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// hooks are test points in the admin API's transactions. The store
// underneath is the real one; a nil hook does nothing.
type hooks struct {
	// beginTx runs before each transaction starts (no lock held yet).
	beginTx func()
	// audit, when set, answers AppendAudit inside a transaction instead
	// of the store: the audit write that belongs to the change.
	audit func(storage.AuditEntry) error
	// listUsers runs before ListUsers inside a transaction.
	listUsers func(storage.UserQuery)
}

// hookedStore is the fixture's store with hooks on its transactions.
type hookedStore struct {
	storage.Storage
	h *hooks
}

func (s hookedStore) InTx(ctx context.Context, fn func(storage.Storage) error) error {
	if s.h.beginTx != nil {
		s.h.beginTx()
	}
	return s.Storage.InTx(ctx, func(tx storage.Storage) error { return fn(hookedTx{tx, s.h}) })
}

// hookedTx is a transaction's store with the hooks applied.
type hookedTx struct {
	storage.Storage
	h *hooks
}

func (t hookedTx) InTx(ctx context.Context, fn func(storage.Storage) error) error {
	return t.Storage.InTx(ctx, func(tx storage.Storage) error { return fn(hookedTx{tx, t.h}) })
}

func (t hookedTx) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	if t.h.audit != nil {
		return t.h.audit(e)
	}
	return t.Storage.AppendAudit(ctx, e)
}

func (t hookedTx) ListUsers(ctx context.Context, q storage.UserQuery) ([]storage.User, string, error) {
	if t.h.listUsers != nil {
		t.h.listUsers(q)
	}
	return t.Storage.ListUsers(ctx, q)
}

// hookedAPI is a second admin API handler for the fixture's issuer and
// keys, over the fixture's store with hooks h.
type hookedAPI struct {
	f   *fixture
	srv *httptest.Server
}

func (f *fixture) withHooks(h *hooks) *hookedAPI {
	f.t.Helper()
	st := hookedStore{f.store, h}
	accounts := &account.Service{Store: st, Hasher: cheapHasher, Logger: testLogger(), Now: f.clock.Now,
		Outbox: f.outbox, Issuer: f.issuer}
	handler, err := adminapi.New(adminapi.Deps{
		Store: st, Keys: f.keys, Issuer: f.issuer, Hasher: cheapHasher,
		Accounts: accounts, Logger: testLogger(), Now: f.clock.Now,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(adminapi.PathPrefix, handler)
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return &hookedAPI{f: f, srv: srv}
}

// client is the typed client acting as u. A request gives up after 10 s:
// a write that waits for a lock its own transaction holds (SQLite) then
// fails the test instead of hanging it.
func (a *hookedAPI) client(u storage.User) *api.Client {
	hc := *a.srv.Client()
	hc.Timeout = 10 * time.Second
	return api.NewClient(a.srv.URL, &hc, api.StaticToken(a.f.token(u)))
}

// meeting lets n goroutines wait for each other, each for at most d.
type meeting struct {
	n       int64
	d       time.Duration
	arrived atomic.Int64
	all     chan struct{}
	once    sync.Once
}

func newMeeting(n int, d time.Duration) *meeting {
	return &meeting{n: int64(n), d: d, all: make(chan struct{})}
}

// wait returns once all n have arrived, or after d.
func (m *meeting) wait() {
	if m.arrived.Add(1) >= m.n {
		m.once.Do(func() { close(m.all) })
	}
	select {
	case <-m.all:
	case <-time.After(m.d):
	}
}
