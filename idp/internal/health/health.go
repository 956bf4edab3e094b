package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Readier is the part of the store readiness needs.
type Readier interface {
	Ready(ctx context.Context) error
}

// Register adds GET /healthz and GET /readyz to mux.
func Register(mux *http.ServeMux, store Readier, logger *slog.Logger) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		write(w, http.StatusOK, "ok", "")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := store.Ready(ctx); err != nil {
			reason := "database unreachable"
			if errors.Is(err, storage.ErrNotMigrated) {
				reason = "database migrations not applied"
			}
			logger.Warn("not ready", "reason", reason, "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(int(storage.RetryAfter/time.Second)))
			write(w, http.StatusServiceUnavailable, "unavailable", reason)
			return
		}
		write(w, http.StatusOK, "ready", "")
	})
}

func write(w http.ResponseWriter, code int, status, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	body := map[string]string{"status": status}
	if reason != "" {
		body["reason"] = reason
	}
	_ = json.NewEncoder(w).Encode(body)
}
