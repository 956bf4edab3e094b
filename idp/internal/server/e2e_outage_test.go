package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// A database outage, in process: every endpoint answers 503 with a
// Retry-After in its own form (never 500, never 401/invalid_grant/
// invalid_token/invalid_client for a credential it could not check),
// health stays up while readiness goes down, and once the database is back
// the same credentials work again within a second. The process-level test
// that stops a real PostgreSQL cluster lives elsewhere; here the provider
// reaches PostgreSQL through a TCP proxy the test cuts.

// reply is one response with its body read and how long it took.
type reply struct {
	*http.Response
	body string
	took time.Duration
}

func send(t *testing.T, c *http.Client, req *http.Request) reply {
	t.Helper()
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp, string(b), time.Since(start)}
}

func getReq(u string, bearer string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

func formReq(u string, form url.Values, user, pass string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return req
}

// noFollow is b's cookie jar in a client that follows no redirect.
func noFollow(b *browser) *http.Client {
	return &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// The forms a 503 comes in.
const (
	formOAuth = "oauth" // {"error":"temporarily_unavailable"}, no-store
	formAdmin = "admin" // the admin API's {"error":{"code":"unavailable"}}
	formPage  = "page"  // the "please try again" page
	formReady = "ready" // /readyz: {"status":"unavailable"}
)

// maxOutageAnswer bounds how long an answer may take while the database
// is away: the provider must not hang.
const maxOutageAnswer = 3 * time.Second

// want503 checks that a is the outage answer of form.
func want503(t *testing.T, name string, a reply, form string) {
	t.Helper()
	if a.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want 503: %.300s", name, a.StatusCode, a.body)
		return
	}
	if n, err := strconv.Atoi(a.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds ≥ 1", name, a.Header.Get("Retry-After"))
	}
	if a.took > maxOutageAnswer {
		t.Errorf("%s: answered after %v, want within %v", name, a.took, maxOutageAnswer)
	}
	if ch := a.Header.Get("WWW-Authenticate"); ch != "" {
		t.Errorf("%s: WWW-Authenticate %q on a 503: the credential was not checked", name, ch)
	}
	var m map[string]any
	switch form {
	case formOAuth:
		_ = json.Unmarshal([]byte(a.body), &m)
		if m["error"] != "temporarily_unavailable" {
			t.Errorf("%s: body %.300s, want error temporarily_unavailable", name, a.body)
		}
		if a.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, a.Header.Get("Cache-Control"))
		}
	case formAdmin:
		_ = json.Unmarshal([]byte(a.body), &m)
		if e, _ := m["error"].(map[string]any); e == nil || e["code"] != "unavailable" {
			t.Errorf("%s: body %.300s, want the admin API's unavailable error", name, a.body)
		}
	case formReady:
		_ = json.Unmarshal([]byte(a.body), &m)
		if m["status"] != "unavailable" || m["reason"] != "database unreachable" {
			t.Errorf("%s: body %.300s, want status unavailable, reason database unreachable", name, a.body)
		}
	case formPage:
		if !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, "temporarily unavailable") {
			t.Errorf("%s: want the try-again page, got %s: %.300s", name, a.Header.Get("Content-Type"), a.body)
		}
	}
}

func TestOutagePostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	pg, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewCutProxy(t, pg.Host)
	e := &env{t: t}
	e.start(proxy.Via(dsn))
	u := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	c := e.createClient(t)
	svc := e.createClient(t, grants(storage.GrantClientCredentials), func(c *storage.Client) { c.Scopes = []string{"reports.read"} })
	web := http.DefaultClient

	// Before the cut: tokens, a session, an admin token, a code not yet
	// exchanged, a sign-in form shown, and a completed sign-in whose
	// callback is not yet visited.
	f, tok, signedIn := e.login(t, c, u)
	hint, _ := tok.Extra("id_token").(string)
	admin, errCode := e.signInWith(t, e.desktopConfig(), u.Email, userPassword)
	if errCode != "" {
		t.Fatalf("admin sign-in: %s", errCode)
	}
	fc := newFlow(e.oauth2Config(c))
	code := fc.code(t, e.browser().signIn(t, fc.authURL(), u.Email, userPassword))
	fl := newFlow(e.oauth2Config(c))
	lb := e.browser()
	m := authRequestIDRE.FindStringSubmatch(lb.get(t, fl.authURL()).body)
	if m == nil {
		t.Fatal("no sign-in form")
	}
	loginForm := url.Values{"authRequestID": {m[1]}, "email": {u.Email}, "password": {userPassword}}
	fcb := newFlow(e.oauth2Config(c))
	cbb := e.browser()
	m = authRequestIDRE.FindStringSubmatch(cbb.get(t, fcb.authURL()).body)
	if m == nil {
		t.Fatal("no sign-in form")
	}
	toCallback := send(t, noFollow(cbb), formReq(e.issuer+"/login",
		url.Values{"authRequestID": {m[1]}, "email": {u.Email}, "password": {userPassword}}, "", ""))
	callback := toCallback.Header.Get("Location")
	if !strings.Contains(callback, "/authorize/callback") {
		t.Fatalf("sign-in did not lead to the callback: %d %s", toCallback.StatusCode, callback)
	}
	if !strings.HasPrefix(callback, "http") {
		callback = e.issuer + callback
	}
	endSession := e.issuer + "/end_session?" + url.Values{"id_token_hint": {hint},
		"post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}, "state": {"st"}}.Encode()

	proxy.Cut()

	token := func(form url.Values, cl testClient) reply {
		return send(t, web, formReq(e.issuer+"/oauth/token", form, cl.ID, cl.secret))
	}
	for _, tc := range []struct {
		name string
		a    func() reply
		form string
	}{
		{"refresh", func() reply {
			return token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c)
		}, formOAuth},
		// A public client presents no secret: the request reaches op's
		// refresh grant without the client throttle reading the store.
		{"refresh, public client", func() reply {
			return send(t, web, formReq(e.issuer+"/oauth/token", url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {admin.RefreshToken}, "client_id": {e.desktopConfig().ClientID}}, "", ""))
		}, formOAuth},
		{"code exchange", func() reply {
			return token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {c.RedirectURIs[0]}, "code_verifier": {fc.verifier}}, c)
		}, formOAuth},
		{"client_credentials", func() reply {
			return token(url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}, svc)
		}, formOAuth},
		{"userinfo", func() reply { return send(t, web, getReq(e.issuer+"/userinfo", tok.AccessToken)) }, formOAuth},
		{"introspection", func() reply {
			return send(t, web, formReq(e.issuer+"/oauth/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, c.secret))
		}, formOAuth},
		{"revocation", func() reply {
			return send(t, web, formReq(e.issuer+"/revoke", url.Values{"token": {tok.AccessToken}}, c.ID, c.secret))
		}, formOAuth},
		{"authorize", func() reply { return send(t, e.browser().c, getReq(newFlow(e.oauth2Config(c)).authURL(), "")) }, formPage},
		{"login GET", func() reply {
			return send(t, lb.c, getReq(e.issuer+"/login?authRequestID="+url.QueryEscape(loginForm.Get("authRequestID")), ""))
		}, formPage},
		{"login POST", func() reply { return send(t, lb.c, formReq(e.issuer+"/login", loginForm, "", "")) }, formPage},
		{"callback", func() reply { return send(t, cbb.c, getReq(callback, "")) }, formPage},
		{"account", func() reply { return send(t, signedIn.c, getReq(e.issuer+"/account", "")) }, formPage},
		{"end_session", func() reply { return send(t, signedIn.c, getReq(endSession, "")) }, formPage},
		{"admin API", func() reply { return send(t, web, getReq(e.issuer+"/admin/v1/employees", admin.AccessToken)) }, formAdmin},
		{"readyz", func() reply { return send(t, web, getReq(e.issuer+"/readyz", "")) }, formReady},
	} {
		want503(t, tc.name, tc.a(), tc.form)
	}
	for _, path := range []string{"/healthz", "/.well-known/openid-configuration", "/keys"} {
		if a := send(t, web, getReq(e.issuer+path, "")); a.StatusCode != http.StatusOK {
			t.Errorf("%s during the outage: status %d, want 200: %.200s", path, a.StatusCode, a.body)
		}
	}

	// The database is back: the same credentials work again within a
	// second, the refresh token sent during the outage included.
	proxy.Restore()
	restored := time.Now()
	recovered := func(name string, ok func() bool) { t.Helper(); recoveredWithin(t, restored, name, ok) }
	recovered("userinfo", func() bool {
		return send(t, web, getReq(e.issuer+"/userinfo", tok.AccessToken)).StatusCode == http.StatusOK
	})
	var next map[string]any
	recovered("refresh with the token sent during the outage", func() bool {
		a := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c)
		if a.StatusCode != http.StatusOK {
			if a.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("refresh after the outage: %d %s", a.StatusCode, a.body)
			}
			return false
		}
		return json.Unmarshal([]byte(a.body), &next) == nil
	})
	if _, err := e.refresh(e.desktopConfig(), admin.RefreshToken); err != nil {
		t.Errorf("the public client's refresh token sent during the outage: %v", err)
	}
	rt, _ := next["refresh_token"].(string)
	if _, err := e.refresh(f.cfg, rt); err != nil {
		t.Errorf("the refreshed token: %v", err)
	}
	if !e.introspect(t, c, tok.AccessToken) {
		t.Error("the access token the outage failed to revoke is not active")
	}
	if _, err := fc.exchange(context.Background(), code); err != nil {
		t.Errorf("the code the outage failed to exchange: %v", err)
	}
	for name, a := range map[string]reply{
		"account":   send(t, signedIn.c, getReq(e.issuer+"/account", "")),
		"admin API": send(t, web, getReq(e.issuer+"/admin/v1/employees", admin.AccessToken)),
		"readyz":    send(t, web, getReq(e.issuer+"/readyz", "")),
	} {
		if a.StatusCode != http.StatusOK {
			t.Errorf("%s after the outage: %d %.200s", name, a.StatusCode, a.body)
		}
	}
	back := send(t, lb.c, formReq(e.issuer+"/login", loginForm, "", ""))
	fl.code(t, clientRedirect(t, page{back.Response, back.body}))
}

// recoveredWithin polls ok until it holds and checks that it did within a
// second of restored.
func recoveredWithin(t *testing.T, restored time.Time, name string, ok func() bool) {
	t.Helper()
	for !ok() {
		if time.Since(restored) > 10*time.Second {
			t.Fatalf("%s: not working 10 s after the database came back", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(restored)
	t.Logf("%s works %v after the database came back", name, took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("%s: recovered after %v, want within 1 s", name, took)
	}
}

// TestOutageStalledPostgres: a database that stops answering without
// closing anything (a network dropping packets) holds no request beyond
// the wait (here 1 s): connections already open, and new ones, which
// connect_timeout bounds.
func TestOutageStalledPostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	pg, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewCutProxy(t, pg.Host)
	e := &env{t: t, dbWait: time.Second}
	e.start(proxy.Via(dsn))
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)

	proxy.Stall()
	// A client that gives up, so that a provider that hangs fails the test
	// rather than holds it.
	web := &http.Client{Timeout: 15 * time.Second}
	refresh := func() reply {
		return send(t, web, formReq(e.issuer+"/oauth/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.ID, c.secret))
	}
	want503(t, "refresh", refresh(), formOAuth)
	want503(t, "userinfo", send(t, web, getReq(e.issuer+"/userinfo", tok.AccessToken)), formOAuth)
	want503(t, "readyz", send(t, web, getReq(e.issuer+"/readyz", "")), formReady)

	proxy.Restore()
	restored := time.Now()
	recoveredWithin(t, restored, "userinfo", func() bool {
		return send(t, http.DefaultClient, getReq(e.issuer+"/userinfo", tok.AccessToken)).StatusCode == http.StatusOK
	})
	if _, err := e.refresh(f.cfg, tok.RefreshToken); err != nil {
		t.Errorf("refresh with the token sent during the stall: %v", err)
	}
}

// TestOutageSQLiteLocked: on SQLite, another process holding the write
// lock beyond the busy timeout makes every write unavailable; the
// provider answers those requests 503 and carries on once the lock goes.
// What this simulates: a file another writer (a backup, a stuck tool)
// keeps locked. What it does not: a file gone, unreadable or on a full
// disk (those are classified the same way, SQLITE_CANTOPEN, IOERR, FULL,
// but not produced here); reads go on, as WAL lets them.
func TestOutageSQLiteLocked(t *testing.T) {
	path := testenv.SQLitePath(t)
	e := &env{t: t, dbWait: 300 * time.Millisecond}
	e.start(path)
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)
	fl := newFlow(e.oauth2Config(c))
	lb := e.browser()
	form := lb.get(t, fl.authURL())

	lock := holdWriteLock(t, path)
	refresh := send(t, http.DefaultClient, formReq(e.issuer+"/oauth/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.ID, c.secret))
	want503(t, "refresh", refresh, formOAuth)
	m := authRequestIDRE.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatal("no sign-in form")
	}
	signIn := send(t, lb.c, formReq(e.issuer+"/login", url.Values{"authRequestID": {m[1]}, "email": {u.Email}, "password": {userPassword}}, "", ""))
	want503(t, "sign-in", signIn, formPage)
	if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Errorf("userinfo (a read) while a writer holds the lock: %d, want 200", resp.StatusCode)
	}
	lock()

	if _, err := e.refresh(f.cfg, tok.RefreshToken); err != nil {
		t.Errorf("refresh after the lock went, with the token sent during it: %v", err)
	}
	fl.code(t, clientRedirect(t, lb.submitLogin(t, form, u.Email, userPassword)))
}

// holdWriteLock takes SQLite's write lock on the file at path from a
// connection of its own, as another process would, and returns what
// releases it.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	return func() {
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Errorf("release the write lock: %v", err)
		}
		_ = conn.Close()
	}
}

// loseAfterRotation is the real store, except that the first rotation
// after arm commits and then fails as if the connection broke before its
// answer came: the refresh token's rotation (and its access token) has
// committed, the answer is lost.
type loseAfterRotation struct {
	storage.Storage
	armed atomic.Bool
}

func (s *loseAfterRotation) RotateRefreshToken(ctx context.Context, oldHash string, next storage.RefreshToken, access storage.AccessToken, now time.Time, reuseWindow time.Duration) error {
	err := s.Storage.RotateRefreshToken(ctx, oldHash, next, access, now, reuseWindow)
	if err == nil && s.armed.CompareAndSwap(true, false) {
		return storage.Unavailable(ctx, errors.New("connection lost after the rotation committed"))
	}
	return err
}

// TestOutageAfterRotation: a refresh whose rotation committed before the
// database went away is answered 503, and the client's retry with the
// token it holds gets a working pair (the reuse window), on every backend.
func TestOutageAfterRotation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			flaky := &loseAfterRotation{Storage: e.store}
			e.sw.set(e.instance(flaky))
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			f, tok, _ := e.login(t, c, u)

			flaky.armed.Store(true)
			lost := send(t, http.DefaultClient, formReq(e.issuer+"/oauth/token",
				url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.ID, c.secret))
			want503(t, "refresh after the rotation committed", lost, formOAuth)
			if flaky.armed.Load() {
				t.Fatal("the refresh never committed a rotation")
			}
			retry, err := e.refresh(f.cfg, tok.RefreshToken)
			if err != nil {
				t.Fatalf("retry with the same refresh token: %v, want a working pair", err)
			}
			if !e.introspect(t, c, retry.AccessToken) {
				t.Error("the retry's access token is not active")
			}
			if _, err := e.refresh(f.cfg, retry.RefreshToken); err != nil {
				t.Errorf("the retry's refresh token: %v", err)
			}
		})
	}
}

// tokensUnreadable is the real store, except that while armed no token
// can be read, as if the database went away between the client's
// authentication and the token's lookup (or, for introspection, which
// reads the token with the client, before that one read).
type tokensUnreadable struct {
	storage.Storage
	armed atomic.Bool
}

func (s *tokensUnreadable) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	if s.armed.Load() {
		return storage.AccessToken{}, storage.Unavailable(ctx, errors.New("connection lost"))
	}
	return s.Storage.GetAccessToken(ctx, id)
}

func (s *tokensUnreadable) GetAccessTokenUser(ctx context.Context, id string) (storage.AccessToken, storage.User, error) {
	if s.armed.Load() {
		return storage.AccessToken{}, storage.User{}, storage.Unavailable(ctx, errors.New("connection lost"))
	}
	return s.Storage.GetAccessTokenUser(ctx, id)
}

// GetClientThrottleToken fails as a whole when it would read a token: the
// client and the token it reads along with it are one statement.
func (s *tokensUnreadable) GetClientThrottleToken(ctx context.Context, clientID, key, tokenID string) (storage.Client, storage.Throttle, storage.AccessToken, storage.User, error) {
	if s.armed.Load() && tokenID != "" {
		return storage.Client{}, storage.Throttle{}, storage.AccessToken{}, storage.User{}, storage.Unavailable(ctx, errors.New("connection lost"))
	}
	return s.Storage.GetClientThrottleToken(ctx, clientID, key, tokenID)
}

func (s *tokensUnreadable) GetRefreshToken(ctx context.Context, h string) (storage.RefreshToken, error) {
	if s.armed.Load() {
		return storage.RefreshToken{}, storage.Unavailable(ctx, errors.New("connection lost"))
	}
	return s.Storage.GetRefreshToken(ctx, h)
}

// TestOutageTokenUnchecked: introspection and revocation answer 200 for
// tokens they do not know (RFC 7662, RFC 7009); a token they could not
// look up must not get that answer: active:false would tell a module to
// drop a valid session, and a 200 to a revocation that did not happen
// would leave a token the client believes dead alive.
func TestOutageTokenUnchecked(t *testing.T) {
	e := newEnv(t, backends[0])
	flaky := &tokensUnreadable{Storage: e.store}
	e.sw.set(e.instance(flaky))
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)

	flaky.armed.Store(true)
	want503(t, "introspection", send(t, http.DefaultClient, formReq(e.issuer+"/oauth/introspect",
		url.Values{"token": {tok.AccessToken}}, c.ID, c.secret)), formOAuth)
	for name, token := range map[string]string{"access": tok.AccessToken, "refresh": tok.RefreshToken} {
		want503(t, "revocation of the "+name+" token", send(t, http.DefaultClient, formReq(e.issuer+"/revoke",
			url.Values{"token": {token}}, c.ID, c.secret)), formOAuth)
	}
	flaky.armed.Store(false)
	if !e.introspect(t, c, tok.AccessToken) {
		t.Error("the access token the outage kept from being revoked is not active")
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); err != nil {
		t.Errorf("the refresh token the outage kept from being revoked: %v", err)
	}
}
