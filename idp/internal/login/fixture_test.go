package login_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/login"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

const (
	userEmail    = "grace@example.com"
	userPassword = "correct horse battery staple"
	callbackBase = "https://idp.example/authorize/callback?id="
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// failure is one recorded call of Deps.Fail.
type failure struct {
	req storage.AuthRequest
	err error
}

// env is the login pages served over HTTP against a real store, with a
// browser-like client (cookie jar, redirects not followed) and recording
// Callback and Fail functions.
type env struct {
	t       *testing.T
	st      storage.Storage
	clock   *testenv.Clock
	h       *login.Handler
	srv     *httptest.Server
	browser *http.Client
	user    storage.User
	client  storage.Client // admits everyone

	// browserHash is the binding of e.browser; authRequest binds to it.
	browserHash string

	// callbackURL, when set, replaces callbackBase+id as Callback's answer.
	callbackURL func(id string) string

	mu        sync.Mutex
	callbacks []string
	failures  []failure
}

func newEnv(t *testing.T, st storage.Storage) *env {
	t.Helper()
	e := &env{t: t, st: st, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Second).Add(200 * time.Millisecond))}
	ctx := context.Background()
	hasher := password.Hasher{}.WithParams(cheap)
	phc, err := hasher.Hash(userPassword)
	if err != nil {
		t.Fatal(err)
	}
	e.user, err = st.CreateUser(ctx, storage.User{
		Type: storage.UserTypeEmployee, GivenName: "Grace", FamilyName: "Hopper",
		Email: userEmail, EmailVerified: true, Status: storage.StatusActive, PasswordHash: phc,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.client = e.createClient("portal", "Clinic Portal", nil)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.h, err = login.New(login.Deps{
		Store: st,
		Signin: &signin.Service{
			Store: st, Hasher: hasher, Now: e.clock.Now, Logger: logger,
			Sleep: func(context.Context, time.Duration) {},
		},
		Sessions: &session.Manager{Store: st, Now: e.clock.Now, Logger: logger},
		Logger:   logger,
		Now:      e.clock.Now,
		Callback: func(_ context.Context, id string) string {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.callbacks = append(e.callbacks, id)
			if e.callbackURL != nil {
				return e.callbackURL(id)
			}
			return callbackBase + url.QueryEscape(id)
		},
		Fail: func(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, err error) {
			e.mu.Lock()
			e.failures = append(e.failures, failure{req, err})
			e.mu.Unlock()
			http.Redirect(w, r, req.RedirectURI+"?error=failed", http.StatusFound)
		},
	})
	if err != nil {
		t.Fatalf("login.New: %v", err)
	}
	mux := http.NewServeMux()
	e.h.Register(mux)
	e.srv = httptest.NewServer(server.SecurityHeaders(false, mux)) // the provider's own headers
	t.Cleanup(e.srv.Close)
	e.browser = newBrowser(t)
	e.bindBrowser(e.browser)
	return e
}

// bindBrowser gives browser a binding cookie, as /authorize would, and
// makes it the browser that e.authRequest binds requests to.
func (e *env) bindBrowser(browser *http.Client) {
	e.t.Helper()
	raw := e.newBinding()
	u, _ := url.Parse(e.srv.URL)
	browser.Jar.SetCookies(u, []*http.Cookie{{Name: binding.CookieName, Value: raw, Path: "/"}})
}

// newBinding makes a binding value, the one e.authRequest binds requests
// to from now on, and returns it for a browser's cookie.
func (e *env) newBinding() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw := base64.RawURLEncoding.EncodeToString(b)
	e.browserHash = binding.Hash(raw)
	return raw
}

func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

func (e *env) createClient(id, name string, admit []storage.UserType) storage.Client {
	e.t.Helper()
	c, err := e.st.CreateClient(context.Background(), storage.Client{
		ID: id, Name: name, Public: true, RedirectURIs: []string{"https://" + id + ".example/cb"},
		GrantTypes: []string{storage.GrantAuthorizationCode}, AdmitTypes: admit,
	})
	if err != nil {
		e.t.Fatalf("create client: %v", err)
	}
	return c
}

// authRequest stores a pending authorization request for client; opts
// adjust it. Expiry is by the real clock, which the store uses.
func (e *env) authRequest(client storage.Client, opts ...func(*storage.AuthRequest)) storage.AuthRequest {
	e.t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	r := storage.AuthRequest{
		ID: hex.EncodeToString(b), ClientID: client.ID, RedirectURI: client.RedirectURIs[0],
		State: "xyz", Nonce: "n-0S6", Scopes: []string{"openid", "email"}, ResponseType: "code",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), BrowserHash: e.browserHash,
	}
	for _, o := range opts {
		o(&r)
	}
	if err := e.st.CreateAuthRequest(context.Background(), r); err != nil {
		e.t.Fatalf("create auth request: %v", err)
	}
	return r
}

func withPrompt(p ...string) func(*storage.AuthRequest) {
	return func(r *storage.AuthRequest) { r.Prompt = p }
}

func withHintSubject(sub string) func(*storage.AuthRequest) {
	return func(r *storage.AuthRequest) { r.HintSubject = sub }
}

func withMaxAge(d time.Duration) func(*storage.AuthRequest) {
	return func(r *storage.AuthRequest) { r.MaxAge = &d }
}

func withLoginHint(h string) func(*storage.AuthRequest) {
	return func(r *storage.AuthRequest) { r.LoginHint = h }
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	res, err := e.browser.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (e *env) get(path string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) getLogin(id string) response {
	return e.get("/login?authRequestID=" + url.QueryEscape(id))
}

// postLogin submits the form; header adds request headers (e.g. Origin).
func (e *env) postLogin(id, email, pw string, header ...string) response {
	e.t.Helper()
	form := url.Values{"authRequestID": {id}, "email": {email}, "password": {pw}}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

func (e *env) loadRequest(id string) storage.AuthRequest {
	e.t.Helper()
	r, err := e.st.GetAuthRequest(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetAuthRequest: %v", err)
	}
	return r
}

// sessionCookie is the browser's session cookie value ("" when none).
func (e *env) sessionCookie() string {
	u, _ := url.Parse(e.srv.URL)
	for _, c := range e.browser.Jar.Cookies(u) {
		if c.Name == session.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

func (e *env) lastFailure() (failure, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.failures) == 0 {
		return failure{}, 0
	}
	return e.failures[len(e.failures)-1], len(e.failures)
}

func (e *env) callbackCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.callbacks)
}

// signIn runs a full password sign-in for a new request and returns it
// completed.
func (e *env) signIn() storage.AuthRequest {
	e.t.Helper()
	r := e.authRequest(e.client)
	res := e.postLogin(r.ID, userEmail, userPassword)
	if res.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in: status %d, want 303\n%s", res.status, res.body)
	}
	return e.loadRequest(r.ID)
}

func oidcErrorType(err error) string {
	if oe, ok := err.(*oidc.Error); ok {
		return string(oe.ErrorType)
	}
	return ""
}
