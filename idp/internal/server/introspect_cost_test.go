package server_test

import (
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

// TestIntrospectCost serves introspection requests in process (no
// network), as idpbench's client sends them: a generated client secret
// (SHA-256), a user's access token; each must answer active. It logs the
// process CPU per request; with IDP_INTROSPECT_COST=1 it also runs a Go
// benchmark loop (ns/op) and many more requests. Profile it with
// -cpuprofile.
func TestIntrospectCost(t *testing.T) {
	measure := os.Getenv("IDP_INTROSPECT_COST") != ""
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
			e.setSecretHash(t, c.ID, h)
			c.secret = secret
			form := url.Values{"token": {tok.AccessToken}}
			introspect := func() {
				w := httptest.NewRecorder()
				e.sw.ServeHTTP(w, e.formRequest("/oauth/introspect", form, c))
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"active":true`) {
					t.Fatalf("introspect: %d %s", w.Code, w.Body)
				}
			}
			introspect()
			n, bench := 50, ""
			if measure {
				res := testing.Benchmark(func(b *testing.B) {
					for b.Loop() {
						introspect()
					}
				})
				n, bench = 2000, res.String()+" "+res.MemString()+"; "
			}
			cpu0 := processCPU(t)
			for range n {
				introspect()
			}
			cpu := (processCPU(t) - cpu0) / time.Duration(n)
			t.Logf("%s introspection: %sprocess CPU %v/op", b.name, bench, cpu)
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
