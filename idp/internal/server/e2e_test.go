package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestE2E drives the real server through its HTTP interface with
// independent clients (go-oidc, x/oauth2, a cookie-jar browser filling the
// real sign-in form), on every backend.
func TestE2E(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"discovery", testDiscovery},
		{"jwks", testJWKS},
		{"code flow with PKCE", testCodeFlow},
		{"code reuse revokes the first tokens", testCodeReuse},
		{"redirect_uri mismatch", testRedirectMismatch},
		{"wrong client secret", testWrongSecret},
		{"refresh rotation and reuse", testRefreshRotation},
		{"userinfo", testUserinfo},
		{"introspection and revocation", testIntrospectRevoke},
		{"client credentials", testClientCredentials},
		{"access denied by role", testAccessDenied},
		{"role no longer admitted at refresh", testRoleChangeRefresh},
		{"prompt none", testPromptNone},
		{"end session", testEndSession},
		{"lock after failures", testLock},
		{"plain PKCE refused", testPlainPKCE},
		{"public client needs PKCE", testPublicClientPKCE},
		{"authorization endpoint details", testAuthorizeDetails},
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

func getJSON(t *testing.T, u string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s: not JSON: %v", u, err)
	}
	return resp, m
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func testDiscovery(t *testing.T, e *env) {
	_, d := getJSON(t, e.issuer+"/.well-known/openid-configuration")
	if d["issuer"] != e.issuer {
		t.Errorf("issuer %v, want %s", d["issuer"], e.issuer)
	}
	exact := map[string][]string{
		"response_types_supported":              {"code"},
		"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":      {"S256"},
		"subject_types_supported":               {"public"},
		"id_token_signing_alg_values_supported": {"RS256"},
	}
	for k, want := range exact {
		if got := strs(d[k]); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	for _, s := range []string{"openid", "profile", "email", "phone", "offline_access", "roles"} {
		if !slices.Contains(strs(d["scopes_supported"]), s) {
			t.Errorf("scopes_supported lacks %s", s)
		}
	}
	for _, c := range []string{"sub", "email", "email_verified", "name", "roles", "user_type", "auth_time", "nonce", "at_hash"} {
		if !slices.Contains(strs(d["claims_supported"]), c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
		"introspection_endpoint", "revocation_endpoint", "end_session_endpoint"} {
		if s, _ := d[k].(string); !strings.HasPrefix(s, e.issuer+"/") {
			t.Errorf("%s = %q, not under the issuer", k, s)
		}
	}
	for _, k := range []string{"device_authorization_endpoint", "check_session_iframe"} {
		if _, ok := d[k]; ok {
			t.Errorf("%s advertised but not offered", k)
		}
	}
	if m := strs(d["token_endpoint_auth_methods_supported"]); slices.Contains(m, "private_key_jwt") {
		t.Errorf("private_key_jwt advertised: %v", m)
	}
}

func testJWKS(t *testing.T, e *env) {
	_, d := getJSON(t, e.issuer+"/keys")
	keys, _ := d["keys"].([]any)
	if len(keys) < 2 {
		t.Fatalf("JWKS has %d keys, want current and next", len(keys))
	}
	seen, algs := map[string]bool{}, map[string]int{}
	for _, k := range keys {
		m := k.(map[string]any)
		for _, p := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := m[p]; ok {
				t.Fatalf("JWK %v has private parameter %s", m["kid"], p)
			}
		}
		kid, _ := m["kid"].(string)
		if kid == "" || seen[kid] {
			t.Fatalf("missing or duplicate kid %q", kid)
		}
		seen[kid] = true
		// Every key says what it signs with, truthfully.
		alg := fmt.Sprint(m["kty"], " ", m["crv"], " ", m["alg"], " ", m["use"])
		algs[alg]++
	}
	// ID tokens: RSA RS256, current and next; access tokens: P-256 ES256.
	if algs["RSA <nil> RS256 sig"] < 2 || algs["EC P-256 ES256 sig"] < 2 || len(algs) != 2 {
		t.Errorf("JWKS keys by kty, crv, alg, use: %v", algs)
	}
}

// jwsHeader is the protected header of a compact JWS.
func jwsHeader(t *testing.T, raw string) jose.Header {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("not a JWS: %v", err)
	}
	return jws.Signatures[0].Header
}

func testCodeFlow(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee, storage.RoleAdmin)
	c := e.createClient(t)
	rec := &recorder{}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rec})
	f := newFlow(e.oauth2Config(c))
	b := e.browser()
	start := time.Now().Add(-time.Second)
	code := f.code(t, b.signIn(t, f.authURL(), u.Email, userPassword))
	tok, err := f.exchange(ctx, code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	h := rec.header()
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
		t.Errorf("token response Cache-Control %q Pragma %q, want no-store, no-cache", h.Get("Cache-Control"), h.Get("Pragma"))
	}
	if tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Errorf("want a refresh token and expires_in (offline_access)")
	}
	p := e.provider(t)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&gooidc.Config{ClientID: c.ID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != f.nonce || idt.Subject != u.ID {
		t.Errorf("nonce %q sub %q, want %q %q", idt.Nonce, idt.Subject, f.nonce, u.ID)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		AZP      string   `json:"azp"`
		Roles    []string `json:"roles"`
		UserType string   `json:"user_type"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.AuthTime < start.Unix() || claims.AuthTime > time.Now().Unix()+1 {
		t.Errorf("auth_time %d not the sign-in time", claims.AuthTime)
	}
	if !slices.Equal(claims.AMR, []string{"pwd"}) || claims.AZP != c.ID {
		t.Errorf("amr %v azp %q", claims.AMR, claims.AZP)
	}
	if !slices.Equal(claims.Roles, []string{"admin"}) || claims.UserType != "employee" {
		t.Errorf("ID token roles %v user_type %q (scope roles)", claims.Roles, claims.UserType)
	}
	// The access token is an RFC 9068-shaped JWT any module can verify,
	// ES256 with a key of its own; the ID token RS256 (checked above), so
	// at_hash was taken with SHA-256 of RS256, the ID token's alg.
	if ah, ih := jwsHeader(t, tok.AccessToken), jwsHeader(t, raw); ah.Algorithm != "ES256" || ih.Algorithm != "RS256" || ah.KeyID == ih.KeyID {
		t.Errorf("access token %s %s, ID token %s %s: want ES256 and RS256 with distinct keys", ah.Algorithm, ah.KeyID, ih.Algorithm, ih.KeyID)
	}
	// The access token is an RFC 9068-shaped JWT any module can verify.
	at, err := p.Verifier(&gooidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{gooidc.ES256}}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("access token is not a JWT verifiable with the JWKS: %v", err)
	}
	var ac map[string]any
	_ = at.Claims(&ac)
	if ac["client_id"] != c.ID || ac["sub"] != u.ID || ac["jti"] == "" || ac["jti"] == nil {
		t.Errorf("access token claims %v", ac)
	}
	if sc, _ := ac["scope"].(string); !strings.Contains(" "+sc+" ", " roles ") || !strings.Contains(" "+sc+" ", " openid ") {
		t.Errorf("access token scope %q", ac["scope"])
	}
	if !slices.Equal(strs(ac["roles"]), []string{"admin"}) || ac["user_type"] != "employee" {
		t.Errorf("access token roles %v user_type %v", ac["roles"], ac["user_type"])
	}
	if _, ok := ac["email"]; ok {
		t.Errorf("access token carries email: %v", ac)
	}
}

func testCodeReuse(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f := newFlow(e.oauth2Config(c))
	code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, userPassword))
	tok, err := f.exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if !e.introspect(t, c, tok.AccessToken) {
		t.Fatal("fresh access token inactive")
	}
	_, err = f.exchange(context.Background(), code)
	if got := errorCode(err); got != "invalid_grant" {
		t.Fatalf("second redemption: %q, want invalid_grant", got)
	}
	if e.introspect(t, c, tok.AccessToken) {
		t.Error("access token of the first redemption still active")
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("refresh token of the first redemption: %v, want invalid_grant", err)
	}
	if resp, _ := e.userinfo(t, http.MethodGet, tok.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with a revoked token: %d", resp.StatusCode)
	}
}

func testRedirectMismatch(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	for name, mutate := range map[string]func(*oauth2.Config){
		"unregistered redirect_uri": func(cfg *oauth2.Config) { cfg.RedirectURL = "https://evil.example/cb" },
		"extra query":               func(cfg *oauth2.Config) { cfg.RedirectURL += "?x=1" },
		"unknown client":            func(cfg *oauth2.Config) { cfg.ClientID = "no-such-client" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := *e.oauth2Config(c)
			mutate(&cfg)
			p := e.browser().get(t, newFlow(&cfg).authURL())
			if p.StatusCode != http.StatusBadRequest || p.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q: want 400 and no redirect", p.StatusCode, p.Header.Get("Location"))
			}
			if !strings.Contains(p.body, "not valid") || strings.Contains(p.body, "evil.example") {
				t.Errorf("error page: %.300s", p.body)
			}
		})
	}
	t.Run("at the token endpoint", func(t *testing.T) {
		f := newFlow(e.oauth2Config(c))
		code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, userPassword))
		other := *f.cfg
		other.RedirectURL = "https://app.example.test/elsewhere"
		_, err := other.Exchange(context.Background(), code, oauth2.VerifierOption(f.verifier))
		if got := errorCode(err); got != "invalid_grant" {
			t.Fatalf("exchange with another redirect_uri: %q, want invalid_grant", got)
		}
	})
}

func testWrongSecret(t *testing.T, e *env) {
	c := e.createClient(t, grants(storage.GrantClientCredentials))
	resp, m := e.post(t, "/oauth/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, "wrong-secret")
	if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Fatalf("status %d body %v, want 401 invalid_client", resp.StatusCode, m)
	}
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response may be cached")
	}
	// Unknown grant type.
	resp, m = e.post(t, "/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}}, c.ID, c.secret)
	if resp.StatusCode != http.StatusBadRequest || m["error"] != "unsupported_grant_type" {
		t.Errorf("jwt-bearer grant: %d %v", resp.StatusCode, m)
	}
}

func testAccessDenied(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	mobile := e.createClient(t, admits(storage.UserTypeClinician))
	f := newFlow(e.oauth2Config(mobile))
	back := e.browser().signIn(t, f.authURL(), u.Email, userPassword)
	q := back.Query()
	if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != f.state {
		t.Fatalf("redirect %s: want error=access_denied with state and no code", back)
	}
	if !strings.HasPrefix(back.String(), mobile.RedirectURIs[0]) {
		t.Errorf("redirected to %s, not the client", back)
	}
}

func testPromptNone(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	_, tok, b := e.login(t, c, u)
	first, _ := tok.Extra("id_token").(string)
	v := e.provider(t).Verifier(&gooidc.Config{ClientID: c.ID})
	a, err := v.Verify(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	// With the session: a code without any page, same subject.
	f := newFlow(e.oauth2Config(c))
	p := b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none")))
	code := f.code(t, clientRedirect(t, p))
	tok2, err := f.exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok2.Extra("id_token").(string)
	bt, err := v.Verify(context.Background(), raw)
	if err != nil || bt.Subject != a.Subject || bt.Nonce != f.nonce {
		t.Fatalf("silent ID token: %v sub %q", err, bt.Subject)
	}
	// Without a session: login_required, back at the client.
	f2 := newFlow(e.oauth2Config(c))
	back := clientRedirect(t, e.browser().get(t, f2.authURL(oauth2.SetAuthURLParam("prompt", "none"))))
	if back.Query().Get("error") != "login_required" || back.Query().Get("state") != f2.state {
		t.Fatalf("prompt=none without a session: %s", back)
	}
}

func testEndSession(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	_, tok, b := e.login(t, c, u)
	hint, _ := tok.Extra("id_token").(string)
	end := func(q url.Values) string { return e.issuer + "/end_session?" + q.Encode() }

	p := b.get(t, end(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}, "state": {"st4te"}}))
	back := clientRedirect(t, p)
	if want := c.PostLogoutRedirectURIs[0] + "?state=st4te"; back.String() != want {
		t.Fatalf("logout redirect %s, want %s", back, want)
	}
	f := newFlow(e.oauth2Config(c))
	after := clientRedirect(t, b.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none"))))
	if after.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none after logout: %s", after)
	}

	// Never redirect to an unregistered URI, even with a valid hint (which
	// signs out at once).
	for name, q := range map[string]url.Values{
		"unregistered": {"post_logout_redirect_uri": {"https://evil.example/bye"}},
		"extra query":  {"post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0] + "?x=1"}},
	} {
		_, tok2, b2 := e.login(t, c, u)
		hint2, _ := tok2.Extra("id_token").(string)
		q.Set("id_token_hint", hint2)
		p := b2.get(t, end(q))
		if p.StatusCode != http.StatusOK || p.Request.URL.Path != "/logged-out" {
			t.Errorf("%s: status %d at %s, want the signed-out page", name, p.StatusCode, p.Request.URL)
		}
	}

	// Without a valid hint for the signed-in user, a GET (a link, an image
	// on another site) signs nobody out: it asks, and changes nothing.
	other := e.createUser(t, storage.UserTypeEmployee)
	_, otherTok, _ := e.login(t, c, other)
	otherHint, _ := otherTok.Extra("id_token").(string)
	_, tok3, b3 := e.login(t, c, u)
	hint3, _ := tok3.Extra("id_token").(string)
	stillSignedIn := func(what string) {
		t.Helper()
		f := newFlow(e.oauth2Config(c))
		f.code(t, clientRedirect(t, b3.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none")))))
	}
	for name, q := range map[string]url.Values{
		"no hint":             {"post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}, "client_id": {c.ID}},
		"forged hint":         {"id_token_hint": {hint3[:len(hint3)-6] + "AAAAAA"}, "post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}},
		"another user's hint": {"id_token_hint": {otherHint}, "post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}},
	} {
		p := b3.get(t, end(q))
		if p.StatusCode != http.StatusOK || p.Request.URL.Path != "/end_session" || !strings.Contains(p.body, `name="confirm" value="1"`) {
			t.Errorf("%s: status %d at %s, want the confirmation page", name, p.StatusCode, p.Request.URL)
		}
		stillSignedIn(name)
	}
	// A cross-site POST of the confirmation does not count either.
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/end_session", strings.NewReader("confirm=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b3.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, resp)
	stillSignedIn("cross-site confirmation")
	// The user's own click does.
	resp, err = b3.c.PostForm(e.issuer+"/end_session", url.Values{"confirm": {"1"}, "post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if p := readPage(t, resp); p.Request.URL.Path != "/logged-out" {
		t.Errorf("confirmed sign-out ended at %s, want the signed-out page", p.Request.URL)
	}
	f = newFlow(e.oauth2Config(c))
	if after := clientRedirect(t, b3.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none")))); after.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none after the confirmed sign-out: %s", after)
	}
}

func testLock(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	f := newFlow(e.oauth2Config(c))
	b := e.browser()
	p := b.get(t, f.authURL())
	for i := 1; i <= 5; i++ {
		p = b.submitLogin(t, p, u.Email, "wrong password number "+string(rune('0'+i)))
		if i < 5 && p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i, p.StatusCode)
		}
	}
	if p.StatusCode != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many attempts") {
		t.Fatalf("5th failure: status %d, want the lock message", p.StatusCode)
	}
	p = b.submitLogin(t, p, u.Email, userPassword)
	if p.StatusCode != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many attempts") {
		t.Fatalf("right password while locked: status %d, want refused", p.StatusCode)
	}
}

func testPlainPKCE(t *testing.T, e *env) {
	c := e.createClient(t)
	cfg := e.oauth2Config(c)
	u := cfg.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)),
		oauth2.SetAuthURLParam("code_challenge_method", "plain"))
	back := clientRedirect(t, e.browser().get(t, u))
	if back.Query().Get("error") != "invalid_request" || back.Query().Get("code") != "" || back.Query().Get("state") != "st" {
		t.Fatalf("plain PKCE: %s, want error=invalid_request", back)
	}
}

func testPublicClientPKCE(t *testing.T, e *env) {
	u := e.createUser(t, storage.UserTypeClinician)
	app := e.createClient(t, public, redirects("http://127.0.0.1/callback"))
	cfg := e.oauth2Config(app)
	back := clientRedirect(t, e.browser().get(t, cfg.AuthCodeURL("st")))
	if back.Query().Get("error") != "invalid_request" {
		t.Fatalf("public client without PKCE: %s", back)
	}
	// With PKCE it works, without a secret; the loopback port may vary (RFC 8252).
	cfg.RedirectURL = "http://127.0.0.1:49152/callback"
	f := newFlow(cfg)
	code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, userPassword))
	if _, err := f.exchange(context.Background(), code); err != nil {
		t.Fatalf("public client exchange: %v", err)
	}
	// The verifier is checked.
	f2 := newFlow(cfg)
	code2 := f2.code(t, e.browser().signIn(t, f2.authURL(), u.Email, userPassword))
	if _, err := cfg.Exchange(context.Background(), code2, oauth2.VerifierOption(oauth2.GenerateVerifier())); errorCode(err) != "invalid_grant" {
		t.Errorf("wrong verifier: %v", err)
	}
}
