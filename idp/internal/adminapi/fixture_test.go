package adminapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// backend is a store the tests run on: SQLite and a fresh PostgreSQL
// database (skipped locally when PostgreSQL is unreachable, required in CI).
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return testenv.SQLitePath(t) }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresDSN(t) }},
}

// forEachBackend runs fn on a fresh fixture of every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, newFixture(t, b)) })
	}
}

var cheapHasher = password.Hasher{}.WithParams(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})

func testLogger() *slog.Logger {
	if os.Getenv("IDP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// access tokens the provider would issue.
type fixture struct {
	t      *testing.T
	store  storage.Storage
	keys   *keys.Set
	outbox *notify.Outbox
	clock  *testenv.ShiftedClock
	srv    *httptest.Server
	issuer string
	h      *adminapi.Handler
	// mobile is the mobile credential use cases the handler runs.
	mobile *account.Mobile
	mfa    *account.MFA
	// adminClient is a client allowed scope admin; tokens are issued to it.
	adminClient storage.Client
	n           atomic.Int64
}

func newFixture(t *testing.T, b backend) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, b.dsn(t), testLogger())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	kek := make([]byte, keys.KEKSize)
	_, _ = rand.Read(kek)
	f := &fixture{t: t, store: st, clock: &testenv.ShiftedClock{}}
	f.keys = &keys.Set{
		ID:     &keys.Manager{Store: st, KEK: kek, Rotation: 24 * time.Hour, Lifetime: 10 * time.Minute},
		Access: &keys.Manager{Store: st, Algorithm: keys.ES256, KEK: kek, Rotation: 24 * time.Hour, Lifetime: 10 * time.Minute},
	}
	if err := f.keys.Ensure(ctx); err != nil {
		t.Fatalf("keys: %v", err)
	}
	f.outbox, err = notify.NewOutbox(kek)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL
	accounts := &account.Service{Store: st, Hasher: cheapHasher, Logger: testLogger(), Now: f.clock.Now,
		Outbox: f.outbox, Issuer: f.issuer}
	if f.mobile, err = account.NewMobile(accounts, kek, true); err != nil {
		t.Fatal(err)
	}
	f.mfa, err = account.NewMFA(accounts, kek, &signin.Service{Store: st, Hasher: cheapHasher, Now: f.clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.h, err = adminapi.New(adminapi.Deps{
		Store: st, Keys: f.keys, Issuer: f.issuer, Hasher: cheapHasher,
		Accounts: accounts, Mobile: f.mobile, MFA: f.mfa, Logger: testLogger(), Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(adminapi.PathPrefix, f.h)
	if _, err := adminapi.EnsureDesktopClient(ctx, st, cheapHasher); err != nil {
		t.Fatal(err)
	}
	f.adminClient, err = st.GetClient(ctx, api.DesktopClientID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) seq() int64 { return f.n.Add(1) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// user stores a user directly (the fixture's way; the API's is tested).
func (f *fixture) user(typ storage.UserType, status storage.UserStatus, roles ...storage.Role) storage.User {
	f.t.Helper()
	n := f.seq()
	u := storage.User{
		Type: typ, Status: status, Roles: roles,
		GivenName: "Grace", FamilyName: fmt.Sprintf("Hopper%d", n),
		Email:    fmt.Sprintf("user%d-%s@example.com", n, randHex(3)),
		JobTitle: "Nurse",
	}
	if status != storage.StatusInvited {
		u.PasswordHash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
		u.EmailVerified = true
	}
	if typ == storage.UserTypeClinician {
		u.Phone = f.phone()
		u.Discipline = "RN"
	}
	u, err := f.store.CreateUser(context.Background(), u)
	if err != nil {
		f.t.Fatalf("create user: %v", err)
	}
	return u
}

// phone is a valid, unused E.164 number.
func (f *fixture) phone() string {
	return fmt.Sprintf("+1415555%04d", f.seq()%10000)
}

func (f *fixture) active(typ storage.UserType, roles ...storage.Role) storage.User {
	return f.user(typ, storage.StatusActive, roles...)
}

func (f *fixture) get(id string) storage.User {
	f.t.Helper()
	u, err := f.store.GetUser(context.Background(), id)
	if err != nil {
		f.t.Fatalf("get user %s: %v", id, err)
	}
	return u
}

// tokenOpts change a minted token.
type tokenOpts struct {
	scopes  []string
	ttl     time.Duration
	issuer  string
	client  string
	aud     []string
	service bool
	// idKey signs with the ID token key (RS256) instead of the access
	// token key (ES256): what no access token the provider issues is.
	idKey bool
}

// token mints an access token for u as the provider does: a JWT signed
// with the current access token key (ES256) and recorded in the store
// under its jti.
func (f *fixture) token(u storage.User, o ...func(*tokenOpts)) string {
	f.t.Helper()
	opts := tokenOpts{scopes: []string{"openid", "profile", api.Scope}, ttl: 5 * time.Minute, issuer: f.issuer, client: f.adminClient.ID}
	opts.aud = []string{opts.client, api.Audience(f.issuer)}
	for _, fn := range o {
		fn(&opts)
	}
	ctx := context.Background()
	now := f.clock.Now().UTC().Truncate(time.Second)
	jti := randHex(16)
	family, subject := "family-"+jti, u.ID
	if opts.service {
		family, subject = "", opts.client
	}
	err := f.store.CreateAccessToken(ctx, storage.AccessToken{
		ID: jti, FamilyID: family, ClientID: opts.client, Subject: subject, Audience: opts.aud,
		Scopes: opts.scopes, CreatedAt: now, ExpiresAt: now.Add(opts.ttl),
	})
	if err != nil {
		f.t.Fatalf("record access token: %v", err)
	}
	m := f.keys.Access
	if opts.idKey {
		m = f.keys.ID
	}
	meta, priv, err := m.Signing(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(meta.Algorithm), Key: jose.JSONWebKey{Key: priv, KeyID: meta.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		f.t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{
		"iss": opts.issuer, "sub": subject, "aud": opts.aud, "jti": jti,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(opts.ttl).Unix(),
		"client_id": opts.client, "scope": strings.Join(opts.scopes, " "),
	})
	jws, err := signer.Sign(claims)
	if err != nil {
		f.t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

// client is the shared typed client acting as u.
func (f *fixture) client(u storage.User) *api.Client {
	return api.NewClient(f.issuer, f.srv.Client(), api.StaticToken(f.token(u)))
}

// response is an answer with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorBody(t *testing.T) api.Error {
	t.Helper()
	var b api.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error == nil {
		t.Fatalf("status %d: not an error body: %s", r.status, r.body)
	}
	return *b.Error
}

// do sends a raw request (path relative to the issuer).
func (f *fixture) do(method, path, token string, body string, header ...string) response {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.issuer+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// messages returns the emails queued to addr, opened.
func (f *fixture) messages(addr string) []notify.Email {
	f.t.Helper()
	msgs, err := f.store.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []notify.Email
	for _, m := range msgs {
		if m.To != addr {
			continue
		}
		e, err := f.outbox.Open(m)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// audit returns the audit entries about target, newest first.
func (f *fixture) audit(target string) []storage.AuditEntry {
	f.t.Helper()
	es, _, err := f.store.ListAudit(context.Background(), storage.AuditQuery{TargetID: target, Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}
