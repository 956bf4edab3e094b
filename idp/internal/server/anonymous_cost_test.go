package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestAnonymousCost: what an anonymous request may cost is bounded —
// failed client authentication is throttled per source, hashing at
// capacity answers 503 with Retry-After, bodies and authorization request
// parameters are capped. One backend after the other (not in parallel):
// the busy case holds the process-wide hashing bound.
func TestAnonymousCost(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"client authentication throttled per source", testClientAuthThrottle},
		{"hashing at capacity answers 503", testHashingBusy},
		{"generated client secret", testGeneratedSecret},
		{"request bodies capped", testBodyCap},
		{"authorization request parameters capped", testParamCap},
		{"admission bound spares the cheap endpoints", testAdmission},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := &env{t: t, edit: func(c *config.Config) {
				// Requests name their source in X-Forwarded-For.
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
			}}
			e.start(b.dsn(t))
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, e) })
			}
		})
	}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

// postFrom posts form to path as source (X-Forwarded-For), with HTTP
// Basic client authentication when id is not "".
func (e *env) postFrom(t *testing.T, source, path string, form url.Values, id, secret string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", source)
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	_ = json.Unmarshal(b, &a.json)
	return a
}

func (e *env) clientAuthFailures(t *testing.T, source string) storage.Throttle {
	t.Helper()
	th, err := e.store.GetThrottle(context.Background(), oidcprovider.ClientAuthKey(source))
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// holdHashing leaves no hashing slot free (and no room to wait) until the
// returned function runs or the test ends.
func holdHashing(t *testing.T) (release func()) {
	t.Helper()
	old := password.SetBound(password.Bound{Concurrency: 1})
	free := password.Exhaust()
	var done bool
	release = func() {
		if !done {
			done = true
			free()
			password.SetBound(old)
		}
	}
	t.Cleanup(release)
	return release
}

func testClientAuthThrottle(t *testing.T, e *env) {
	c := e.createClient(t, grants(storage.GrantClientCredentials)) // argon2id secret
	cc := url.Values{"grant_type": {"client_credentials"}}
	const attacker, other = "203.0.113.7", "198.51.100.20"

	// Wrong secrets at every endpoint that authenticates clients, and an
	// unknown client id, all count against the source.
	endpoints := []struct {
		path string
		form url.Values
		id   string
	}{
		{"/oauth/token", cc, c.ID},
		{"/oauth/introspect", url.Values{"token": {"x"}}, c.ID},
		{"/revoke", url.Values{"token": {"x"}}, c.ID},
		{"/oauth/token", cc, "no-such-client"},
	}
	for i := range oidcprovider.DefaultClientAuthLimit {
		ep := endpoints[i%len(endpoints)]
		a := e.postFrom(t, attacker, ep.path, ep.form, ep.id, "wrong-secret-"+strconv.Itoa(i))
		if a.status != http.StatusUnauthorized || a.json["error"] != "invalid_client" {
			t.Fatalf("failure %d at %s: %d %s, want 401 invalid_client", i+1, ep.path, a.status, a.body)
		}
	}
	if th := e.clientAuthFailures(t, attacker); th.Failures != oidcprovider.DefaultClientAuthLimit || th.LockedUntil.IsZero() {
		t.Fatalf("throttle after %d failures: %+v, want counted and locked", oidcprovider.DefaultClientAuthLimit, th)
	}

	// Locked: even the right secret is refused with 429 and Retry-After,
	// and nothing is hashed — with no hashing slot free, an attempt to hash
	// would answer 503 instead.
	release := holdHashing(t)
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke"} {
		a := e.postFrom(t, attacker, path, url.Values{"grant_type": {"client_credentials"}, "token": {"x"}}, c.ID, c.secret)
		retry, _ := strconv.Atoi(a.header.Get("Retry-After"))
		if a.status != http.StatusTooManyRequests || a.json["error"] != "temporarily_unavailable" || retry < 60 {
			t.Errorf("%s from a throttled source: %d Retry-After %q %s; want 429 temporarily_unavailable with Retry-After",
				path, a.status, a.header.Get("Retry-After"), a.body)
		}
		if a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: 429 may be cached", path)
		}
	}
	// The client secret in the form counts as presenting one too.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.secret}}
	if a := e.postFrom(t, attacker, "/oauth/token", form, "", ""); a.status != http.StatusTooManyRequests {
		t.Errorf("client_secret_post from a throttled source: %d %s, want 429", a.status, a.body)
	}
	release()

	// Another source is not affected.
	if a := e.postFrom(t, other, "/oauth/token", cc, c.ID, c.secret); a.status != http.StatusOK {
		t.Fatalf("right secret from another source: %d %s", a.status, a.body)
	}
	if th := e.clientAuthFailures(t, other); th.Failures != 0 {
		t.Errorf("a success counted as a failure: %+v", th)
	}
}

func testHashingBusy(t *testing.T, e *env) {
	c := e.createClient(t, grants(storage.GrantClientCredentials, storage.GrantAuthorizationCode)) // argon2id secret
	gen := e.createGeneratedClient(t, grants(storage.GrantClientCredentials))
	u := e.createUser(t, storage.UserTypeEmployee)
	const source = "192.0.2.55"
	f := newFlow(e.oauth2Config(c))
	b := e.browser()
	form := b.get(t, f.authURL())

	release := holdHashing(t)
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/oauth/token", url.Values{"grant_type": {"client_credentials"}}},
		{"/oauth/introspect", url.Values{"token": {"x"}}},
		{"/revoke", url.Values{"token": {"x"}}},
	} {
		for _, secret := range []string{c.secret, "wrong-secret"} {
			a := e.postFrom(t, source, tc.path, tc.form, c.ID, secret)
			if a.status != http.StatusServiceUnavailable || a.json["error"] != "temporarily_unavailable" ||
				a.header.Get("Retry-After") == "" || a.header.Get("WWW-Authenticate") != "" {
				t.Errorf("%s with hashing at capacity: %d Retry-After %q WWW-Authenticate %q %s; want 503 temporarily_unavailable with Retry-After",
					tc.path, a.status, a.header.Get("Retry-After"), a.header.Get("WWW-Authenticate"), a.body)
			}
		}
	}
	// Nothing was checked, so nothing counts as a failure.
	if th := e.clientAuthFailures(t, source); th.Failures != 0 {
		t.Errorf("busy answers counted as failed authentications: %+v", th)
	}
	// A generated secret needs no hashing slot.
	if a := e.postFrom(t, source, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, gen.ID, gen.secret); a.status != http.StatusOK {
		t.Errorf("generated secret with hashing at capacity: %d %s", a.status, a.body)
	}
	// The sign-in form: 503 with Retry-After and a "try again" page, not
	// "wrong password".
	p := b.submitLogin(t, form, u.Email, userPassword)
	if p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" ||
		!strings.Contains(p.body, "try again") || strings.Contains(p.body, "incorrect") {
		t.Errorf("sign-in with hashing at capacity: %d Retry-After %q: %.400s", p.StatusCode, p.Header.Get("Retry-After"), p.body)
	}
	release()

	if a := e.postFrom(t, source, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, c.secret); a.status != http.StatusOK {
		t.Fatalf("after the bound frees: %d %s", a.status, a.body)
	}
	code := f.code(t, clientRedirect(t, b.submitLogin(t, b.get(t, f.authURL()), u.Email, userPassword)))
	if _, err := f.exchange(context.Background(), code); err != nil {
		t.Fatalf("sign-in after the bound frees: %v", err)
	}
}

// createGeneratedClient stores a confidential client whose secret the
// provider generated: 256 random bits, stored as its SHA-256 digest.
func (e *env) createGeneratedClient(t *testing.T, opts ...clientOpt) testClient {
	t.Helper()
	secret := password.GenerateSecret()
	h, err := password.HashGenerated(secret)
	if err != nil {
		t.Fatal(err)
	}
	c := e.createClient(t, append(opts, func(c *storage.Client) { c.SecretHash = h })...)
	c.secret = secret
	return c
}

func testGeneratedSecret(t *testing.T, e *env) {
	c := e.createGeneratedClient(t, grants(storage.GrantClientCredentials))
	cc := url.Values{"grant_type": {"client_credentials"}}
	if a := e.postFrom(t, "192.0.2.77", "/oauth/token", cc, c.ID, c.secret); a.status != http.StatusOK || a.json["access_token"] == nil {
		t.Fatalf("right generated secret: %d %s", a.status, a.body)
	}
	if a := e.postFrom(t, "192.0.2.77", "/oauth/token", cc, c.ID, c.secret[:42]+"x"); a.status != http.StatusUnauthorized {
		t.Fatalf("wrong generated secret: %d %s", a.status, a.body)
	}
}

func testBodyCap(t *testing.T, e *env) {
	big := "x=" + strings.Repeat("a", 70<<10)
	for _, tc := range []struct {
		path string
		json bool
	}{
		{"/oauth/token", true},
		{"/oauth/introspect", true},
		{"/revoke", true},
		{"/authorize", false},
		{"/end_session", false},
		{"/login", false},
		{"/forgot", false},
	} {
		// Announced size: refused before anything reads the body.
		req, _ := http.NewRequest(http.MethodPost, e.issuer+tc.path, strings.NewReader(big))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a := do(t, req)
		if a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with %d bytes: %d, want 413: %.200s", tc.path, len(big), a.status, a.body)
		}
		if tc.json && a.json["error"] != "invalid_request" {
			t.Errorf("POST %s: 413 body %.200s, want invalid_request", tc.path, a.body)
		}
		if !tc.json && !strings.Contains(a.body, "too large") {
			t.Errorf("POST %s: 413 page %.200s, want a clear message", tc.path, a.body)
		}

		// Unannounced size (chunked): cut off at the cap; a clear 413 or
		// 400, never a success.
		req, _ = http.NewRequest(http.MethodPost, e.issuer+tc.path, io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if req.ContentLength != 0 {
			t.Fatal("want a chunked request")
		}
		a = do(t, req)
		if a.status != http.StatusRequestEntityTooLarge && a.status != http.StatusBadRequest {
			t.Errorf("chunked POST %s: %d, want 413 or 400: %.200s", tc.path, a.status, a.body)
		}
	}
	// The guarded endpoints say 413 for a chunked body too.
	for _, path := range []string{"/oauth/token", "/authorize", "/end_session"} {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if a := do(t, req); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked POST %s: %d, want 413: %.200s", path, a.status, a.body)
		}
	}
}

func testParamCap(t *testing.T, e *env) {
	c := e.createClient(t)
	cfg := e.oauth2Config(c)
	long := strings.Repeat("p", oidcprovider.MaxParamBytes+1)
	base := func() url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {cfg.RedirectURL},
			"scope": {"openid"}, "state": {"st"}, "code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}}
	}

	// At the cap: accepted (the sign-in form).
	q := base()
	q.Set("state", strings.Repeat("s", oidcprovider.MaxParamBytes))
	if p := e.browser().get(t, e.issuer+"/authorize?"+q.Encode()); p.StatusCode != http.StatusOK || !authRequestIDRE.MatchString(p.body) {
		t.Fatalf("state of exactly %d bytes: %d %.200s", oidcprovider.MaxParamBytes, p.StatusCode, p.body)
	}

	// Over it: invalid_request back at the (valid) redirect URI, with the
	// state unless the state is what is too long.
	for _, param := range []string{"state", "nonce", "login_hint", "scope", "code_challenge", "prompt", "max_age", "response_mode"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			q := base()
			q.Set(param, long)
			b := e.browser()
			var p page
			if method == http.MethodGet {
				p = b.get(t, e.issuer+"/authorize?"+q.Encode())
			} else {
				resp, err := b.c.PostForm(e.issuer+"/authorize", q)
				if err != nil {
					t.Fatal(err)
				}
				p = readPage(t, resp)
			}
			back := clientRedirect(t, p)
			bq := back.Query()
			wantState := "st"
			if param == "state" {
				wantState = ""
			}
			if !strings.HasPrefix(back.String(), cfg.RedirectURL) || bq.Get("error") != "invalid_request" ||
				!strings.Contains(bq.Get("error_description"), param) || bq.Get("state") != wantState || bq.Get("code") != "" {
				t.Errorf("%s %s of %d bytes: redirect %.300s; want invalid_request naming it, state %q", method, param, len(long), back, wantState)
			}
		}
	}

	// client_id and redirect_uri too long: the error page, never a redirect.
	for _, param := range []string{"client_id", "redirect_uri"} {
		q := base()
		q.Set(param, long)
		p := e.browser().get(t, e.issuer+"/authorize?"+q.Encode())
		if p.StatusCode != http.StatusBadRequest || p.Header.Get("Location") != "" || !strings.Contains(p.body, "too long") {
			t.Errorf("%s of %d bytes: %d Location %q %.200s; want the error page", param, len(long), p.StatusCode, p.Header.Get("Location"), p.body)
		}
	}
}

// testAdmission: with every admission slot taken (here by a token request
// waiting for a hashing slot) and no room to wait, the requests that make
// the provider work for an unknown caller get 503 with Retry-After at
// once, while discovery, JWKS, userinfo and health still answer.
func testAdmission(t *testing.T, e *env) {
	c := e.createClient(t, grants(storage.GrantClientCredentials, storage.GrantAuthorizationCode)) // argon2id secret
	u := e.createUser(t, storage.UserTypeEmployee)
	_, tok, _ := e.login(t, c, u)

	// One admission slot, no queue.
	e.admission = server.Admission{Concurrency: 1, MaxWait: time.Second}
	e.sw.set(e.instance(e.store))
	e.admission = server.Admission{}
	defer e.sw.set(e.instance(e.store))

	// A token request that waits for a hashing slot holds the admission
	// slot meanwhile.
	old := password.SetBound(password.Bound{Concurrency: 1, Queue: 8, MaxWait: time.Minute})
	defer password.SetBound(old)
	free := password.Exhaust()
	var held answer
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		held = e.postFrom(t, "192.0.2.90", "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, c.secret)
	}()
	defer func() { free(); <-answered }() // not left running past the test
	// Wait until it does, without a request of our own: with one slot and
	// no queue, a request that held the slot when the token request came
	// would have it refused at once, and nothing would hold the slot.
	awaitHashingWaiter(t, answered, &held)

	// Pages: refused at once, nothing to wait for.
	for _, path := range []string{"/forgot", "/login", "/authorize?client_id=" + c.ID} {
		p := e.browser().get(t, e.issuer+path)
		if p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" || !strings.Contains(p.body, "try again") {
			t.Fatalf("GET %s with the admission slot held: %d Retry-After %q: %.200s", path, p.StatusCode, p.Header.Get("Retry-After"), p.body)
		}
	}
	a := e.postFrom(t, "192.0.2.91", "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, c.secret)
	if a.status != http.StatusServiceUnavailable || a.json["error"] != "temporarily_unavailable" || a.header.Get("Retry-After") == "" {
		t.Errorf("token endpoint at capacity: %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	if a := e.postFrom(t, "192.0.2.92", "/oauth/introspect", url.Values{"token": {"x"}}, c.ID, c.secret); a.status != http.StatusServiceUnavailable {
		t.Errorf("introspection at capacity: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys", "/healthz", "/readyz"} {
		resp, err := http.Get(e.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s at capacity: %d, want 200", path, resp.StatusCode)
		}
	}
	if resp, m := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusOK || m["sub"] != u.ID {
		t.Errorf("userinfo at capacity: %d %v", resp.StatusCode, m)
	}

	free()
	<-answered
	if held.status != http.StatusOK {
		t.Errorf("the admitted token request: %d %s", held.status, held.body)
	}
}

// awaitHashingWaiter returns once a caller waits for a hashing slot: the
// request that closes answered when its answer a is in, which asks for one
// only once it is admitted. It fails the test if that answer comes first.
func awaitHashingWaiter(t *testing.T, answered <-chan struct{}, a *answer) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for password.State().Waiting == 0 {
		select {
		case <-answered:
			t.Fatalf("the token request was answered before it waited for a hashing slot: %d %s", a.status, a.body)
		case <-deadline:
			t.Fatal("the token request never waited for a hashing slot")
		case <-tick.C:
		}
	}
}
