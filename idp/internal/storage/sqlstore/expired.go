package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// expiredSQL deletes what expired before now, one table at a time. Signing
// keys are not here: rotation owns them. Nor are revoked_families: a row
// per revoked family, kept so that a token of the family stored late can
// never come alive (see revokeFamilySQL). Nor the outbox and the audit log,
// which do not expire.
var expiredSQL = []string{
	`DELETE FROM auth_requests WHERE expires_at < $1`,
	`DELETE FROM sessions WHERE expires_at < $1`,
	`DELETE FROM access_tokens WHERE expires_at < $1`,
	`DELETE FROM refresh_tokens WHERE expires_at < $1`,
	`DELETE FROM one_time_tokens WHERE expires_at < $1`,
	`DELETE FROM mobile_codes WHERE expires_at < $1`,
	`DELETE FROM throttles WHERE expires_at < $1`,
}

// DeleteExpired removes auth requests, sessions, tokens (one-time tokens
// and mobile codes included) and throttles that expired before now, and returns how many
// rows went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx querier) error {
		total = 0
		for _, q := range expiredSQL {
			n, err := execTx(ctx, tx, q, now)
			if err != nil {
				return fmt.Errorf("delete expired: %w", err)
			}
			total += n
		}
		return nil
	})
	return total, err
}
