package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// statementsPerSignInStep pins the round trips of each request of a
// browser sign-in with a password (no second step), as
// statementsPerOperation does for the token endpoints:
//
//   - authorize: the client (read once for op's checks and ours), the new
//     request;
//   - the login page: the request with its client;
//   - the login form: the request with its client, the user, the source's
//     and the account's counters, the attempt counted and then reset, the
//     audit entry, the user's TOTP state, the session, the session's
//     client, the request completed;
//   - the callback: the request with its client (callbackGuard's read
//     serves op's lookups too), the code.
var statementsPerSignInStep = map[string]int{
	"GET /authorize":          2,
	"GET /login":              1,
	"POST /login":             11,
	"GET /authorize/callback": 2,
}

// TestStatementsPerSignIn: each request of a browser sign-in sends
// exactly statementsPerSignInStep[step] statements, on both backends.
func TestStatementsPerSignIn(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			e.countStatements(t)
			u := e.createUser(t, storage.UserTypeEmployee, storage.RoleAdmin)
			c := e.createClient(t)

			// Every request of the provider counts into its step's counter.
			var mu sync.Mutex
			steps := map[string]*stmtCounter{}
			inner := *e.sw.h.Load()
			e.sw.set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				step := r.Method + " " + r.URL.Path
				mu.Lock()
				sc := steps[step]
				if sc == nil {
					sc = &stmtCounter{}
					steps[step] = sc
				}
				mu.Unlock()
				inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stmtCountKey{}, sc)))
			}))

			f := newFlow(e.oauth2Config(c))
			if code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, userPassword)); code == "" {
				t.Fatal("no code")
			}
			mu.Lock()
			defer mu.Unlock()
			for step, want := range statementsPerSignInStep {
				sc := steps[step]
				if sc == nil {
					t.Errorf("%s: not requested (steps: %v)", step, keys(steps))
					continue
				}
				if len(sc.queries) != want {
					t.Errorf("%s sent %d statements, want %d:\n\t%s", step, len(sc.queries), want, strings.Join(sc.queries, "\n\t"))
				}
			}
			if len(steps) != len(statementsPerSignInStep) {
				t.Errorf("steps %v, want those of statementsPerSignInStep", keys(steps))
			}
		})
	}
}

// TestAuthorizeReadsClientPerRequest: the client the authorization
// endpoint reads once per request is never kept for the next one: a
// redirect URI removed from the registration, and a deleted client, are
// refused by the very next request.
func TestAuthorizeReadsClientPerRequest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			c := e.createClient(t)
			authorize := func() *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, httptest.NewRequest(http.MethodGet, newFlow(e.oauth2Config(c)).authURL(), nil))
				return w
			}
			toLogin := func(w *httptest.ResponseRecorder) bool {
				return w.Code == http.StatusFound && strings.Contains(w.Header().Get("Location"), "/login")
			}
			for range 2 {
				if w := authorize(); !toLogin(w) {
					t.Fatalf("registered redirect URI: %d %s", w.Code, w.Header().Get("Location"))
				}
			}
			if _, err := e.store.UpdateClient(context.Background(), c.ID, func(sc *storage.Client) error {
				sc.RedirectURIs = []string{"https://app.example.test/elsewhere"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if w := authorize(); w.Code != http.StatusBadRequest {
				t.Errorf("redirect URI removed a moment ago: %d %s, want 400 and the error page", w.Code, w.Header().Get("Location"))
			}
			if err := e.store.DeleteClient(context.Background(), c.ID); err != nil {
				t.Fatal(err)
			}
			if w := authorize(); w.Code != http.StatusBadRequest {
				t.Errorf("client deleted a moment ago: %d %s, want 400 and the error page", w.Code, w.Header().Get("Location"))
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
