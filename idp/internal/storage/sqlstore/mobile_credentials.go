package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// mobileCredentialColumns are what every credential query reads, in
// scanMobileCredential's order.
const mobileCredentialColumns = `user_id, state, pin_hash, phone, phone_verified_at, activated_at,
	last_sign_in_at, pin_failures, locked_until, created_at, updated_at`

func scanMobileCredential(sc scanner) (storage.MobileCredential, error) {
	var c storage.MobileCredential
	err := sc.Scan(&c.UserID, &c.State, &c.PINHash, &c.Phone, timeCol{&c.PhoneVerifiedAt},
		timeCol{&c.ActivatedAt}, timeCol{&c.LastSignInAt}, &c.PINFailures, timeCol{&c.LockedUntil},
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	return c, err
}

// GetMobileCredential returns the user's credential, or a zero one with
// UserID and State (none) set.
func (s *Store) GetMobileCredential(ctx context.Context, userID string) (storage.MobileCredential, error) {
	return getMobileCredential(ctx, s.q, userID, "")
}

// getMobileCredential reads the credential; lock ends the SELECT (the
// dialect's row lock, or "").
func getMobileCredential(ctx context.Context, q querier, userID, lock string) (storage.MobileCredential, error) {
	c, err := scanMobileCredential(q.QueryRowContext(ctx,
		`SELECT `+mobileCredentialColumns+` FROM mobile_credentials WHERE user_id = $1`+lock, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.MobileCredential{UserID: userID, State: storage.MobileNone}, nil
	}
	if err != nil {
		return storage.MobileCredential{}, fmt.Errorf("get mobile credential: %w", err)
	}
	return c, nil
}

// insertMobileCredentialSQL creates the empty credential a first update
// starts from; a concurrent creator's row wins and is then locked.
const insertMobileCredentialSQL = `INSERT INTO mobile_credentials (` + mobileCredentialColumns + `)
VALUES ($1, 'none', '', '', NULL, NULL, NULL, 0, NULL, $2, $2)
ON CONFLICT (user_id) DO NOTHING`

const updateMobileCredentialSQL = `UPDATE mobile_credentials SET state = $2, pin_hash = $3, phone = $4,
	phone_verified_at = $5, activated_at = $6, last_sign_in_at = $7, pin_failures = $8,
	locked_until = $9, updated_at = $10
WHERE user_id = $1`

// UpdateMobileCredential applies fn to the user's credential in one
// transaction that holds its row (PostgreSQL row lock; SQLite runs writers
// one at a time), creating it first when there is none.
func (s *Store) UpdateMobileCredential(ctx context.Context, userID string, fn func(*storage.MobileCredential) error) (storage.MobileCredential, error) {
	var out storage.MobileCredential
	err := s.inTx(ctx, func(tx querier) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, insertMobileCredentialSQL, userID, now); err != nil {
			return s.writeErr("update mobile credential", err)
		}
		cur, err := getMobileCredential(ctx, tx, userID, s.d.lockRow)
		if err != nil {
			return err
		}
		next := cur
		if err := fn(&next); err != nil {
			return err
		}
		if next.State == "" {
			next.State = storage.MobileNone
		}
		next.UserID, next.CreatedAt, next.UpdatedAt = cur.UserID, cur.CreatedAt, now
		_, err = tx.ExecContext(ctx, updateMobileCredentialSQL, userID, next.State, next.PINHash, next.Phone,
			nullTime(next.PhoneVerifiedAt), nullTime(next.ActivatedAt), nullTime(next.LastSignInAt),
			next.PINFailures, nullTime(next.LockedUntil), next.UpdatedAt)
		if err != nil {
			return fmt.Errorf("update mobile credential: %w", err)
		}
		out = normMobileCredential(next)
		return nil
	})
	return out, err
}

// normMobileCredential is what a credential reads back as.
func normMobileCredential(c storage.MobileCredential) storage.MobileCredential {
	for _, t := range []*time.Time{&c.PhoneVerifiedAt, &c.ActivatedAt, &c.LastSignInAt, &c.LockedUntil, &c.CreatedAt, &c.UpdatedAt} {
		*t = normTime(*t)
	}
	return c
}

// countPINAttemptSQL counts one attempt in one statement, however many
// replicas count at once: only an active credential with a PIN, unlocked at
// $2 and below the void limit $5, is counted; the attempt that reaches $3
// failures locks it until $4. Arguments: $1 user, $2 now, $3 lock-after,
// $4 lock-until, $5 void-after.
const countPINAttemptSQL = `UPDATE mobile_credentials SET
	pin_failures = pin_failures + 1,
	locked_until = CASE WHEN pin_failures + 1 = $3 THEN $4 ELSE locked_until END,
	updated_at = $2
WHERE user_id = $1 AND state = 'active' AND pin_hash <> ''
	AND (locked_until IS NULL OR locked_until <= $2)
	AND pin_failures < $5
RETURNING ` + mobileCredentialColumns

// CountPINAttempt counts one PIN attempt before it is checked; see
// storage.Mobile.
func (s *Store) CountPINAttempt(ctx context.Context, userID string, a storage.PINAttempt) (storage.MobileCredential, error) {
	var c storage.MobileCredential
	err := s.retry(ctx, func() (err error) {
		c, err = scanMobileCredential(s.q.QueryRowContext(ctx, countPINAttemptSQL, userID, a.Now,
			a.LockAfter, nullTime(a.LockUntil), a.VoidAfter))
		return err
	})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return storage.MobileCredential{}, fmt.Errorf("count PIN attempt: %w", err)
	}
	cur, err := s.GetMobileCredential(ctx, userID)
	if err != nil {
		return storage.MobileCredential{}, err
	}
	return cur, fmt.Errorf("count PIN attempt: %w", storage.ErrLocked)
}
