package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// DefaultWait is how long one call waits for the database by default: for
// a connection (PostgreSQL's connect_timeout), for SQLite's write lock
// (busy_timeout), for a statement's answer. Past it the call fails with
// storage.ErrUnavailable and the request is answered 503, instead of
// hanging while the database is away.
const DefaultWait = 5 * time.Second

// Option changes how Open sets up the store.
type Option func(*Store)

// WithWait sets how long one call waits for the database (DefaultWait when
// d <= 0).
func WithWait(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.wait = d
		}
	}
}

// unavailable reports whether err, from a call made with ctx, means the
// database could not be reached or did not answer in time. It is the one
// classification of outages: a deadline (our own bound, or the caller's),
// a connection database/sql gave up on, and the dialect's own (d.outage).
// A caller that went away is not an outage.
func (d *dialect) unavailable(ctx context.Context, err error) bool {
	switch {
	case err == nil, errors.Is(err, sql.ErrNoRows):
		return false
	case errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		return true
	}
	return d.outage(err)
}

// pgOutage: the connection could not be made or broke (refused, reset,
// closed, timed out), or the server cannot serve now (SQLSTATE class 08
// connection exception, class 53 insufficient resources such as too many
// connections, 57P01-57P03 shutting down or starting up).
func pgOutage(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	pe, ok := pgError(err)
	if !ok {
		return false
	}
	switch pe.Code[:2] {
	case "08", "53":
		return true
	}
	switch pe.Code {
	case "57P01", "57P02", "57P03":
		return true
	}
	return false
}

// sqliteOutage: the file is locked beyond busy_timeout, unreadable,
// unwritable, full or not a database (replaced under the process).
func sqliteOutage(err error) bool {
	code, _, ok := sqliteError(err)
	if !ok {
		return false
	}
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// check returns err, wrapped with storage.ErrUnavailable (and the outage
// recorded on ctx) when it is one, and tells the error hook
// (ObserveErrors) of a failure. Every statement's, begin's and commit's
// error passes here.
func (s *Store) check(ctx context.Context, err error) error {
	if s.d.unavailable(ctx, err) {
		err = storage.Unavailable(ctx, err)
	}
	return s.errs.failed(s.d, err)
}

// rawQuerier is what *sql.DB and *sql.Tx have in common.
type rawQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// bounded runs every statement on q within s.wait and classifies its
// errors (check): the one way the store's queries reach the database.
type bounded struct {
	q rawQuerier
	s *Store
}

func (s *Store) bound(q rawQuerier) querier { return &bounded{q: q, s: s} }

// bounded is ctx for one statement: it ends after the store's wait, so a
// database that went silent cannot hold the caller.
func (b *bounded) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.s.wait)
}

func (b *bounded) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	b.s.sent(ctx, query)
	ctx, cancel := b.bounded(ctx)
	defer cancel()
	res, err := b.q.ExecContext(ctx, query, args...)
	return res, b.s.check(ctx, err)
}

func (b *bounded) QueryContext(ctx context.Context, query string, args ...any) (rows, error) {
	b.s.sent(ctx, query)
	ctx, cancel := b.bounded(ctx)
	r, err := b.q.QueryContext(ctx, query, args...)
	if err != nil {
		// Classified before cancel: a cancelled ctx reads as "the caller
		// went away", and the outage would pass as a plain error.
		err = b.s.check(ctx, err)
		cancel()
		return nil, err
	}
	return &boundedRows{Rows: r, ctx: ctx, cancel: cancel, s: b.s}, nil
}

func (b *bounded) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	b.s.sent(ctx, query)
	ctx, cancel := b.bounded(ctx)
	return &boundedRow{row: b.q.QueryRowContext(ctx, query, args...), ctx: ctx, cancel: cancel, s: b.s}
}

// rows is what the store reads a result set through.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

type boundedRows struct {
	*sql.Rows
	ctx    context.Context
	cancel context.CancelFunc
	s      *Store
}

func (r *boundedRows) Scan(dest ...any) error { return r.s.check(r.ctx, r.Rows.Scan(dest...)) }
func (r *boundedRows) Err() error             { return r.s.check(r.ctx, r.Rows.Err()) }
func (r *boundedRows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

type boundedRow struct {
	row    *sql.Row
	ctx    context.Context
	cancel context.CancelFunc
	s      *Store
}

func (r *boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return r.s.check(r.ctx, r.row.Scan(dest...))
}
