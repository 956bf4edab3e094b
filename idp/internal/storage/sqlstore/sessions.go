package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

const insertSessionSQL = `INSERT INTO sessions (id_hash, user_id, auth_time, amr, created_at,
	last_seen_at, expires_at, revoked_at, sign_in_method, device)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func (s *Store) CreateSession(ctx context.Context, ses storage.Session) error {
	if ses.IDHash == "" {
		return errors.New("create session: empty id hash")
	}
	if ses.CreatedAt.IsZero() {
		ses.CreatedAt = s.now()
	}
	if ses.LastSeenAt.IsZero() {
		ses.LastSeenAt = ses.CreatedAt
	}
	_, err := s.exec(ctx, insertSessionSQL, ses.IDHash, ses.UserID, ses.AuthTime, listArg(ses.AMR),
		ses.CreatedAt, ses.LastSeenAt, ses.ExpiresAt, nullTime(ses.RevokedAt), ses.SignInMethod, ses.Device)
	if err != nil {
		return s.writeErr("create session", err)
	}
	return nil
}

const getSessionSQL = `SELECT id_hash, user_id, auth_time, amr, created_at, last_seen_at,
	expires_at, revoked_at, sign_in_method, device
FROM sessions WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2`

// GetSession returns the session if it is neither revoked nor expired at now.
func (s *Store) GetSession(ctx context.Context, idHash string, now time.Time) (storage.Session, error) {
	var ses storage.Session
	err := s.q.QueryRowContext(ctx, getSessionSQL, idHash, now).Scan(&ses.IDHash, &ses.UserID,
		timeCol{&ses.AuthTime}, listCol[string]{&ses.AMR}, timeCol{&ses.CreatedAt},
		timeCol{&ses.LastSeenAt}, timeCol{&ses.ExpiresAt}, timeCol{&ses.RevokedAt}, &ses.SignInMethod, &ses.Device)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Session{}, fmt.Errorf("session: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.Session{}, fmt.Errorf("get session: %w", err)
	}
	return ses, nil
}

// TouchSession records activity on a valid session.
func (s *Store) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE sessions SET last_seen_at = $2
		WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2`, idHash, now)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("session: %w", storage.ErrNotFound)
	}
	return nil
}

// RevokeSession revokes the session; revoking it again keeps the first time.
func (s *Store) RevokeSession(ctx context.Context, idHash string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id_hash = $1`, idHash, now)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("session: %w", storage.ErrNotFound)
	}
	return nil
}

// AddSessionClient records that the session signed in to clientID.
func (s *Store) AddSessionClient(ctx context.Context, idHash, clientID string) error {
	_, err := s.exec(ctx, `INSERT INTO session_clients (session_id, client_id) VALUES ($1, $2)
		ON CONFLICT (session_id, client_id) DO NOTHING`, idHash, clientID)
	if err != nil {
		return s.writeErr("add session client", err)
	}
	return nil
}

// SessionHasClient reports whether the session signed in to clientID before.
func (s *Store) SessionHasClient(ctx context.Context, idHash, clientID string) (bool, error) {
	var one int
	err := s.q.QueryRowContext(ctx, `SELECT 1 FROM session_clients WHERE session_id = $1 AND client_id = $2`,
		idHash, clientID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("session client: %w", err)
	}
	return true, nil
}
