package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestIntrospectCost measures one introspection request served in
// process (no network), as idpbench's client sees it: a generated client
// secret (SHA-256), a user's access token. It only runs with
// IDP_INTROSPECT_COST=1 and prints ns/op per backend; profile it with
// -cpuprofile.
func TestIntrospectCost(t *testing.T) {
	if os.Getenv("IDP_INTROSPECT_COST") == "" {
		t.Skip("set IDP_INTROSPECT_COST=1 to measure introspection")
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b)
			u := e.createUser(t, storage.UserTypeClinician)
			c := e.createClient(t)
			_, tok, _ := e.login(t, c, u)
			secret := password.GenerateSecret()
			h, err := password.HashGenerated(secret)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.UpdateClient(context.Background(), c.ID, func(sc *storage.Client) error {
				sc.SecretHash = h
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			body := url.Values{"token": {tok.AccessToken}}.Encode()
			introspect := func() {
				r := httptest.NewRequest(http.MethodPost, e.issuer+"/oauth/introspect", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(c.ID, secret)
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, r)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"active":true`) {
					t.Fatalf("introspect: %d %s", w.Code, w.Body)
				}
			}
			introspect()
			res := testing.Benchmark(func(b *testing.B) {
				for b.Loop() {
					introspect()
				}
			})
			const n = 2000
			cpu0 := processCPU(t)
			for range n {
				introspect()
			}
			cpu := (processCPU(t) - cpu0) / n
			t.Logf("%s introspection: %s %s; process CPU %v/op", b.name, res, res.MemString(), cpu)
		})
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
