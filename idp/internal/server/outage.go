package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/adminapi"
	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// unavailablePage renders the "please try again" page (503, Retry-After)
// for cause: password.ErrBusy or storage.ErrUnavailable.
type unavailablePage func(w http.ResponseWriter, r *http.Request, cause error)

// outages answers 503 with a Retry-After, never an error of its own, for
// every request during which the database was unavailable: whatever the
// handler was about to answer that is not a success (op turns a storage
// error into 500 server_error, or into 401 invalid_client, 400
// invalid_grant, 401 invalid_token, an error page or an error redirect) is
// replaced. A client told "invalid" throws its credential away; told 503,
// it retries. Successes pass, what they did is done, except on
// introspection and revocation (see replaceable).
func outages(page unavailablePage, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, watch := storage.WatchOutage(r.Context())
		r = r.WithContext(ctx)
		next.ServeHTTP(&outageWriter{ResponseWriter: w, r: r, watch: watch, page: page}, r)
	})
}

// outageWriter replaces a non-success answer by the 503 answer once the
// watch has seen an outage.
type outageWriter struct {
	http.ResponseWriter
	r        *http.Request
	watch    *storage.OutageWatch
	page     unavailablePage
	wrote    bool
	replaced bool
}

func (o *outageWriter) WriteHeader(code int) {
	if o.wrote {
		return
	}
	o.wrote = true
	if replaceable(o.r.URL.Path, code) && o.watch.Hit() {
		o.replaced = true
		h := o.Header()
		for _, k := range []string{"Content-Length", "Content-Type", "Location", "WWW-Authenticate"} {
			h.Del(k)
		}
		unavailable(o.ResponseWriter, o.r, storage.ErrUnavailable, o.page)
		return
	}
	o.ResponseWriter.WriteHeader(code)
}

// replaceable reports whether an answer may not stand once its request met
// an outage: anything but a success (a 503 is already the answer: /readyz,
// the admin API), and on introspection and revocation a success too, since
// they answer 200 for a token they do not know (active:false; "revoked"),
// which a token they could not look up must not get.
func replaceable(path string, code int) bool {
	switch {
	case code == http.StatusServiceUnavailable:
		return false
	case code >= http.StatusMultipleChoices:
		return true
	}
	return path == oidcprovider.PathIntrospect || path == oidcprovider.PathRevoke
}

func (o *outageWriter) Write(b []byte) (int, error) {
	if !o.wrote {
		o.WriteHeader(http.StatusOK)
	}
	if o.replaced {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

// unavailable answers 503 with a Retry-After in the form the path's
// clients read: OAuth's JSON temporarily_unavailable (not to be cached) on
// the OAuth endpoints, the admin API's error body under its prefix, the
// "please try again" page elsewhere. cause is password.ErrBusy (at
// capacity) or storage.ErrUnavailable.
func unavailable(w http.ResponseWriter, r *http.Request, cause error, page unavailablePage) {
	switch {
	case oauthEndpoint(r.URL.Path):
		retry, desc := password.RetryAfter, "the server is busy; retry shortly"
		if errors.Is(cause, storage.ErrUnavailable) {
			retry, desc = storage.RetryAfter, "the server cannot reach its database; retry shortly"
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)))
		oidcprovider.WriteOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", desc)
	case strings.HasPrefix(r.URL.Path, adminapi.PathPrefix):
		adminapi.WriteUnavailable(w)
	default:
		page(w, r, cause)
	}
}

// QuietOutageErrors wraps h, the default logger's handler that
// zitadel/oidc logs through, so that op's "request error" line for a
// request that met a database outage is logged at Debug: the client was
// answered 503 with Retry-After, not the error op logs (server_error,
// invalid_grant, …), and one ERROR line per failed request would bury the
// outage, which the background loops log once as it starts and ends
// (and idp_db_query_errors_total counts).
func QuietOutageErrors(h slog.Handler) slog.Handler { return quietOutages{h} }

type quietOutages struct{ slog.Handler }

func (q quietOutages) Handle(ctx context.Context, r slog.Record) error {
	if r.Level > slog.LevelDebug && r.Message == "request error" && storage.OutageSeen(ctx) {
		if !q.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietOutages) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietOutages{q.Handler.WithAttrs(attrs)}
}

func (q quietOutages) WithGroup(name string) slog.Handler {
	return quietOutages{q.Handler.WithGroup(name)}
}
