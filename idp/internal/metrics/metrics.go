package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ScrapeTimeout bounds each database read a scrape makes (pool stats need
// none; the outbox backlog and the signing key do), so a slow database
// cannot hang a scrape: the family is left out of that scrape instead.
const ScrapeTimeout = 2 * time.Second

// Sources are what a scrape reads; a nil field leaves its families out.
type Sources struct {
	// DBStats is the connection pool's state (database/sql, both
	// backends).
	DBStats func() sql.DBStats
	// Outbox is the number of pending messages and when the oldest of them
	// was queued (zero when none is pending).
	Outbox func(ctx context.Context) (pending int, oldest time.Time, err error)
	// SigningKeys are the keys that sign now.
	SigningKeys func(ctx context.Context) ([]storage.SigningKey, error)
	// Timeout bounds each read of Outbox and SigningKeys; 0 means
	// ScrapeTimeout.
	Timeout time.Duration
	// Now is the clock ages are measured with; time.Now when nil.
	Now func() time.Time
	// Logger gets the errors of a scrape's reads; nil discards.
	Logger *slog.Logger
}

// Metrics is one registry and its families. Its hooks are safe for
// concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	signins  *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	retries  prometheus.Counter
	revoked  *prometheus.CounterVec
	dbErrors *prometheus.CounterVec
}

// latencyBuckets reach from a millisecond (discovery, keys) to the
// seconds a sign-in's growing delay takes.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds a registry with the Go and process collectors, the hashing
// bound's process-wide families, and the provider's families reading src.
func New(src Sources) *Metrics {
	if src.Now == nil {
		src.Now = time.Now
	}
	if src.Logger == nil {
		src.Logger = slog.New(slog.DiscardHandler)
	}
	if src.Timeout <= 0 {
		src.Timeout = ScrapeTimeout
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_http_requests_total",
			Help: "HTTP requests answered, by endpoint (route pattern or fixed name) and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idp_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by endpoint and status code.",
			Buckets: latencyBuckets,
		}, []string{"endpoint", "code"}),
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_signins_total",
			Help: "Sign-in outcomes by method (email, phone, second_factor) and outcome (success, failure, lock, locked, unlock).",
		}, []string{"method", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_tokens_issued_total",
			Help: "Tokens issued, by type (access, refresh, id) and grant type.",
		}, []string{"type", "grant_type"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "idp_refresh_reuse_retries_total",
			Help: "Refresh tokens presented again within the reuse window and answered with a new pair (a client's retry).",
		}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_refresh_family_revocations_total",
			Help: "Refresh token families revoked, by reason (reuse: a rotated token presented again; revoke: the revocation endpoint).",
		}, []string{"reason"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_db_query_errors_total",
			Help: "Database statements that failed, by kind (unavailable, other).",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.signins, m.tokens, m.retries, m.revoked, m.dbErrors,
		&scrape{src: src},
	)
	registerHashing(m.reg)
	// Series that should read 0 rather than be absent until the first
	// event, so that rate() and alerts see them from the start.
	for _, kind := range []string{"unavailable", "other"} { // sqlstore.Error*
		m.dbErrors.WithLabelValues(kind)
	}
	for _, reason := range []string{"reuse", "revoke"} {
		m.revoked.WithLabelValues(reason)
	}
	return m
}

// Handler serves /metrics and Go's pprof under /debug/pprof/. It belongs
// on the private metrics listener only: pprof shows the process's
// internals (goroutine stacks, heap, command line).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// SignIn counts a sign-in outcome (signin.Observer).
func (m *Metrics) SignIn(method, outcome string) {
	if m != nil {
		m.signins.WithLabelValues(method, outcome).Inc()
	}
}

// TokenIssued counts one token of kind (access, refresh, id) issued for
// grant.
func (m *Metrics) TokenIssued(kind, grant string) {
	if m != nil {
		m.tokens.WithLabelValues(kind, grant).Inc()
	}
}

// RefreshRetried counts a refresh token retried within the reuse window.
func (m *Metrics) RefreshRetried() {
	if m != nil {
		m.retries.Inc()
	}
}

// FamilyRevoked counts a refresh token family revoked for reason.
func (m *Metrics) FamilyRevoked(reason string) {
	if m != nil {
		m.revoked.WithLabelValues(reason).Inc()
	}
}

// QueryError counts a failed database statement of kind.
func (m *Metrics) QueryError(kind string) {
	if m != nil {
		m.dbErrors.WithLabelValues(kind).Inc()
	}
}
