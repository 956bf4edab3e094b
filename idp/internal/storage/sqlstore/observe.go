package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"

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
// failure.
func errorKind(err error) string {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr), errors.As(err, &connErr), pgconn.SafeToRetry(err):
		return ErrorUnavailable
	}
	if pe, ok := pgError(err); ok && (strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03") {
		return ErrorUnavailable // connection exception, shutdown, starting up
	}
	if code, _, ok := sqliteError(err); ok && (code&0xff == sqlite3.SQLITE_CANTOPEN || code&0xff == sqlite3.SQLITE_IOERR || code&0xff == sqlite3.SQLITE_NOTADB) {
		return ErrorUnavailable
	}
	return ErrorOther
}

// observed is a querier whose failures go to the error hook.
type observed struct {
	q    querier
	d    dialect
	errs *errHook
}

func (s *Store) observed(q querier) querier { return observed{q: q, d: s.d, errs: s.errs} }

func (o observed) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := o.q.ExecContext(ctx, query, args...)
	return res, o.errs.failed(o.d, err)
}

func (o observed) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := o.q.QueryContext(ctx, query, args...)
	return rows, o.errs.failed(o.d, err)
}

func (o observed) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	row := o.q.QueryRowContext(ctx, query, args...)
	_ = o.errs.failed(o.d, row.Err()) // the query's error; Scan returns it again
	return row
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
