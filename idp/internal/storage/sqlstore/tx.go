package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// querier runs statements on the pool or in a transaction, so helpers run
// inside or outside one: the pool or a *sql.Tx behind Store.bound, which
// bounds every statement's wait and classifies outages.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) scanner
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// txScope is one InTx transaction, shared by the store copies bound to it.
type txScope struct {
	tx querier // the transaction, bounded
	// reused lists the families revoked in tx because a code or refresh
	// token was reused. They must stay revoked even when tx rolls back, as
	// it will when fn returns the storage.ErrReused it was given.
	reused []revocation
}

type revocation struct {
	family string
	at     time.Time
}

// maxAttempts bounds how often a statement or transaction that failed with a
// retryable error is run again. With the backoff below that is several
// seconds of contention, far beyond anything the tests or production see.
const maxAttempts = 30

// retry runs op until it succeeds, fails with an error that is not
// retryable, attempts run out, s.wait has passed (an SQLite write lock held
// beyond busy_timeout is an outage, not contention to wait out once more)
// or ctx ends. A serialization failure, deadlock
// or busy database is the store's to absorb, never the caller's. Inside
// InTx, op runs once: a failed statement has spoilt the transaction, and
// InTx runs the whole of it again instead.
func (s *Store) retry(ctx context.Context, op func() error) error {
	if s.tx != nil {
		return op()
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !s.d.retryable(err) || attempt == maxAttempts || time.Since(start) >= s.wait {
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

// InTx runs fn with a copy of the store bound to one transaction and
// commits when fn returns nil; fn's error is returned as is after a
// rollback. A retryable error (serialization failure, deadlock, busy
// database) runs the whole fn again in a new transaction. InTx inside fn
// joins the transaction. Families revoked in it because a credential was
// reused are revoked again after a rollback (see txScope.reused).
func (s *Store) InTx(ctx context.Context, fn func(tx storage.Storage) error) error {
	if s.tx != nil {
		return fn(s)
	}
	var scope *txScope
	err := s.retry(ctx, func() error {
		scope = nil
		return s.runTx(ctx, func(tx *sql.Tx) error {
			scope = &txScope{tx: s.bound(tx)}
			bound := *s
			bound.q, bound.tx = scope.tx, scope
			return fn(&bound)
		})
	})
	if err != nil && scope != nil && len(scope.reused) > 0 {
		s.keepRevocations(ctx, scope.reused)
	}
	return err
}

// keepRevocations revokes, outside the transaction that rolled back, the
// families it revoked on reuse: a replayed code or refresh token must cost
// the family whatever the caller then did. Revoking is idempotent, so a
// commit that failed after all does no harm.
func (s *Store) keepRevocations(ctx context.Context, revs []revocation) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, r := range revs {
		if err := s.RevokeFamily(ctx, r.family, r.at); err != nil {
			s.log.Error("could not keep the revocation of a reused token family", "family", r.family, "err", err)
		}
	}
}

// inTx runs fn in a transaction and commits when fn returns nil, retrying the
// whole transaction on retryable errors (fn must be safe to run again). In
// SQLite the transaction begins IMMEDIATE: it holds the write lock
// throughout, so keep fn short. Inside InTx, fn runs once in InTx's
// transaction.
func (s *Store) inTx(ctx context.Context, fn func(q querier) error) error {
	if s.tx != nil {
		return fn(s.tx.tx)
	}
	return s.retry(ctx, func() error {
		return s.runTx(ctx, func(tx *sql.Tx) error { return fn(s.bound(tx)) })
	})
}

// runTx runs fn in one new transaction: committed when fn returns nil,
// rolled back otherwise (a panic included). Waiting for a connection is
// bounded by s.wait, each statement too (Store.bound); the transaction
// itself lives as long as ctx.
func (s *Store) runTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	acquire, cancel := context.WithTimeout(ctx, s.wait)
	conn, err := s.db.Conn(acquire)
	if err != nil {
		err = s.check(acquire, err)
		cancel()
		return fmt.Errorf("begin: %w", err)
	}
	cancel()
	defer conn.Close()
	s.sent(ctx, "BEGIN")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", s.check(ctx, err))
	}
	done := false
	defer func() {
		if !done {
			s.sent(ctx, "ROLLBACK")
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	s.sent(ctx, "COMMIT")
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", s.check(ctx, err))
	}
	return nil
}

// exec runs one write statement with retries and returns the rows it
// affected.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		var err error
		n, err = execTx(ctx, s.q, query, args...)
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

// execTx runs one write statement on q and returns the rows it affected.
func execTx(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
