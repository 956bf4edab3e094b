package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

const insertSigningKeySQL = `INSERT INTO signing_keys (id, algorithm, private_key, public_key,
	created_at, activate_at, expire_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// CreateSigningKey stores k; a zero ExpireAt means no expiry is set yet.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	if k.ID == "" {
		return errors.New("create signing key: empty id")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	_, err := s.exec(ctx, insertSigningKeySQL, k.ID, k.Algorithm, k.PrivateKey, k.PublicKey,
		k.CreatedAt, k.ActivateAt, nullTime(k.ExpireAt))
	if err != nil {
		return s.writeErr("create signing key", err)
	}
	return nil
}

const listSigningKeysSQL = `SELECT id, algorithm, private_key, public_key, created_at,
	activate_at, expire_at
FROM signing_keys WHERE expire_at IS NULL OR expire_at > $1
ORDER BY created_at, id`

// ListSigningKeys returns the keys not yet expired at now, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context, now time.Time) ([]storage.SigningKey, error) {
	rows, err := s.q.QueryContext(ctx, listSigningKeysSQL, now)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var keys []storage.SigningKey
	for rows.Next() {
		var k storage.SigningKey
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicKey, timeCol{&k.CreatedAt},
			timeCol{&k.ActivateAt}, timeCol{&k.ExpireAt}); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return keys, nil
}

// UpdateSigningKeyExpiry sets when the key leaves the JWKS (zero: never).
func (s *Store) UpdateSigningKeyExpiry(ctx context.Context, id string, expireAt time.Time) error {
	n, err := s.exec(ctx, `UPDATE signing_keys SET expire_at = $2 WHERE id = $1`, id, nullTime(expireAt))
	if err != nil {
		return fmt.Errorf("update signing key expiry: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("signing key %q: %w", id, storage.ErrNotFound)
	}
	return nil
}
