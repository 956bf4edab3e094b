package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// statementsPerOperation pins how many round trips to the database each
// hot operation costs: statements, and BEGIN and COMMIT of a transaction
// (one round trip each on PostgreSQL). A change that adds one fails here;
// one that saves one lowers the number. Both backends run the same SQL,
// but for what statementsOnPostgres lists.
//
//   - userinfo: the token with its user and the user's roles.
//   - introspection: the caller with the source's throttle counter and
//     the token (its jti, read unverified) with its user and roles
//     (clientAuthGuard; op's lookups of the caller and, once op has
//     verified the token, of the token reuse them).
//   - refresh: the caller with the throttle counter; the refresh token
//     with its user and roles (checkUser and the ID token's and access
//     token's claims reuse the user); the rotation with the access token
//     (BEGIN, rotate, insert successor, insert access token, COMMIT).
//   - code exchange: the caller with the throttle counter; the code's
//     request; the user with roles; the redemption (one statement); the
//     session's device; the refresh token; the access token.
var statementsPerOperation = map[string]int{
	"code exchange": 7,
	"refresh":       7,
	"userinfo":      1,
	"introspection": 1,
}

// statementsOnPostgres are the operations PostgreSQL does in fewer round
// trips than statementsPerOperation says: a refresh rotates, stores the
// successor and the access token in one statement (a data-modifying WITH,
// which SQLite lacks) instead of a transaction.
var statementsOnPostgres = map[string]int{
	"refresh": 3,
}

// wantStatements is what op should send on the backend named backend.
func wantStatements(backend, op string) int {
	if n, ok := statementsOnPostgres[op]; ok && backend == "postgres" {
		return n
	}
	return statementsPerOperation[op]
}

// stmtCountKey marks the context of a request whose statements are
// counted.
type stmtCountKey struct{}

// stmtCounter collects the statements of one request.
type stmtCounter struct {
	mu      sync.Mutex
	queries []string
}

// countStatements has e's store tell every statement to the counter its
// ctx carries, if any (background work carries none).
func (e *env) countStatements(t *testing.T) {
	t.Helper()
	obs, ok := e.store.(interface {
		ObserveStatements(func(ctx context.Context, query string))
	})
	if !ok {
		t.Fatalf("store %T cannot report its statements", e.store)
	}
	obs.ObserveStatements(func(ctx context.Context, query string) {
		// The key list is read again at most once a minute per process
		// (keys.DefaultCacheTTL), by whichever request comes then: not a
		// cost of the operation.
		if strings.Contains(query, "FROM signing_keys") {
			return
		}
		if c, ok := ctx.Value(stmtCountKey{}).(*stmtCounter); ok {
			c.mu.Lock()
			c.queries = append(c.queries, strings.Join(strings.Fields(query), " "))
			c.mu.Unlock()
		}
	})
}

// serveCounted serves r in process and returns the answer and the
// statements it sent to the database.
func (e *env) serveCounted(t *testing.T, r *http.Request) (*httptest.ResponseRecorder, []string) {
	t.Helper()
	c := &stmtCounter{}
	r = r.WithContext(context.WithValue(r.Context(), stmtCountKey{}, c))
	w := httptest.NewRecorder()
	e.sw.ServeHTTP(w, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	return w, c.queries
}

// setSecretHash stores hash as client id's secret hash, as a rotation does.
func (e *env) setSecretHash(t *testing.T, id, hash string) {
	t.Helper()
	if _, err := e.store.UpdateClient(context.Background(), id, func(sc *storage.Client) error {
		sc.SecretHash = hash
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// formRequest is a POST of form to path with Basic client authentication,
// as a relying party sends it.
func (e *env) formRequest(path string, form url.Values, c testClient) *http.Request {
	r := httptest.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.secret))
	return r
}

// TestStatementsPerOperation: code exchange, refresh, userinfo and
// introspection each send exactly statementsPerOperation[op] statements,
// on both backends.
func TestStatementsPerOperation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			e.countStatements(t)
			u := e.createUser(t, storage.UserTypeEmployee, storage.RoleAdmin)
			c := e.createClient(t)
			f := newFlow(e.oauth2Config(c))
			code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, userPassword))

			check := func(op string, r *http.Request) map[string]any {
				t.Helper()
				w, queries := e.serveCounted(t, r)
				var m map[string]any
				if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &m) != nil {
					t.Fatalf("%s: %d %s", op, w.Code, w.Body)
				}
				if want := wantStatements(b.name, op); len(queries) != want {
					t.Errorf("%s sent %d statements, want %d:\n\t%s", op, len(queries), want, strings.Join(queries, "\n\t"))
				}
				return m
			}
			tok := check("code exchange", e.formRequest("/oauth/token", url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURIs[0]},
				"code_verifier": {f.verifier},
			}, c))
			rt, _ := tok["refresh_token"].(string)
			tok = check("refresh", e.formRequest("/oauth/token", url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {rt},
			}, c))
			at, _ := tok["access_token"].(string)

			r := httptest.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
			r.Header.Set("Authorization", "Bearer "+at)
			info := check("userinfo", r)
			if roles, _ := info["roles"].([]any); len(roles) != 1 || roles[0] != string(storage.RoleAdmin) {
				t.Errorf("userinfo roles %v, want [admin]", info["roles"])
			}
			intro := check("introspection", e.formRequest("/oauth/introspect", url.Values{"token": {at}}, c))
			if intro["active"] != true {
				t.Errorf("introspection: %v, want active", intro)
			}
		})
	}
}

// TestClientChangeNextRequest: the client read once per request is never
// kept for the next one. A rotated secret and a deleted client take
// effect on the very next request, at the token and introspection
// endpoints alike.
func TestClientChangeNextRequest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			_, tok, _ := e.login(t, c, u)
			status := func(r *http.Request) int {
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, r)
				return w.Code
			}
			introspect := func(c testClient) int {
				return status(e.formRequest("/oauth/introspect", url.Values{"token": {tok.AccessToken}}, c))
			}
			refresh := func(c testClient, rt string) (int, string) {
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, e.formRequest("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c))
				var m map[string]any
				_ = json.Unmarshal(w.Body.Bytes(), &m)
				next, _ := m["refresh_token"].(string)
				return w.Code, next
			}
			// The old secret works, several times over.
			rt := tok.RefreshToken
			for range 2 {
				if got := introspect(c); got != http.StatusOK {
					t.Fatalf("introspection with the secret: %d", got)
				}
				code, next := refresh(c, rt)
				if code != http.StatusOK {
					t.Fatalf("refresh with the secret: %d", code)
				}
				rt = next
			}

			// Rotated: the old secret fails on the next request, the new one works.
			rotated := c
			rotated.secret = "s3cret-" + randHex(24)
			h, err := cheapHasher.Hash(rotated.secret)
			if err != nil {
				t.Fatal(err)
			}
			e.setSecretHash(t, c.ID, h)
			if got := introspect(c); got != http.StatusUnauthorized {
				t.Errorf("introspection with the old secret after rotation: %d, want 401", got)
			}
			if got, _ := refresh(c, rt); got != http.StatusUnauthorized {
				t.Errorf("refresh with the old secret after rotation: %d, want 401", got)
			}
			if got := introspect(rotated); got != http.StatusOK {
				t.Errorf("introspection with the new secret: %d, want 200", got)
			}
			code, next := refresh(rotated, rt)
			if code != http.StatusOK {
				t.Fatalf("refresh with the new secret: %d, want 200", code)
			}

			// Deleted: the next request fails (unknown client).
			if err := e.store.DeleteClient(context.Background(), c.ID); err != nil {
				t.Fatal(err)
			}
			if got := introspect(rotated); got != http.StatusUnauthorized {
				t.Errorf("introspection by a deleted client: %d, want 401", got)
			}
			if got, rt := refresh(rotated, next); got != http.StatusUnauthorized || rt != "" {
				t.Errorf("refresh by a deleted client: %d, want 401 invalid_client", got)
			}
		})
	}
}
