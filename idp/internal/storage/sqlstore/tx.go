package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// querier is what *sql.DB and *sql.Tx have in common, so helpers run inside
// or outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// maxAttempts bounds how often a statement or transaction that failed with a
// retryable error is run again. With the backoff below that is several
// seconds of contention, far beyond anything the tests or production see.
const maxAttempts = 30

// retry runs op until it succeeds, fails with an error that is not
// retryable, attempts run out or ctx ends. A serialization failure, deadlock
// or busy database is the store's to absorb, never the caller's.
func (s *Store) retry(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !s.d.retryable(err) || attempt == maxAttempts {
			return err
		}
		s.log.Debug("retrying after a transient database error", "attempt", attempt, "err", err)
		// Full jitter, growing to at most ~100 ms.
		backoff := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 7)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
	}
}

// inTx runs fn in a transaction and commits when fn returns nil, retrying the
// whole transaction on retryable errors (fn must be safe to run again). In
// SQLite the transaction begins IMMEDIATE: it holds the write lock
// throughout, so keep fn short.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

// exec runs one write statement with retries and returns the rows it
// affected.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		res, err := s.db.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// writeErr wraps an error from a write: a taken key becomes
// storage.ErrAlreadyExists, a reference to a missing client or user
// storage.ErrNotFound.
func (s *Store) writeErr(op string, err error) error {
	if _, ok := s.d.uniqueViolation(err); ok {
		return fmt.Errorf("%s: %w", op, storage.ErrAlreadyExists)
	}
	if s.d.foreignKeyViolation(err) {
		return fmt.Errorf("%s: client or user does not exist: %w", op, storage.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// execTx runs one write statement in tx and returns the rows it affected.
func execTx(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
