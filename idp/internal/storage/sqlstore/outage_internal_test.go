package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestOutageClassification: what counts as the database being unavailable
// on PostgreSQL, and what does not. The errors a live outage produces are
// checked end to end in the server's outage tests; these are the codes a
// test cannot easily make a real server send.
func TestOutageClassification(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"connection refused", context.Background(), fmt.Errorf("query: %w", refused), true},
		{"connection reset", context.Background(), syscall.ECONNRESET, true},
		{"admin shutdown", context.Background(), &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", context.Background(), &pgconn.PgError{Code: "57P03"}, true},
		{"too many connections", context.Background(), &pgconn.PgError{Code: "53300"}, true},
		{"connection failure", context.Background(), &pgconn.PgError{Code: "08006"}, true},
		{"deadline", context.Background(), context.DeadlineExceeded, true},
		{"unique violation", context.Background(), &pgconn.PgError{Code: "23505"}, false},
		{"serialization failure", context.Background(), &pgconn.PgError{Code: "40001"}, false},
		{"no rows", context.Background(), sql.ErrNoRows, false},
		{"caller went away", canceled, fmt.Errorf("query: %w", refused), false},
		{"nil", context.Background(), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dialectPostgres.unavailable(tc.ctx, tc.err); got != tc.want {
				t.Errorf("unavailable = %v, want %v", got, tc.want)
			}
		})
	}
	s := &Store{d: dialectPostgres}
	ctx, watch := storage.WatchOutage(context.Background())
	err := s.check(ctx, refused)
	if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) || !watch.Hit() {
		t.Errorf("check(refused) = %v (watch hit %v): want ErrUnavailable wrapping the driver's error, recorded on the watch", err, watch.Hit())
	}
}
