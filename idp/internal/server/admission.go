package server

import (
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
	"github.com/cliniconnects/identity/idp/internal/password"
)

// Admission bounds the requests that make the provider work for a caller
// it does not know yet — the sign-in and account pages, /authorize, the
// token, introspection and revocation endpoints: at most Concurrency run
// at once, Queue more wait at most MaxWait, and any beyond get 503 with a
// Retry-After at once. They read and write the database and may hash, so
// without a bound a flood of them takes every database connection and
// every CPU, and the cheap requests the modules depend on (discovery,
// JWKS, userinfo, health), which are not bounded here, would wait behind
// it. The admin API is not bounded here: every call carries a bearer
// token it checks first.
type Admission struct {
	Concurrency int
	Queue       int
	MaxWait     time.Duration
}

// DefaultAdmission is one request per CPU at once (at least two): each
// spends a few milliseconds of CPU and database time, so that is hundreds
// a second, far above any sign-in load, while a flood can hold at most
// that many database connections (each store keeps at least eight).
func DefaultAdmission() Admission {
	n := max(2, runtime.NumCPU())
	return Admission{Concurrency: n, Queue: 32 * n, MaxWait: time.Second}
}

// cheapPath reports whether path is served without the admission bound:
// discovery, keys, userinfo, health, static files, the signed-out page and
// the admin API.
func cheapPath(path string) bool {
	switch path {
	case oidcprovider.PathDiscovery, oidcprovider.PathKeys, oidcprovider.PathUserinfo,
		oidcprovider.PathLoggedOut, "/healthz", "/readyz", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, adminapi.PathPrefix)
}

// admit bounds every request but the cheap ones by a.
func admit(a Admission, page unavailablePage, next http.Handler) http.Handler {
	slots := make(chan struct{}, max(1, a.Concurrency))
	queue := make(chan struct{}, max(0, a.Queue))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cheapPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if !acquire(slots, queue, a.MaxWait) {
			unavailable(w, r, password.ErrBusy, page)
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

// acquire takes a slot at once, or waits in the queue (if it has room) at
// most wait.
func acquire(slots, queue chan struct{}, wait time.Duration) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	select {
	case queue <- struct{}{}:
	default:
		return false
	}
	defer func() { <-queue }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}
