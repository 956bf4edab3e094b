package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// recordFailureSQL counts a failure in one atomic statement, however many
// replicas count at once. Arguments: $1 key, $2 now, $3 reset-before (a
// count whose last failure is older starts again at 1), $4 lock-after (0:
// never lock), $5 lock-until, $6 locked_until for a first failure, $7 when
// the row stops mattering.
const recordFailureSQL = `INSERT INTO throttles AS t (throttle_key, failures, last_failure_at,
	locked_until, expires_at)
VALUES ($1, 1, $2, $6, $7)
ON CONFLICT (throttle_key) DO UPDATE SET
	failures = CASE WHEN t.last_failure_at < $3 THEN 1 ELSE t.failures + 1 END,
	last_failure_at = $2,
	locked_until = CASE
		WHEN $4 > 0 AND (CASE WHEN t.last_failure_at < $3 THEN 1 ELSE t.failures + 1 END) >= $4 THEN $5
		WHEN t.locked_until > $2 THEN t.locked_until
		ELSE NULL
	END,
	expires_at = CASE WHEN t.expires_at > $7 THEN t.expires_at ELSE $7 END
RETURNING throttle_key, failures, last_failure_at, locked_until`

// RecordFailure counts one failed attempt for key (see storage.Failure). A
// lock still in force is kept when a new failure does not reach LockAfter.
func (s *Store) RecordFailure(ctx context.Context, key string, f storage.Failure) (storage.Throttle, error) {
	if key == "" {
		return storage.Throttle{}, errors.New("record failure: empty key")
	}
	// The row matters until both the counting window (as long again as
	// now - ResetBefore) and any lock are over.
	expires := f.Now.Add(max(f.Now.Sub(f.ResetBefore), 0))
	if f.LockUntil.After(expires) {
		expires = f.LockUntil
	}
	var firstLock sql.NullTime
	if f.LockAfter == 1 {
		firstLock = nullTime(f.LockUntil)
	}
	var t storage.Throttle
	err := s.retry(ctx, func() error {
		return s.q.QueryRowContext(ctx, recordFailureSQL, key, f.Now, f.ResetBefore, f.LockAfter,
			nullTime(f.LockUntil), firstLock, expires).
			Scan(&t.Key, &t.Failures, timeCol{&t.LastFailureAt}, timeCol{&t.LockedUntil})
	})
	if err != nil {
		return storage.Throttle{}, fmt.Errorf("record failure: %w", err)
	}
	return t, nil
}

// GetThrottle returns the key's counter, or a zero Throttle with Key set.
func (s *Store) GetThrottle(ctx context.Context, key string) (storage.Throttle, error) {
	t := storage.Throttle{Key: key}
	err := s.q.QueryRowContext(ctx, `SELECT failures, last_failure_at, locked_until
		FROM throttles WHERE throttle_key = $1`, key).
		Scan(&t.Failures, timeCol{&t.LastFailureAt}, timeCol{&t.LockedUntil})
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Throttle{Key: key}, nil
	}
	if err != nil {
		return storage.Throttle{}, fmt.Errorf("get throttle: %w", err)
	}
	return t, nil
}

// ResetThrottle forgets the key's failures (after a successful sign-in).
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM throttles WHERE throttle_key = $1`, key); err != nil {
		return fmt.Errorf("reset throttle: %w", err)
	}
	return nil
}
