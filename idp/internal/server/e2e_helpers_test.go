package server_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/storage/sqlstore"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// backend names a store the e2e tests run on.
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return testenv.SQLitePath(t) }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresDSN(t) }},
}

// cheapHasher keeps argon2id but makes it fast for tests.
var cheapHasher = password.Hasher{Params: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}

func testLogger() *slog.Logger {
	if os.Getenv("IDP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func openStore(t *testing.T, dsn string, opts ...sqlstore.Option) storage.Storage {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, testLogger(), opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// switchHandler lets one httptest server (one issuer URL) be answered by
// any of several server instances.
type switchHandler struct{ h atomic.Pointer[http.Handler] }

func (s *switchHandler) set(h http.Handler) { s.h.Store(&h) }
func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// env is one provider served over HTTP with its store.
type env struct {
	t      *testing.T
	store  storage.Storage
	srv    *httptest.Server
	sw     *switchHandler
	issuer string
	kek    []byte
	cfg    config.Config
	n      atomic.Int64 // makes fixture names unique
	// logger, when set before instance is called, gets the servers' logs.
	logger *slog.Logger
	// now, when set before instance is called, is the servers' clock.
	now func() time.Time
	// edit, when set before start, changes the test configuration.
	edit func(*config.Config)
	// admission, when set before instance is called, bounds the servers'
	// requests; the zero value is roomyAdmission.
	admission server.Admission
	// tls, when set before start, serves https (an https issuer).
	tls bool
	// dbWait, when set before start, bounds how long a call waits for the
	// database (sqlstore.WithWait).
	dbWait time.Duration
}

// roomyAdmission lets every request of a functional test in, however
// slow the machine: the admission bound has tests of its own.
var roomyAdmission = server.Admission{Concurrency: 256, Queue: 1024, MaxWait: time.Minute}

func testConfig(issuer string) config.Config {
	return config.Config{
		Issuer:          issuer,
		AccessTokenTTL:  5 * time.Minute,
		IDTokenTTL:      5 * time.Minute,
		RefreshTokenTTL: time.Hour,
		// As in production (IDP_REFRESH_REUSE_WINDOW's default).
		RefreshReuseWindow: 30 * time.Second,
		SessionTTL:         time.Hour,
		KeyRotation:        24 * time.Hour,
		LockAfter:          5,
		LockFor:            15 * time.Minute,
		LogLevel:           "info",
	}
}

// newEnv starts a provider on a fresh store of backend b.
func newEnv(t *testing.T, b backend) *env {
	t.Helper()
	return newEnvDSN(t, b.dsn(t))
}

// newEnvDSN starts a provider on the store at dsn.
func newEnvDSN(t *testing.T, dsn string) *env {
	t.Helper()
	e := &env{t: t}
	e.start(dsn)
	return e
}

// start serves a provider on the store at dsn.
func (e *env) start(dsn string) {
	t := e.t
	t.Helper()
	e.sw = &switchHandler{}
	if e.tls {
		e.srv = httptest.NewTLSServer(e.sw)
	} else {
		e.srv = httptest.NewServer(e.sw)
	}
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL
	e.kek = make([]byte, 32)
	_, _ = rand.Read(e.kek)
	e.cfg = testConfig(e.issuer)
	if e.edit != nil {
		e.edit(&e.cfg)
	}
	e.store = openStore(t, dsn, sqlstore.WithWait(e.dbWait))
	e.sw.set(e.instance(e.store))
}

// instance builds one more server on store (a replica).
func (e *env) instance(st storage.Storage) http.Handler {
	e.t.Helper()
	h, err := server.New(e.t.Context(), server.Deps{
		Config: e.cfg, Store: st, Logger: cmp.Or(e.logger, testLogger()), KEK: e.kek, Hasher: cheapHasher, KeyBits: 2048, Now: e.now,
		Admission: cmp.Or(e.admission, roomyAdmission),
	})
	if err != nil {
		e.t.Fatalf("server.New: %v", err)
	}
	return h
}

func (e *env) unique(prefix string) string {
	return prefix + "-" + strings.ReplaceAll(strings.TrimPrefix(e.t.Name(), "Test"), "/", "-") + "-" + string(rune('a'+e.n.Add(1)%26)) + randHex(4)
}

func randHex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = digits[b[i]%16]
	}
	return string(b)
}

const userPassword = "correct horse battery staple"

// createUser stores an active user with userPassword.
func (e *env) createUser(t *testing.T, typ storage.UserType, roles ...storage.Role) storage.User {
	t.Helper()
	h, err := cheapHasher.Hash(userPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.CreateUser(context.Background(), storage.User{
		Type: typ, GivenName: "Ada", FamilyName: "Lovelace",
		Email:         strings.ToLower(e.unique("user")) + "@example.com",
		EmailVerified: true, Status: storage.StatusActive, Roles: roles, PasswordHash: h,
		Phone: "",
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// testClient is a registered client and how to reach it.
type testClient struct {
	storage.Client
	secret string
}

type clientOpt func(*storage.Client)

func public(c *storage.Client) { c.Public = true; c.SecretHash = "" }
func admits(types ...storage.UserType) clientOpt {
	return func(c *storage.Client) { c.AdmitTypes = types }
}
func grants(g ...string) clientOpt    { return func(c *storage.Client) { c.GrantTypes = g } }
func redirects(u ...string) clientOpt { return func(c *storage.Client) { c.RedirectURIs = u } }

// createClient stores a confidential client (unless public) with the code
// and refresh grants.
func (e *env) createClient(t *testing.T, opts ...clientOpt) testClient {
	t.Helper()
	id := e.unique("client")
	secret := "s3cret-" + randHex(24)
	h, err := cheapHasher.Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	c := storage.Client{
		ID: id, Name: "Test " + id, SecretHash: h,
		RedirectURIs:           []string{"https://app.example.test/cb/" + id},
		PostLogoutRedirectURIs: []string{"https://app.example.test/bye/" + id},
		GrantTypes:             []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
	}
	for _, o := range opts {
		o(&c)
	}
	if c.Public {
		secret = ""
	}
	c, err = e.store.CreateClient(context.Background(), c)
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return testClient{Client: c, secret: secret}
}

// oauth2Config is the relying party's view of client c.
func (e *env) oauth2Config(c testClient, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "email", "roles", "offline_access"}
	}
	style := oauth2.AuthStyleInHeader
	if c.Public {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: c.ID, ClientSecret: c.secret, RedirectURL: c.RedirectURIs[0], Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/authorize", TokenURL: e.issuer + "/oauth/token", AuthStyle: style},
	}
}

// provider is go-oidc's view of the issuer, fetched fresh.
func (e *env) provider(t *testing.T) *gooidc.Provider {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p
}

// recorder remembers the headers of the last token response.
type recorder struct {
	mu   sync.Mutex
	last http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.last = resp.Header.Clone()
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) header() http.Header { r.mu.Lock(); defer r.mu.Unlock(); return r.last }

// browser is a user agent with a cookie jar that follows redirects within
// the provider and stops at the first one that leaves it.
type browser struct {
	c      *http.Client
	issuer string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	issuer := e.issuer
	return &browser{issuer: issuer, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), issuer+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// page is a response with its body read.
type page struct {
	*http.Response
	body string
}

func (b *browser) get(t *testing.T, u string) page {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return readPage(t, resp)
}

func readPage(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp, string(body)}
}

var authRequestIDRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// submitLogin posts the sign-in form found on p.
func (b *browser) submitLogin(t *testing.T, p page, email, pw string) page {
	t.Helper()
	m := authRequestIDRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no sign-in form (status %d): %.300s", p.StatusCode, p.body)
	}
	resp, err := b.c.PostForm(b.issuer+"/login", url.Values{"authRequestID": {m[1]}, "email": {email}, "password": {pw}})
	if err != nil {
		t.Fatalf("POST /login: %v", err)
	}
	return readPage(t, resp)
}

// signIn starts at authURL, fills the form and returns where the provider
// sends the browser back to the client.
func (b *browser) signIn(t *testing.T, authURL, email, pw string) *url.URL {
	t.Helper()
	form := b.get(t, authURL)
	if form.StatusCode != http.StatusOK {
		t.Fatalf("authorize: status %d: %.300s", form.StatusCode, form.body)
	}
	return clientRedirect(t, b.submitLogin(t, form, email, pw))
}

// clientRedirect checks that p sends the browser away from the provider.
func clientRedirect(t *testing.T, p page) *url.URL {
	t.Helper()
	if p.StatusCode != http.StatusFound && p.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect to the client, got %d: %.500s", p.StatusCode, p.body)
	}
	u, err := url.Parse(p.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// flow is one authorization code + PKCE round trip.
type flow struct {
	cfg      *oauth2.Config
	state    string
	nonce    string
	verifier string
}

func newFlow(cfg *oauth2.Config) *flow {
	return &flow{cfg: cfg, state: randHex(16), nonce: randHex(16), verifier: oauth2.GenerateVerifier()}
}

func (f *flow) authURL(extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{gooidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, extra...)
	return f.cfg.AuthCodeURL(f.state, opts...)
}

// code reads the code from the client redirect, checking state.
func (f *flow) code(t *testing.T, u *url.URL) string {
	t.Helper()
	q := u.Query()
	if q.Get("error") != "" || q.Get("code") == "" {
		t.Fatalf("want a code, got %s", u)
	}
	if q.Get("state") != f.state {
		t.Fatalf("state %q, want %q", q.Get("state"), f.state)
	}
	return q.Get("code")
}

func (f *flow) exchange(ctx context.Context, code string) (*oauth2.Token, error) {
	return f.cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
}

// login runs a full sign-in for u and exchanges the code.
func (e *env) login(t *testing.T, c testClient, u storage.User, scopes ...string) (*flow, *oauth2.Token, *browser) {
	t.Helper()
	f := newFlow(e.oauth2Config(c, scopes...))
	b := e.browser()
	code := f.code(t, b.signIn(t, f.authURL(), u.Email, userPassword))
	tok, err := f.exchange(context.Background(), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return f, tok, b
}

// errorCode is the OAuth error code of err from golang.org/x/oauth2.
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return "not an oauth2 error: " + err.Error()
}

// postJSON posts form values with optional basic auth and decodes JSON.
func (e *env) post(t *testing.T, path string, form url.Values, user, pass string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// introspect asks whether token is active, as confidential client c.
func (e *env) introspect(t *testing.T, c testClient, token string) bool {
	t.Helper()
	resp, m := e.post(t, "/oauth/introspect", url.Values{"token": {token}}, c.ID, c.secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: status %d %v", resp.StatusCode, m)
	}
	active, _ := m["active"].(bool)
	return active
}

// refresh uses rt once.
func (e *env) refresh(cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
}

// userinfo calls the userinfo endpoint with a bearer token.
func (e *env) userinfo(t *testing.T, method, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}
