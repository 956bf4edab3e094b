package server_test

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// responseSink is a minimal http.ResponseWriter: the handler chain's own
// work, without a recorder's.
type responseSink struct{ h http.Header }

func (s *responseSink) Header() http.Header         { return s.h }
func (s *responseSink) Write(b []byte) (int, error) { return len(b), nil }
func (s *responseSink) WriteHeader(int)             {}

// BenchmarkDiscoveryJWKS runs GET discovery then GET /keys through the
// whole handler chain of server.New (metrics on, as idp serve with
// IDP_METRICS_LISTEN), without a network: what the chain itself costs and
// allocates per pair. The load figures are idpbench's.
func BenchmarkDiscoveryJWKS(b *testing.B) {
	st := testenv.OpenStore(b, testenv.SQLitePath(b), nil)
	cfg := testConfig("http://127.0.0.1:8080")
	cfg.MetricsListen = "127.0.0.1:0"
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	h, err := server.New(b.Context(), server.Deps{Config: cfg, Store: st, KEK: kek, Hasher: cheapHasher, KeyBits: 2048})
	if err != nil {
		b.Fatal(err)
	}
	reqs := []*http.Request{
		httptest.NewRequest("GET", "http://127.0.0.1:8080/.well-known/openid-configuration", nil),
		httptest.NewRequest("GET", "http://127.0.0.1:8080/keys", nil),
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range reqs {
			h.ServeHTTP(&responseSink{h: http.Header{}}, r)
		}
	}
}
