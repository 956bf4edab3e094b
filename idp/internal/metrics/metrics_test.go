package metrics_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/metrics"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// A database that does not answer cannot hang a scrape: its reads end
// after Timeout and their families are left out of that scrape, while the
// rest is served.
func TestScrapeBoundedBySlowDatabase(t *testing.T) {
	hang := func(ctx context.Context) error {
		<-ctx.Done() // as a query on a database that never answers
		return ctx.Err()
	}
	m := metrics.New(metrics.Sources{
		Timeout: 100 * time.Millisecond,
		DBStats: func() sql.DBStats { return sql.DBStats{MaxOpenConnections: 8} },
		Outbox: func(ctx context.Context) (int, time.Time, error) {
			return 0, time.Time{}, hang(ctx)
		},
		SigningKeys: func(ctx context.Context) ([]storage.SigningKey, error) {
			return nil, hang(ctx)
		},
	})
	done := make(chan string, 1)
	start := time.Now()
	go func() {
		_, body := get(t, m.Handler(), "/metrics")
		done <- body
	}()
	select {
	case body := <-done:
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("scrape took %v", took)
		}
		for _, absent := range []string{"idp_outbox_pending_messages", "idp_signing_key_age_seconds"} {
			if strings.Contains(body, absent+" ") || strings.Contains(body, absent+"{") {
				t.Errorf("%s served from a read that timed out", absent)
			}
		}
		for _, present := range []string{"idp_db_connections_max 8", "go_goroutines ", "idp_password_hash_slots "} {
			if !strings.Contains(body, present) {
				t.Errorf("%q missing from:\n%.2000s", present, body)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a scrape hangs on a database that does not answer")
	}
}

// The outbox's backlog and the key's age are measured from Now.
func TestScrapeAges(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := metrics.New(metrics.Sources{
		Now: func() time.Time { return now },
		Outbox: func(context.Context) (int, time.Time, error) {
			return 3, now.Add(-90 * time.Second), nil
		},
		SigningKeys: func(context.Context) ([]storage.SigningKey, error) {
			return []storage.SigningKey{{ID: "k1", Algorithm: "RS256", CreatedAt: now.Add(-time.Hour)}}, nil
		},
	})
	_, body := get(t, m.Handler(), "/metrics")
	for _, want := range []string{
		"idp_outbox_pending_messages 3\n",
		"idp_outbox_oldest_pending_age_seconds 90\n",
		`idp_signing_key_age_seconds{alg="RS256",kid="k1"} 3600` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%q missing", want)
		}
	}
}

// Instrument counts each request under the endpoint name it is given and
// the status the handler wrote (200 when it wrote none).
func TestInstrument(t *testing.T) {
	m := metrics.New(metrics.Sources{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /created", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /body", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") })
	mux.HandleFunc("GET /nothing", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	h := m.Instrument(mux, func(r *http.Request) string { _, p := mux.Handler(r); return p })
	for _, p := range []string{"/created", "/body", "/body", "/nothing", "/missing/123"} {
		get(t, h, p)
	}
	func() {
		defer func() { _ = recover() }() // net/http's part
		get(t, h, "/panic")
	}()
	_, body := get(t, m.Handler(), "/metrics")
	for _, want := range []string{
		`idp_http_requests_total{code="201",endpoint="GET /created"} 1`,
		`idp_http_requests_total{code="200",endpoint="GET /body"} 2`,
		`idp_http_requests_total{code="200",endpoint="GET /nothing"} 1`,
		`idp_http_requests_total{code="404",endpoint=""} 1`,
		`idp_http_requests_total{code="500",endpoint="GET /panic"} 1`,
		`idp_http_request_duration_seconds_count{code="200",endpoint="GET /body"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%q missing", want)
		}
	}
	if strings.Contains(body, "missing/123") {
		t.Error("a raw path became a label")
	}
	// Off: nothing wraps the handler.
	var off *metrics.Metrics
	if got := off.Instrument(mux, nil); got != http.Handler(mux) {
		t.Error("a nil *Metrics wrapped the handler")
	}
}
