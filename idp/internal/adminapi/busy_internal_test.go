package adminapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/password"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestBusyIsUnavailable: a use case that could not hash because the
// process-wide bound was exhausted answers 503 unavailable with a
// Retry-After, never a 500 or a validation error.
func TestBusyIsUnavailable(t *testing.T) {
	h := &Handler{d: Deps{Logger: slog.New(slog.DiscardHandler), Issuer: "http://127.0.0.1:1"}}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, api.BasePath+"/employees", nil)
	h.fail(w, r, fmt.Errorf("account: hashing: %w", password.ErrBusy))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After 1", w.Code, w.Header().Get("Retry-After"))
	}
	var body api.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == nil || body.Error.Code != api.CodeUnavailable {
		t.Fatalf("body %s, want code %s", w.Body, api.CodeUnavailable)
	}
}
