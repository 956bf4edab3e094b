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
// that row answers only for the token op then verified. A forged token
// with a live token's jti is inactive although its row was read; a forged
// token sent beside a genuine revoked one (op introspects the last token
// value, the guard read the first's jti) does not lend the genuine one
// its live row; and a revocation or a disabled user shows on the very next
// introspection.
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
			if m := introspect(live); m["active"] != true {
				t.Fatalf("the live token: %v, want active", m)
			}
			if m := introspect(revoked); m["active"] != false {
				t.Fatalf("the revoked token: %v, want inactive", m)
			}

			// The live token's header and payload (its real jti) under a
			// signature that is not the provider's.
			parts := strings.Split(live, ".")
			forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 64)))
			if m := introspect(forged); m["active"] != false {
				t.Errorf("forged token with a live jti: %v, want inactive", m)
			}
			if m := introspect(forged, revoked); m["active"] != false {
				t.Errorf("revoked token sent after a forged one with a live jti: %v, want inactive", m)
			}
			if m := introspect(revoked, live); m["active"] != true || m["jti"] != jti(t, live) {
				t.Errorf("live token sent after a revoked one: %v, want active as itself", m)
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
