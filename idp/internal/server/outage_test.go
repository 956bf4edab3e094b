package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/oidcprovider"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestOutageReplacesAnswers: once a request met a database outage, every
// answer but a success becomes 503, and on introspection and revocation a
// success too (active:false, "revoked" for a token nobody could look up).
// Without an outage every answer passes as written.
func TestOutageReplacesAnswers(t *testing.T) {
	page := func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusServiceUnavailable) }
	for _, tc := range []struct {
		path   string
		status int
		outage bool
		want   int
	}{
		{oidcprovider.PathIntrospect, http.StatusOK, true, http.StatusServiceUnavailable},
		{oidcprovider.PathRevoke, http.StatusOK, true, http.StatusServiceUnavailable},
		{oidcprovider.PathToken, http.StatusBadRequest, true, http.StatusServiceUnavailable},
		{oidcprovider.PathUserinfo, http.StatusUnauthorized, true, http.StatusServiceUnavailable},
		{"/login", http.StatusFound, true, http.StatusServiceUnavailable},
		{oidcprovider.PathToken, http.StatusOK, true, http.StatusOK}, // what it did is done
		{oidcprovider.PathIntrospect, http.StatusOK, false, http.StatusOK},
		{oidcprovider.PathToken, http.StatusBadRequest, false, http.StatusBadRequest},
	} {
		h := outages(page, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.outage {
				_ = storage.Unavailable(r.Context(), errors.New("connection refused"))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_ = json.NewEncoder(w).Encode(map[string]any{"active": false})
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tc.path, nil))
		if w.Code != tc.want {
			t.Errorf("%s answering %d, outage %v: %d, want %d", tc.path, tc.status, tc.outage, w.Code, tc.want)
		}
		if w.Code == http.StatusServiceUnavailable && tc.path != "/login" && w.Header().Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", tc.path)
		}
	}
}
