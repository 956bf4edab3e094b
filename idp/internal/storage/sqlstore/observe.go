package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// What the metrics read from the store, without the storage interface
// growing: the pool's state, the outbox's backlog, and every failed
// statement (ObserveErrors). The server finds these methods by interface.

// Query error kinds, for ObserveErrors.
const (
	ErrorUnavailable = "unavailable" // the database cannot be reached
	ErrorOther       = "other"
)

// DBStats is the connection pool's state.
func (s *Store) DBStats() sql.DBStats { return s.db.Stats() }

// ObserveErrors has fn told the kind of every statement, transaction
// begin or commit that fails (ErrorUnavailable, ErrorOther). Answers that
// are not failures are not told: no row, a unique or foreign key
// violation (ErrAlreadyExists, ErrNotFound), a caller that went away.
// Every copy of the store (InTx) shares it.
func (s *Store) ObserveErrors(fn func(kind string)) { s.errs.fn.Store(&fn) }

// errHook is the ObserveErrors func, shared by the store's copies.
type errHook struct {
	fn atomic.Pointer[func(kind string)]
}

// failed reports err, if it is a failure, and returns it.
func (h *errHook) failed(d dialect, err error) error {
	if h == nil || err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) {
		return err
	}
	if _, ok := d.uniqueViolation(err); ok || d.foreignKeyViolation(err) {
		return err
	}
	if fn := h.fn.Load(); fn != nil {
		(*fn)(errorKind(err))
	}
	return err
}

// errorKind tells a database that cannot be reached from any other
// failure: the store's one classification (Store.check) has wrapped the
// former with storage.ErrUnavailable.
func errorKind(err error) string {
	if errors.Is(err, storage.ErrUnavailable) {
		return ErrorUnavailable
	}
	return ErrorOther
}

// ObserveStatements has fn told every statement the store sends to the
// database (its SQL text) with the caller's ctx, and "BEGIN", "COMMIT" and
// "ROLLBACK" for every transaction: each is one round trip to PostgreSQL.
// Tests count them per request. Every copy of the store (InTx) shares it.
func (s *Store) ObserveStatements(fn func(ctx context.Context, query string)) {
	s.sentHook.fn.Store(&fn)
}

// sentHook is the ObserveStatements func, shared by the store's copies.
type sentHook struct {
	fn atomic.Pointer[func(ctx context.Context, query string)]
}

// sent tells the hook, if any, of query.
func (s *Store) sent(ctx context.Context, query string) {
	if s.sentHook == nil {
		return
	}
	if fn := s.sentHook.fn.Load(); fn != nil {
		(*fn)(ctx, query)
	}
}

const outboxBacklogSQL = `SELECT count(*), min(created_at) FROM outbox WHERE status = $1`

// OutboxBacklog is how many messages wait in the outbox and when the
// oldest of them was queued (zero when none waits).
func (s *Store) OutboxBacklog(ctx context.Context) (pending int, oldest time.Time, err error) {
	var first any // min() has no column type: SQLite gives the stored microseconds
	err = s.q.QueryRowContext(ctx, outboxBacklogSQL, storage.MessagePending).Scan(&pending, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox backlog: %w", err)
	}
	switch v := first.(type) {
	case time.Time:
		oldest = v.UTC()
	case int64:
		oldest = time.UnixMicro(v).UTC()
	}
	return pending, oldest, nil
}
