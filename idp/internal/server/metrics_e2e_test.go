package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// freeLoopbackAddr is a loopback host:port nothing listens on (a moment
// ago).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// scrape reads the metrics at url and parses them.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// sample is the value of the series of family name whose labels include
// want (counter, gauge, or a histogram's count); ok is false when there is
// none.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, val := range want {
			if have[k] != val {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			v += m.GetCounter().GetValue()
		case m.Gauge != nil:
			v += m.GetGauge().GetValue()
		case m.Histogram != nil:
			v += float64(m.GetHistogram().GetSampleCount())
		}
		ok = true
	}
	return v, ok
}

// With IDP_METRICS_LISTEN set, the server serves Prometheus metrics and
// Go's pprof on that private listener and nowhere else; after a real sign-in
// (code flow, token exchange, refresh, its retry, reuse, introspection)
// every family of the metrics counts what happened.
func TestMetricsListener(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			addr := freeLoopbackAddr(t)
			e := &env{t: t, edit: func(c *config.Config) { c.MetricsListen = addr }}
			e.start(b.DSN(t))
			ctx := context.Background()

			// An outbox message not due for an hour, queued an hour ago:
			// the backlog and its age are known.
			now := time.Now().UTC()
			if _, err := e.store.EnqueueMessage(ctx, storage.Message{Channel: "email", To: "nobody@example.com",
				CreatedAt: now.Add(-time.Hour), NextAttemptAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}

			u := e.createUser(t, storage.UserTypeEmployee)
			c := e.createClient(t)
			// One wrong password, then the real sign-in.
			b1 := e.browser()
			f0 := newFlow(e.oauth2Config(c))
			if p := b1.submitLogin(t, b1.get(t, f0.authURL()), u.Email, "wrong "+userPassword); p.StatusCode == http.StatusFound {
				t.Fatalf("a wrong password signed in")
			}
			f, tok, _ := e.login(t, c, u)
			if !e.introspect(t, c, tok.AccessToken) {
				t.Fatal("access token not active")
			}
			// Refresh, retry the same token (within the reuse window),
			// use the retry's successor, then present the first token
			// again: its family is revoked for reuse.
			rt0 := tok.RefreshToken
			if _, err := e.refresh(f.cfg, rt0); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			retry, err := e.refresh(f.cfg, rt0)
			if err != nil {
				t.Fatalf("retried refresh: %v", err)
			}
			if _, err := e.refresh(f.cfg, retry.RefreshToken); err != nil {
				t.Fatalf("refresh after retry: %v", err)
			}
			if _, err := e.refresh(f.cfg, rt0); err == nil {
				t.Fatal("a reused refresh token worked")
			}
			// A second sign-in whose refresh token the client revokes.
			_, tok2, _ := e.login(t, c, u)
			if resp, _ := e.post(t, "/revoke", url.Values{"token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}}, c.ID, c.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			// A path nobody routes, to check labels hold no raw paths; the
			// same under the admin API, and one of its routes.
			unrouted := "/no-such-page-" + randHex(8)
			for _, path := range []string{unrouted, "/admin/v1" + unrouted, "/admin/v1/employees/" + randHex(8)} {
				if resp, err := http.Get(e.issuer + path); err == nil {
					resp.Body.Close()
				}
			}

			fams := scrape(t, "http://"+addr+"/metrics")
			atLeast := func(name string, labels map[string]string, min float64) {
				t.Helper()
				v, ok := sample(fams, name, labels)
				if !ok || v < min {
					t.Errorf("%s%v = %v (present %v), want ≥ %v", name, labels, v, ok, min)
				}
			}
			present := func(name string) {
				t.Helper()
				if _, ok := sample(fams, name, nil); !ok {
					t.Errorf("%s missing", name)
				}
			}
			// HTTP requests, by endpoint and status.
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "token", "code": "200"}, 4)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "token", "code": "400"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "introspect", "code": "200"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "authorize", "code": "302"}, 2)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "authorize_callback", "code": "302"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "GET /login", "code": "200"}, 2)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "POST /login", "code": "303"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "POST /login", "code": "401"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "other", "code": "404"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "GET /admin/v1/employees/{id}", "code": "401"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "/admin/v1/", "code": "404"}, 1)
			atLeast("idp_http_request_duration_seconds", map[string]string{"endpoint": "token", "code": "200"}, 4)
			for _, m := range fams["idp_http_requests_total"].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "endpoint" && strings.Contains(l.GetValue(), "no-such-page") {
						t.Errorf("an endpoint label is a raw path: %q", l.GetValue())
					}
				}
			}
			// Sign-in outcomes.
			atLeast("idp_signins_total", map[string]string{"method": "email", "outcome": "success"}, 2)
			atLeast("idp_signins_total", map[string]string{"method": "email", "outcome": "failure"}, 1)
			// Tokens, refresh retries and revocations.
			for _, kind := range []string{"access", "refresh", "id"} {
				atLeast("idp_tokens_issued_total", map[string]string{"type": kind, "grant_type": "authorization_code"}, 2)
				atLeast("idp_tokens_issued_total", map[string]string{"type": kind, "grant_type": "refresh_token"}, 3)
			}
			atLeast("idp_refresh_reuse_retries_total", nil, 1)
			atLeast("idp_refresh_family_revocations_total", map[string]string{"reason": "reuse"}, 1)
			atLeast("idp_refresh_family_revocations_total", map[string]string{"reason": "revoke"}, 1)
			atLeast("idp_http_requests_total", map[string]string{"endpoint": "revoke", "code": "200"}, 1)
			// The hashing bound.
			atLeast("idp_password_hash_wait_seconds", nil, 2)
			atLeast("idp_password_hash_slots", nil, 1)
			present("idp_password_hash_slots_in_use")
			present("idp_password_hash_waiters")
			present("idp_password_hash_busy_total")
			// The database.
			atLeast("idp_db_connections_max", nil, 1)
			atLeast("idp_db_connections", map[string]string{"state": "idle"}, 0)
			present("idp_db_connection_waits_total")
			present("idp_db_query_errors_total")
			// The outbox and the signing key.
			atLeast("idp_outbox_pending_messages", nil, 1)
			atLeast("idp_outbox_oldest_pending_age_seconds", nil, 3500)
			if v, ok := sample(fams, "idp_signing_key_age_seconds", nil); !ok || v <= 0 {
				t.Errorf("idp_signing_key_age_seconds = %v (present %v), want > 0", v, ok)
			}
			// Go and process collectors.
			atLeast("go_goroutines", nil, 1)
			present("process_cpu_seconds_total")

			// pprof answers on the metrics listener.
			resp, err := http.Get("http://" + addr + "/debug/pprof/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
				t.Fatalf("/debug/pprof/ on the metrics listener: %d %.200s", resp.StatusCode, body)
			}
			// Neither is served on the public listener.
			for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine", "/debug/pprof/cmdline"} {
				resp, err := http.Get(e.issuer + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "idp_") || strings.Contains(string(body), "goroutine") {
					t.Errorf("public %s: status %d, want 404: %.200s", path, resp.StatusCode, body)
				}
			}
		})
	}
}
