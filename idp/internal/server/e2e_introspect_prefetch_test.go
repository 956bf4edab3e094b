package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestIntrospectPrefetch: introspection reads the token named by the
// request's unverified jti along with the caller (clientAuthGuard), and
// answers from that row only for a token whose signature it then verified.
// A forged token with a live token's jti is inactive although its row was
// read; the token parameter is taken once (two values, a value in the
// query, none at all are 400 invalid_request), so the row read and the
// token verified are always the same one; and a revocation or a disabled
// user shows on the very next introspection.
func TestIntrospectPrefetch(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			f, first, _ := e.login(t, c, u)
			second, err := e.refresh(f.cfg, first.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			live, revoked := first.AccessToken, second.AccessToken
			if resp, _ := e.post(t, "/revoke", url.Values{"token": {revoked}, "token_type_hint": {"access_token"}}, c.ID, c.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			introspect := func(tokens ...string) map[string]any {
				t.Helper()
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, e.formRequest("/oauth/introspect", url.Values{"token": tokens}, c))
				var m map[string]any
				if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &m) != nil {
					t.Fatalf("introspect: %d %s", w.Code, w.Body)
				}
				return m
			}
			// refused answers a request introspection must refuse with
			// status and OAuth error code.
			refused := func(name string, r *http.Request, status int, code string) {
				t.Helper()
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, r)
				var m map[string]any
				if w.Code != status || json.Unmarshal(w.Body.Bytes(), &m) != nil || m["error"] != code || m["active"] != nil {
					t.Errorf("%s: %d %s, want %d %s", name, w.Code, w.Body, status, code)
				}
			}
			// The live token's header and payload (its real jti) under a
			// signature that is not the provider's.
			parts := strings.Split(live, ".")
			forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 64)))
			if m := introspect(forged); m["active"] != false {
				t.Errorf("forged token with a live jti: %v, want inactive", m)
			}
			// One token per request: the row read is the token verified.
			refused("a forged token beside a revoked one", e.formRequest("/oauth/introspect",
				url.Values{"token": {forged, revoked}}, c), http.StatusBadRequest, "invalid_request")
			refused("a revoked token beside a live one", e.formRequest("/oauth/introspect",
				url.Values{"token": {revoked, live}}, c), http.StatusBadRequest, "invalid_request")
			inQuery := e.formRequest("/oauth/introspect?token="+url.QueryEscape(live), url.Values{}, c)
			refused("the token in the query", inQuery, http.StatusBadRequest, "invalid_request")
			inBoth := e.formRequest("/oauth/introspect?token="+url.QueryEscape(revoked), url.Values{"token": {live}}, c)
			refused("a token in the body and one in the query", inBoth, http.StatusBadRequest, "invalid_request")
			refused("no token", e.formRequest("/oauth/introspect", url.Values{}, c), http.StatusBadRequest, "invalid_request")
			get := e.formRequest("/oauth/introspect", url.Values{}, c)
			get.Method, get.URL.RawQuery = http.MethodGet, "token="+url.QueryEscape(live)
			refused("GET", get, http.StatusMethodNotAllowed, "invalid_request")
			// client_secret_post is not offered here (discovery names Basic).
			post := httptest.NewRequest(http.MethodPost, e.issuer+"/oauth/introspect", strings.NewReader(url.Values{
				"token": {live}, "client_id": {c.ID}, "client_secret": {c.secret}}.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			refused("client_secret_post", post, http.StatusUnauthorized, "invalid_client")
			if m := introspect(live); m["active"] != true || m["jti"] != jti(t, live) || m["iss"] != e.issuer || m["sub"] != u.ID {
				t.Errorf("the live token after the refused requests: %v, want active as itself", m)
			}

			// Revoked between two introspections: inactive on the next.
			if err := e.store.RevokeFamily(context.Background(), familyOf(t, e, live), time.Now()); err != nil {
				t.Fatal(err)
			}
			if m := introspect(live); m["active"] != false {
				t.Errorf("token of a family revoked since the last introspection: %v, want inactive", m)
			}
			// Disabled between two introspections: inactive on the next.
			_, third, _ := e.login(t, c, u)
			if m := introspect(third.AccessToken); m["active"] != true {
				t.Fatalf("a new token: %v, want active", m)
			}
			if _, err := e.store.UpdateUser(context.Background(), u.ID, 0, func(x *storage.User) error {
				x.Status = storage.StatusDisabled
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if m := introspect(third.AccessToken); m["active"] != false {
				t.Errorf("token of a user disabled since the last introspection: %v, want inactive", m)
			}
		})
	}
}

// jti is the jti claim of the JWT raw, unverified.
func jti(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.JTI
}

// familyOf is the family of the recorded access token raw.
func familyOf(t *testing.T, e *env, raw string) string {
	t.Helper()
	at, err := e.store.GetAccessToken(context.Background(), jti(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	return at.FamilyID
}
