package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestBrowserBinding: a pending authorization request belongs to the
// browser that started it (issue 8, item 1), on every backend.
func TestBrowserBinding(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"a stranger cannot finish a victim's sign-in", testStrangerCannotFinish},
		{"a link from another browser is refused", testForeignLinkRefused},
		{"one code per request", testOneCodePerRequest},
		{"SSO into a new client asks first", testContinueNewClient},
		{"SSO into scope admin always asks", testContinueAdmin},
		{"a leaked code does not burn the client's", testLeakedCode},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, e) })
			}
		})
	}
}

// desktopFlow is the attacker's PKCE flow for the built-in desktop client,
// scope admin, with a loopback redirect of his own.
func (e *env) desktopFlow() *flow {
	return newFlow(&oauth2.Config{
		ClientID:    api.DesktopClientID,
		RedirectURL: "http://127.0.0.1:49152/callback",
		Scopes:      []string{"openid", "profile", "email", "roles", api.Scope, "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/authorize", TokenURL: e.issuer + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams},
	})
}

// requestID starts f in b and returns the pending request's id from the
// sign-in form b is shown.
func requestID(t *testing.T, b *browser, f *flow) string {
	t.Helper()
	p := b.get(t, f.authURL())
	m := authRequestIDRE.FindStringSubmatch(p.body)
	if p.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("authorize: status %d, want the sign-in form: %.300s", p.StatusCode, p.body)
	}
	return m[1]
}

// assertNoCode fails when p hands out an authorization code.
func assertNoCode(t *testing.T, what string, p page) {
	t.Helper()
	loc := p.Header.Get("Location")
	if strings.Contains(loc, "code=") || strings.Contains(p.body, "code=") {
		t.Errorf("%s: a code was handed out (status %d, Location %q)", what, p.StatusCode, loc)
	}
	if p.StatusCode == http.StatusFound || p.StatusCode == http.StatusSeeOther {
		if u, _ := url.Parse(loc); u != nil && u.Host == "127.0.0.1:49152" {
			t.Errorf("%s: the browser is sent to the attacker's redirect URI: %s", what, loc)
		}
	}
}

// The attack of the review, end to end: the attacker starts a PKCE flow
// for the desktop client with scope admin, sends a signed-in super admin
// the /login link and polls the callback. Neither the poll (no cookie, or
// the attacker's own) nor the victim's browser completes it.
func testStrangerCannotFinish(t *testing.T, e *env) {
	victim := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	module := e.createClient(t)
	_, _, vb := e.login(t, module, victim) // the victim is signed in

	attacker := e.browser()
	f := e.desktopFlow()
	id := requestID(t, attacker, f)

	// The victim opens the link.
	p := vb.get(t, e.issuer+"/login?authRequestID="+url.QueryEscape(id))
	if p.StatusCode != http.StatusForbidden || !strings.Contains(p.body, "started somewhere else") {
		t.Errorf("victim opens the attacker's link: status %d, want 403 and the other-browser page: %.300s", p.StatusCode, p.body)
	}
	assertNoCode(t, "victim's browser", p)

	// The attacker polls, without a cookie and with his own.
	cb := e.issuer + "/authorize/callback?id=" + url.QueryEscape(id)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	assertNoCode(t, "poll without a cookie", readPage(t, resp))
	assertNoCode(t, "poll with the attacker's cookie", attacker.get(t, cb))
	// Nor by POST, where op would read the id from the body.
	resp, err = attacker.c.PostForm(cb, url.Values{"id": {id}})
	if err != nil {
		t.Fatal(err)
	}
	assertNoCode(t, "POST to the callback", readPage(t, resp))

	r, err := e.store.GetAuthRequest(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Done || r.UserID != "" || r.CodeHash != "" {
		t.Errorf("the attacker's request was completed: done=%v user=%q code=%v", r.Done, r.UserID, r.CodeHash != "")
	}
}

// The sign-in form itself (GET and POST) refuses a request of another
// browser, even with the right password: the form cannot be used to
// complete somebody else's request.
func testForeignLinkRefused(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	starter := e.browser()
	id := requestID(t, starter, newFlow(e.oauth2Config(c)))

	other := e.browser()
	p := other.get(t, e.issuer+"/login?authRequestID="+url.QueryEscape(id))
	if p.StatusCode != http.StatusForbidden {
		t.Errorf("GET /login from another browser: status %d, want 403", p.StatusCode)
	}
	resp, err := other.c.PostForm(e.issuer+"/login", url.Values{"authRequestID": {id}, "email": {u.Email}, "password": {userPassword}})
	if err != nil {
		t.Fatal(err)
	}
	p = readPage(t, resp)
	if p.StatusCode != http.StatusForbidden {
		t.Errorf("POST /login from another browser: status %d, want 403", p.StatusCode)
	}
	assertNoCode(t, "POST /login from another browser", p)
	if r, _ := e.store.GetAuthRequest(context.Background(), id); r.Done {
		t.Error("a browser that did not start the request completed it")
	}
	// The browser that started it still can.
	form := starter.get(t, e.issuer+"/login?authRequestID="+url.QueryEscape(id))
	if back := clientRedirect(t, starter.submitLogin(t, form, u.Email, userPassword)); back.Query().Get("code") == "" {
		t.Errorf("the starting browser got no code: %s", back)
	}
}

// The callback mints one code per request, however often and however
// concurrently it is called.
func testOneCodePerRequest(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f := newFlow(e.oauth2Config(c))
	b := e.browser()
	// Stop at the callback instead of following it.
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.Path, "/authorize/callback") {
			return http.ErrUseLastResponse
		}
		if !strings.HasPrefix(req.URL.String(), e.issuer+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	form := b.get(t, f.authURL())
	p := b.submitLogin(t, form, u.Email, userPassword)
	cb := p.Header.Get("Location")
	if !strings.Contains(cb, "/authorize/callback") {
		t.Fatalf("sign-in did not lead to the callback: %d %q", p.StatusCode, cb)
	}
	if !strings.HasPrefix(cb, "http") {
		cb = e.issuer + cb
	}
	// The request is signed in now; its id in anybody else's hands (a log,
	// a shoulder) still mints nothing: the callback is bound too.
	assertNoCode(t, "callback from another browser", e.browser().get(t, cb))
	assertNoCode(t, "callback without a cookie", func() page {
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(cb)
		if err != nil {
			t.Fatal(err)
		}
		return readPage(t, resp)
	}())
	var (
		mu    sync.Mutex
		codes []string
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			resp, err := b.c.Get(cb)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if u, _ := url.Parse(resp.Header.Get("Location")); u != nil && u.Query().Get("code") != "" {
				mu.Lock()
				codes = append(codes, u.Query().Get("code"))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(codes) != 1 {
		t.Fatalf("%d callbacks handed out %d codes, want 1", 8, len(codes))
	}
	if _, err := f.exchange(context.Background(), codes[0]); err != nil {
		t.Errorf("the one code: %v", err)
	}
	assertNoCode(t, "a later callback", b.get(t, cb))
}

// Single sign-on into a client this browser session never used shows a
// "Continue as" page; its button (a POST) completes the sign-in, after
// which SSO into that client is silent. prompt=none into an unused client
// answers consent_required, into a used one a code.
func testContinueNewClient(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	first, second := e.createClient(t), e.createClient(t)
	_, _, b := e.login(t, first, u)

	f := newFlow(e.oauth2Config(second))
	p := b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none")))
	if back := clientRedirect(t, p); back.Query().Get("error") != "consent_required" || back.Query().Get("state") != f.state {
		t.Errorf("prompt=none into an unused client: %s, want consent_required with state", back)
	}

	f = newFlow(e.oauth2Config(second))
	p = b.get(t, f.authURL())
	if p.StatusCode != http.StatusOK || !strings.Contains(p.body, "Continue as") || !strings.Contains(p.body, `action="/login/continue"`) {
		t.Fatalf("SSO into a new client: status %d, want the Continue page: %.400s", p.StatusCode, p.body)
	}
	id := authRequestIDRE.FindStringSubmatch(p.body)[1]
	// The button is a POST; a cross-site one is refused.
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/login/continue", strings.NewReader(url.Values{"authRequestID": {id}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if cross := readPage(t, resp); cross.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site Continue: status %d, want 403", cross.StatusCode)
	}
	resp, err = b.c.PostForm(e.issuer+"/login/continue", url.Values{"authRequestID": {id}})
	if err != nil {
		t.Fatal(err)
	}
	code := f.code(t, clientRedirect(t, readPage(t, resp)))
	if _, err := f.exchange(context.Background(), code); err != nil {
		t.Fatal(err)
	}

	// Now the client is one this session uses: silent, and prompt=none too.
	f = newFlow(e.oauth2Config(second))
	f.code(t, clientRedirect(t, b.get(t, f.authURL())))
	f = newFlow(e.oauth2Config(second))
	f.code(t, clientRedirect(t, b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none")))))

	// "Use another account" shows the form.
	f = newFlow(e.oauth2Config(first))
	id = requestID(t, e.browser(), f) // any request; another browser's is refused below
	if p := b.get(t, e.issuer+"/login?switch=1&authRequestID="+url.QueryEscape(id)); p.StatusCode != http.StatusForbidden {
		t.Errorf("switch=1 on another browser's request: status %d, want 403", p.StatusCode)
	}
}

// A request for the admin API never completes silently, even in a client
// the session used before.
func testContinueAdmin(t *testing.T, e *env) {
	admin := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	b := e.browser()
	f := e.desktopFlow()
	f.code(t, b.signIn(t, f.authURL(), admin.Email, userPassword)) // the password sign-in itself completes

	for range 2 {
		f = e.desktopFlow()
		p := b.get(t, f.authURL())
		if p.StatusCode != http.StatusOK || !strings.Contains(p.body, "Continue as") || !strings.Contains(p.body, "administrator access") {
			t.Fatalf("SSO into scope admin: status %d, want the Continue page: %.400s", p.StatusCode, p.body)
		}
		id := authRequestIDRE.FindStringSubmatch(p.body)[1]
		resp, err := b.c.PostForm(e.issuer+"/login/continue", url.Values{"authRequestID": {id}})
		if err != nil {
			t.Fatal(err)
		}
		f.code(t, clientRedirect(t, readPage(t, resp)))
	}
	f = e.desktopFlow()
	if back := clientRedirect(t, b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none")))); back.Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none with scope admin: %s, want consent_required", back)
	}
}

// A code presented without the client's authentication, verifier or
// redirect URI is refused without being used up: the real client's
// exchange still works afterwards.
func testLeakedCode(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	for _, pub := range []bool{false, true} {
		var c testClient
		if pub {
			c = e.createClient(t, public)
		} else {
			c = e.createClient(t)
		}
		f := newFlow(e.oauth2Config(c))
		code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, userPassword))
		attempts := []url.Values{
			{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURIs[0]}, "client_id": {c.ID}},
			{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURIs[0]}, "client_id": {c.ID}, "code_verifier": {oauth2.GenerateVerifier()}},
			{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://evil.example/cb"}, "client_id": {c.ID}, "code_verifier": {f.verifier}},
		}
		if !pub {
			attempts = append(attempts, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {c.RedirectURIs[0]}, "client_id": {c.ID}, "client_secret": {"wrong"}, "code_verifier": {f.verifier}})
		}
		for i, form := range attempts {
			resp, m := e.post(t, "/oauth/token", form, "", "")
			if resp.StatusCode == http.StatusOK || m["access_token"] != nil {
				t.Errorf("public=%v attempt %d with a leaked code succeeded", pub, i)
			}
		}
		if _, err := f.exchange(context.Background(), code); err != nil {
			t.Errorf("public=%v: the real client's exchange after the leaked attempts: %v", pub, err)
		}
	}
}
