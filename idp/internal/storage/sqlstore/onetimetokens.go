package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// oneTimeTokenColumns are what every one-time token query reads, in
// scanOneTimeToken's order.
const oneTimeTokenColumns = `hash, user_id, purpose, sent_to, data, created_at, expires_at, used_at, voided_at`

func scanOneTimeToken(sc scanner) (storage.OneTimeToken, error) {
	var t storage.OneTimeToken
	err := sc.Scan(&t.Hash, &t.UserID, &t.Purpose, &t.SentTo, &t.Data, timeCol{&t.CreatedAt},
		timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt}, timeCol{&t.VoidedAt})
	return t, err
}

// voidOneTimeTokensSQL voids the user's earlier tokens of a purpose that
// are still open; used ones keep their state.
const voidOneTimeTokensSQL = `UPDATE one_time_tokens SET voided_at = $3
WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND voided_at IS NULL`

const insertOneTimeTokenSQL = `INSERT INTO one_time_tokens (` + oneTimeTokenColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// CreateOneTimeToken stores t and, in the same transaction, voids the
// user's earlier open tokens of the purpose (VoidedAt = t.CreatedAt): the
// newest link wins. In PostgreSQL the user's row is locked first, so that
// of two tokens created at once one is voided; an unknown user gives
// storage.ErrNotFound.
func (s *Store) CreateOneTimeToken(ctx context.Context, t storage.OneTimeToken) error {
	if t.Hash == "" || t.UserID == "" || t.Purpose == "" {
		return errors.New("create one-time token: empty hash, user or purpose")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	return s.inTx(ctx, func(tx querier) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`+s.d.lockRow, t.UserID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create one-time token: user: %w", storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("create one-time token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, voidOneTimeTokensSQL, t.UserID, t.Purpose, t.CreatedAt); err != nil {
			return fmt.Errorf("create one-time token: void older: %w", err)
		}
		_, err = tx.ExecContext(ctx, insertOneTimeTokenSQL, t.Hash, t.UserID, t.Purpose, t.SentTo, t.Data,
			t.CreatedAt, t.ExpiresAt, nullTime(t.UsedAt), nullTime(t.VoidedAt))
		if err != nil {
			return s.writeErr("create one-time token", err)
		}
		return nil
	})
}

// GetOneTimeToken returns the token whatever its state.
func (s *Store) GetOneTimeToken(ctx context.Context, hash string) (storage.OneTimeToken, error) {
	return getOneTimeToken(ctx, s.q, hash)
}

func getOneTimeToken(ctx context.Context, q querier, hash string) (storage.OneTimeToken, error) {
	t, err := scanOneTimeToken(q.QueryRowContext(ctx,
		`SELECT `+oneTimeTokenColumns+` FROM one_time_tokens WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.OneTimeToken{}, fmt.Errorf("one-time token: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.OneTimeToken{}, fmt.Errorf("get one-time token: %w", err)
	}
	return t, nil
}

// useOneTimeTokenSQL is the single atomic step that lets exactly one caller
// use a token: the row changes only while it is open (unused, not voided,
// unexpired) and of the purpose asked for.
const useOneTimeTokenSQL = `UPDATE one_time_tokens SET used_at = $3
WHERE hash = $1 AND purpose = $2 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $3
RETURNING ` + oneTimeTokenColumns

// UseOneTimeToken marks the token used at now. A token used before gives
// storage.ErrReused; an unknown, voided or expired one, or one of another
// purpose, storage.ErrNotFound.
func (s *Store) UseOneTimeToken(ctx context.Context, hash, purpose string, now time.Time) (storage.OneTimeToken, error) {
	var t storage.OneTimeToken
	err := s.retry(ctx, func() (err error) {
		t, err = scanOneTimeToken(s.q.QueryRowContext(ctx, useOneTimeTokenSQL, hash, purpose, now))
		return err
	})
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return storage.OneTimeToken{}, fmt.Errorf("use one-time token: %w", err)
	}
	prev, err := getOneTimeToken(ctx, s.q, hash)
	switch {
	case err != nil:
		return storage.OneTimeToken{}, err
	case prev.Purpose != purpose:
		return storage.OneTimeToken{}, fmt.Errorf("one-time token of another purpose: %w", storage.ErrNotFound)
	case !prev.UsedAt.IsZero():
		return storage.OneTimeToken{}, fmt.Errorf("use one-time token: %w", storage.ErrReused)
	case !prev.VoidedAt.IsZero():
		return storage.OneTimeToken{}, fmt.Errorf("one-time token replaced by a newer one: %w", storage.ErrNotFound)
	}
	return storage.OneTimeToken{}, fmt.Errorf("one-time token expired: %w", storage.ErrNotFound)
}
