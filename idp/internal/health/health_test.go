package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

type readier struct{ err error }

func (r readier) Ready(context.Context) error { return r.err }

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		err        error
		code       int
		body       string
	}{
		{"alive", "/healthz", nil, 200, `"ok"`},
		{"ready", "/readyz", nil, 200, `"ready"`},
		{"unreachable", "/readyz", fmt.Errorf("ping: %w", io.EOF), 503, "database unreachable"},
		{"not migrated", "/readyz", fmt.Errorf("x: %w", storage.ErrNotMigrated), 503, "migrations not applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			Register(mux, readier{tc.err}, slog.New(slog.DiscardHandler))
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
				t.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
			}
		})
	}
}
