package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// wantHeaders are the security headers every response carries, written
// out: removing or weakening one fails the test.
var wantHeaders = map[string]string{
	"Content-Security-Policy":    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Frame-Options":            "DENY",
	"X-Content-Type-Options":     "nosniff",
	"Referrer-Policy":            "no-referrer",
	"Cross-Origin-Opener-Policy": "same-origin",
}

const hsts = "max-age=63072000; includeSubDomains"

// TestSecurityHeaders drives one provider over https and one over plain
// http through every kind of response — pages (sign-in, account, error,
// logged out), redirects, the stylesheet, the OIDC JSON endpoints with
// success and error answers, the admin API, health, unknown paths and
// methods — and checks every response it got: each carries the security
// headers, and HSTS exactly when the issuer is https.
func TestSecurityHeaders(t *testing.T) {
	for _, secure := range []bool{true, false} {
		t.Run(map[bool]string{true: "https", false: "http"}[secure], func(t *testing.T) {
			e := &env{t: t, tls: secure}
			e.start(backends[0].dsn(t))
			rec := &recordingTransport{next: e.srv.Client().Transport}
			exerciseEveryResponseKind(t, e, rec)

			seen := rec.responses()
			kinds := map[string]bool{}
			for _, r := range seen {
				kinds[r.kind()] = true
				for name, want := range wantHeaders {
					if got := r.header.Get(name); got != want {
						t.Errorf("%s: %s = %q, want %q", r, name, got, want)
					}
				}
				if got := r.header.Get("Strict-Transport-Security"); secure && got != hsts {
					t.Errorf("%s: Strict-Transport-Security = %q, want %q", r, got, hsts)
				} else if !secure && got != "" {
					t.Errorf("%s: Strict-Transport-Security %q over plain http", r, got)
				}
			}
			// The exercise reached every kind of response it means to.
			for _, k := range []string{
				"text/html 200", "text/html 400", "text/html 303", "text/html 302",
				"text/css 200", "application/json 200", "application/json 400", "application/json 401",
				"application/json 404", "application/json 405", "text/plain 404",
			} {
				if !kinds[k] {
					t.Errorf("no %q response was checked; seen: %s", k, strings.Join(sortedKeys(kinds), ", "))
				}
			}
			t.Logf("%d responses checked, kinds: %s", len(seen), strings.Join(sortedKeys(kinds), ", "))
		})
	}
}

// exerciseEveryResponseKind sends, through rec, a sign-in with token
// exchange, refresh, userinfo, introspection, revocation and logout, and
// the error answers of each, the account pages, the admin API and health.
func exerciseEveryResponseKind(t *testing.T, e *env, rec *recordingTransport) {
	t.Helper()
	hc := &http.Client{Transport: rec, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, body url.Values, header ...string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(body.Encode())
		}
		req, err := http.NewRequest(method, e.issuer+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// A full sign-in in a browser: authorize → sign-in page → POST →
	// redirect to the client; code exchange, refresh, userinfo,
	// introspection, revocation, logout.
	u := e.createUser(t, storage.UserTypeEmployee)
	c := e.createClient(t)
	jar, _ := cookiejar.New(nil)
	b := &browser{issuer: e.issuer, c: &http.Client{Jar: jar, Transport: rec, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), e.issuer+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
	f := newFlow(e.oauth2Config(c))
	code := f.code(t, b.signIn(t, f.authURL(), u.Email, userPassword))
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rec})
	tok, err := f.cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	tok, err = f.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	do("GET", "/userinfo", nil, "Authorization", "Bearer "+tok.AccessToken)
	do("GET", "/userinfo", nil, "Authorization", "Bearer not-a-token")
	basic := func(id, secret string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return req.Header.Get("Authorization")
	}
	do("POST", "/oauth/introspect", url.Values{"token": {tok.AccessToken}}, "Authorization", basic(c.ID, c.secret))
	do("POST", "/oauth/introspect", url.Values{"token": {tok.AccessToken}})
	do("POST", "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}}, "Authorization", basic(c.ID, c.secret))
	do("POST", "/revoke", url.Values{"token": {tok.RefreshToken}}, "Authorization", basic(c.ID, c.secret))
	do("GET", "/end_session?"+url.Values{
		"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {c.PostLogoutRedirectURIs[0]}, "state": {"s"},
	}.Encode(), nil)
	b.get(t, e.issuer+"/logged-out")

	// Pages and their errors.
	b.get(t, e.issuer+"/authorize?client_id=no-such-client&response_type=code")
	b.get(t, e.issuer+"/login?authRequestID=no-such-request")
	b.get(t, e.issuer+"/forgot")
	b.form(t, "/forgot", url.Values{"email": {"nobody@example.com"}})
	b.get(t, e.issuer+"/reset?token=not-a-token")
	b.get(t, e.issuer+"/account")
	b.get(t, e.issuer+"/static/style.css")
	do("GET", "/no-such-page", nil)

	// Discovery, keys, health.
	do("GET", "/.well-known/openid-configuration", nil)
	do("GET", "/keys", nil)
	do("GET", "/healthz", nil)
	do("GET", "/readyz", nil)

	// The admin API: public document, refusals, unknown path and method.
	do("GET", api.BasePath+"/openapi.json", nil)
	do("GET", api.BasePath+"/me", nil)
	do("GET", api.BasePath+"/me", nil, "Authorization", "Bearer "+tok.AccessToken)
	do("GET", api.BasePath+"/no-such-resource", nil)
	do("DELETE", api.BasePath+"/me", nil)
}

// recordingTransport remembers every response that passes through it.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	all  []seenResponse
}

type seenResponse struct {
	method, path string
	status       int
	header       http.Header
}

func (r seenResponse) String() string {
	return fmt.Sprintf("%s %s → %d %s", r.method, r.path, r.status, r.header.Get("Content-Type"))
}

// kind is the response's media type and status, e.g. "text/html 200".
func (r seenResponse) kind() string {
	ct, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	return fmt.Sprintf("%s %d", strings.TrimSpace(ct), r.status)
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.all = append(r.all, seenResponse{req.Method, req.URL.Path, resp.StatusCode, resp.Header.Clone()})
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recordingTransport) responses() []seenResponse {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seenResponse(nil), r.all...)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
