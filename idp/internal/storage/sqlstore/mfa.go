package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// totpColumns are what every TOTP query reads, in scanTOTP's order.
const totpColumns = `user_id, secret, created_at, confirmed_at, last_step`

func scanTOTP(sc scanner) (storage.TOTP, error) {
	var t storage.TOTP
	err := sc.Scan(&t.UserID, &t.Secret, timeCol{&t.CreatedAt}, timeCol{&t.ConfirmedAt}, &t.LastStep)
	return t, err
}

// putPendingTOTPSQL inserts a pending TOTP or replaces a pending one; a
// confirmed one is left alone (no row is affected).
const putPendingTOTPSQL = `INSERT INTO user_totp (` + totpColumns + `)
VALUES ($1, $2, $3, NULL, 0)
ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
WHERE user_totp.confirmed_at IS NULL`

// PutPendingTOTP stores t as the user's pending enrolment.
func (s *Store) PutPendingTOTP(ctx context.Context, t storage.TOTP) error {
	if t.UserID == "" || len(t.Secret) == 0 {
		return errors.New("put pending TOTP: empty user or secret")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	n, err := s.exec(ctx, putPendingTOTPSQL, t.UserID, t.Secret, t.CreatedAt)
	if err != nil {
		return s.writeErr("put pending TOTP", err)
	}
	if n == 0 {
		return fmt.Errorf("put pending TOTP: the user has a confirmed one: %w", storage.ErrAlreadyExists)
	}
	return nil
}

// GetTOTP returns the user's TOTP, pending or confirmed.
func (s *Store) GetTOTP(ctx context.Context, userID string) (storage.TOTP, error) {
	t, err := scanTOTP(s.q.QueryRowContext(ctx, `SELECT `+totpColumns+` FROM user_totp WHERE user_id = $1`, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.TOTP{}, fmt.Errorf("TOTP: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.TOTP{}, fmt.Errorf("get TOTP: %w", err)
	}
	return t, nil
}

// confirmTOTPSQL confirms a pending TOTP only: of two confirmations one
// finds the row still pending.
const confirmTOTPSQL = `UPDATE user_totp SET confirmed_at = $3, last_step = $2
WHERE user_id = $1 AND confirmed_at IS NULL
RETURNING ` + totpColumns

// ConfirmTOTP confirms the user's pending TOTP.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, step int64, now time.Time) (storage.TOTP, error) {
	var t storage.TOTP
	err := s.retry(ctx, func() (err error) {
		t, err = scanTOTP(s.q.QueryRowContext(ctx, confirmTOTPSQL, userID, step, now))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return storage.TOTP{}, fmt.Errorf("confirm TOTP: nothing pending: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.TOTP{}, fmt.Errorf("confirm TOTP: %w", err)
	}
	return t, nil
}

// useTOTPStepSQL is the replay guard: the row changes only when step is
// later than every step accepted before, so each code works once however
// many replicas check it at the same time.
const useTOTPStepSQL = `UPDATE user_totp SET last_step = $2
WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2`

// UseTOTPStep records step as used.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	n, err := s.exec(ctx, useTOTPStepSQL, userID, step)
	if err != nil {
		return fmt.Errorf("use TOTP step: %w", err)
	}
	if n == 1 {
		return nil
	}
	t, err := s.GetTOTP(ctx, userID)
	switch {
	case err != nil:
		return err
	case !t.Confirmed():
		return fmt.Errorf("use TOTP step: not confirmed: %w", storage.ErrNotFound)
	}
	return fmt.Errorf("use TOTP step %d (last %d): %w", step, t.LastStep, storage.ErrReused)
}

// DeleteMFA removes the user's TOTP and recovery codes in one transaction.
func (s *Store) DeleteMFA(ctx context.Context, userID string) error {
	return s.inTx(ctx, func(tx querier) error {
		if _, err := execTx(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		n, err := execTx(ctx, tx, `DELETE FROM user_totp WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("delete TOTP: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("delete TOTP: %w", storage.ErrNotFound)
		}
		return nil
	})
}

// ReplaceRecoveryCodes stores hashes in place of the user's codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, now time.Time) error {
	return s.inTx(ctx, func(tx querier) error {
		if _, err := execTx(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
		for _, h := range hashes {
			if h == "" {
				return errors.New("replace recovery codes: empty hash")
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at, used_at)
				VALUES ($1, $2, $3, NULL)`, userID, h, now)
			if err != nil {
				return s.writeErr("replace recovery codes", err)
			}
		}
		return nil
	})
}

// useRecoveryCodeSQL lets exactly one caller use a code: the row changes
// only while it is unused.
const useRecoveryCodeSQL = `UPDATE recovery_codes SET used_at = $3
WHERE user_id = $1 AND hash = $2 AND used_at IS NULL`

// UseRecoveryCode marks the code used.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error {
	n, err := s.exec(ctx, useRecoveryCodeSQL, userID, hash, now)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if n == 1 {
		return nil
	}
	var used sql.NullTime
	err = s.q.QueryRowContext(ctx, `SELECT used_at FROM recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash).Scan(&used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("recovery code: %w", storage.ErrNotFound)
	case err != nil:
		return fmt.Errorf("use recovery code: %w", err)
	}
	return fmt.Errorf("use recovery code: %w", storage.ErrReused)
}

// MFAStatuses reads the confirmed TOTPs of userIDs with their unused
// recovery codes counted, in one query.
func (s *Store) MFAStatuses(ctx context.Context, userIDs []string) (map[string]storage.MFAStatus, error) {
	out := map[string]storage.MFAStatus{}
	if len(userIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(userIDs))
	marks := make([]string, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := s.q.QueryContext(ctx, `SELECT t.user_id, t.confirmed_at,
		(SELECT count(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL)
		FROM user_totp t
		WHERE t.confirmed_at IS NOT NULL AND t.user_id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("MFA statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var st storage.MFAStatus
		if err := rows.Scan(&id, timeCol{&st.EnabledAt}, &st.RecoveryCodesLeft); err != nil {
			return nil, fmt.Errorf("MFA statuses: %w", err)
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("MFA statuses: %w", err)
	}
	return out, nil
}
