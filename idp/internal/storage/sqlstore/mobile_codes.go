package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// mobileCodeColumns are what every code query reads, in scanMobileCode's
// order.
const mobileCodeColumns = `id, user_id, purpose, phone, code_hash, created_at, expires_at, tries, used_at, voided_at`

func scanMobileCode(sc scanner) (storage.MobileCode, error) {
	var c storage.MobileCode
	err := sc.Scan(&c.ID, &c.UserID, &c.Purpose, &c.Phone, &c.CodeHash, timeCol{&c.CreatedAt},
		timeCol{&c.ExpiresAt}, &c.Tries, timeCol{&c.UsedAt}, timeCol{&c.VoidedAt})
	return c, err
}

// openCode: neither used nor voided (expiry is checked on its own).
const openCode = `used_at IS NULL AND voided_at IS NULL`

const insertMobileCodeSQL = `INSERT INTO mobile_codes (` + mobileCodeColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// CreateMobileCode stores c and, in the same transaction, voids the user's
// earlier open codes of the purpose (VoidedAt = c.CreatedAt). The user's
// row is locked first (PostgreSQL), so that of two codes created at once
// one is voided.
func (s *Store) CreateMobileCode(ctx context.Context, c storage.MobileCode) (storage.MobileCode, error) {
	if c.UserID == "" || c.Purpose == "" || c.CodeHash == "" {
		return storage.MobileCode{}, errors.New("create mobile code: empty user, purpose or hash")
	}
	if c.ID == "" {
		c.ID = newID()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	err := s.inTx(ctx, func(tx querier) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`+s.d.lockRow, c.UserID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create mobile code: user: %w", storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("create mobile code: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mobile_codes SET voided_at = $3
			WHERE user_id = $1 AND purpose = $2 AND `+openCode, c.UserID, c.Purpose, c.CreatedAt); err != nil {
			return fmt.Errorf("create mobile code: void older: %w", err)
		}
		_, err = tx.ExecContext(ctx, insertMobileCodeSQL, c.ID, c.UserID, c.Purpose, c.Phone, c.CodeHash,
			c.CreatedAt, c.ExpiresAt, c.Tries, nullTime(c.UsedAt), nullTime(c.VoidedAt))
		if err != nil {
			return s.writeErr("create mobile code", err)
		}
		return nil
	})
	if err != nil {
		return storage.MobileCode{}, err
	}
	c.CreatedAt, c.ExpiresAt = normTime(c.CreatedAt), normTime(c.ExpiresAt)
	c.UsedAt, c.VoidedAt = normTime(c.UsedAt), normTime(c.VoidedAt)
	return c, nil
}

// tryMobileCodeSQL counts one entry against the user's newest open code of
// a purpose in one statement. The outer conditions are checked again on the
// row as it is when the statement gets it (PostgreSQL re-reads a row another
// transaction changed meanwhile; SQLite runs writers one at a time), so
// tries never passes $4. Arguments: $1 user, $2 purpose, $3 now, $4 max.
const tryMobileCodeSQL = `UPDATE mobile_codes SET tries = tries + 1
WHERE id = (SELECT id FROM mobile_codes
		WHERE user_id = $1 AND purpose = $2 AND ` + openCode + ` AND expires_at > $3 AND tries < $4
		ORDER BY created_at DESC, id LIMIT 1)
	AND ` + openCode + ` AND expires_at > $3 AND tries < $4
RETURNING ` + mobileCodeColumns

// TryMobileCode counts one entry against the user's open code of purpose.
func (s *Store) TryMobileCode(ctx context.Context, userID, purpose string, now time.Time, maxTries int) (storage.MobileCode, error) {
	var c storage.MobileCode
	err := s.retry(ctx, func() (err error) {
		c, err = scanMobileCode(s.q.QueryRowContext(ctx, tryMobileCodeSQL, userID, purpose, now, maxTries))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return storage.MobileCode{}, fmt.Errorf("mobile code: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.MobileCode{}, fmt.Errorf("try mobile code: %w", err)
	}
	return c, nil
}

// UseMobileCode marks the code used at now; exactly one caller wins.
func (s *Store) UseMobileCode(ctx context.Context, id string, now time.Time) (storage.MobileCode, error) {
	var c storage.MobileCode
	err := s.retry(ctx, func() (err error) {
		c, err = scanMobileCode(s.q.QueryRowContext(ctx, `UPDATE mobile_codes SET used_at = $2
			WHERE id = $1 AND `+openCode+` AND expires_at > $2 RETURNING `+mobileCodeColumns, id, now))
		return err
	})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return storage.MobileCode{}, fmt.Errorf("use mobile code: %w", err)
	}
	prev, err := scanMobileCode(s.q.QueryRowContext(ctx, `SELECT `+mobileCodeColumns+` FROM mobile_codes WHERE id = $1`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return storage.MobileCode{}, fmt.Errorf("mobile code: %w", storage.ErrNotFound)
	case err != nil:
		return storage.MobileCode{}, fmt.Errorf("use mobile code: %w", err)
	case !prev.UsedAt.IsZero():
		return storage.MobileCode{}, fmt.Errorf("use mobile code: %w", storage.ErrReused)
	}
	return storage.MobileCode{}, fmt.Errorf("mobile code voided or expired: %w", storage.ErrNotFound)
}

// VoidMobileCode voids one open code; a code not open is left as it is.
func (s *Store) VoidMobileCode(ctx context.Context, id string, now time.Time) error {
	if _, err := s.exec(ctx, `UPDATE mobile_codes SET voided_at = $2 WHERE id = $1 AND `+openCode, id, now); err != nil {
		return fmt.Errorf("void mobile code: %w", err)
	}
	return nil
}

// VoidMobileCodes voids every open code of the user.
func (s *Store) VoidMobileCodes(ctx context.Context, userID string, now time.Time) (int64, error) {
	n, err := s.exec(ctx, `UPDATE mobile_codes SET voided_at = $2 WHERE user_id = $1 AND `+openCode, userID, now)
	if err != nil {
		return 0, fmt.Errorf("void mobile codes: %w", err)
	}
	return n, nil
}
