package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/metrics"
	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// startMetrics serves /metrics and /debug/pprof/ on the private listener
// IDP_METRICS_LISTEN names, until ctx ends. With none configured it
// serves nothing and returns nil, which every hook below takes as "count
// nothing".
func startMetrics(ctx context.Context, d Deps, km *keys.Set) (*metrics.Metrics, error) {
	addr := d.Config.MetricsListen
	if addr == "" {
		return nil, nil
	}
	src := metrics.Sources{
		Now:    d.Now,
		Logger: d.Logger,
		// The keys that sign now: ID tokens' (RS256) and access tokens'
		// (ES256).
		SigningKeys: func(ctx context.Context) ([]storage.SigningKey, error) {
			var out []storage.SigningKey
			for _, m := range []*keys.Manager{km.ID, km.Access} {
				k, _, err := m.Signing(ctx)
				if err != nil {
					return nil, err
				}
				out = append(out, k)
			}
			return out, nil
		},
	}
	if s, ok := d.Store.(interface{ DBStats() sql.DBStats }); ok {
		src.DBStats = s.DBStats
	}
	if s, ok := d.Store.(interface {
		OutboxBacklog(context.Context) (int, time.Time, error)
	}); ok {
		src.Outbox = s.OutboxBacklog
	}
	m := metrics.New(src)
	if s, ok := d.Store.(interface{ ObserveErrors(func(kind string)) }); ok {
		s.ObserveErrors(m.QueryError)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (IDP_METRICS_LISTEN): %w", addr, err)
	}
	// No write timeout: /debug/pprof/profile and trace stream for as long
	// as they were asked to (30 s by default).
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.Logger.Error("metrics listener", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	d.Logger.Info("serving metrics and pprof", "listen", ln.Addr().String())
	return m, nil
}

// signInObserver counts sign-in outcomes in m; nil when m is.
func signInObserver(m *metrics.Metrics) signin.Observer {
	if m == nil {
		return nil
	}
	return m.SignIn
}

// tokenObserver counts tokens and revocations in m; the zero value when m
// is nil.
func tokenObserver(m *metrics.Metrics) oidcprovider.Observer {
	if m == nil {
		return oidcprovider.Observer{}
	}
	return oidcprovider.Observer{TokenIssued: m.TokenIssued, RefreshRetried: m.RefreshRetried, FamilyRevoked: m.FamilyRevoked}
}

// endpointOf names the route r takes through mux, for the request
// metrics: the ServeMux pattern ("GET /login"), for the admin API its own
// route's pattern ("GET /admin/v1/employees/{id}"), or for the OIDC
// provider (mounted at "/") its fixed endpoint name ("token", "jwks", … or
// "other"). Never the raw path.
//
// The provider's endpoint paths that mux sends to "/" whatever the method
// are named by a map lookup: routing every request twice (here and in
// mux) was 4 % of the CPU of a discovery + JWKS load.
func endpointOf(mux *http.ServeMux, admin *adminapi.Handler) func(*http.Request) string {
	direct := oidcprovider.EndpointNames()
	for path := range direct {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace, http.MethodConnect} {
			if _, pattern := mux.Handler(&http.Request{Method: method, URL: &url.URL{Path: path}}); pattern != "/" {
				delete(direct, path)
			}
		}
	}
	return func(r *http.Request) string {
		if name, ok := direct[r.URL.Path]; ok {
			return name
		}
		switch _, pattern := mux.Handler(r); pattern {
		case "/":
			return oidcprovider.Endpoint(r)
		case adminapi.PathPrefix:
			return admin.Pattern(r)
		case "":
			return "other"
		default:
			return pattern
		}
	}
}
