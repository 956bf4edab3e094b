package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// phoneClients selects the clients whose users sign in by phone.
const phoneClients = `(SELECT id FROM clients WHERE sign_in_method = 'phone')`

// revokeMobileGrantsSQL revokes what a phone sign-in produced for user $1
// at $2, after the families (revokeFamily) are recorded revoked: browser
// sessions signed in by phone, any token of a phone client left outside a
// family, and authorization codes of phone clients not yet redeemed.
var revokeMobileGrantsSQL = []string{
	`UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND sign_in_method = 'phone' AND revoked_at IS NULL`,
	`UPDATE refresh_tokens SET revoked_at = $2
		WHERE user_id = $1 AND revoked_at IS NULL AND client_id IN ` + phoneClients,
	`UPDATE access_tokens SET revoked_at = $2
		WHERE subject = $1 AND revoked_at IS NULL AND client_id IN ` + phoneClients,
	`UPDATE auth_requests SET expires_at = $2
		WHERE user_id = $1 AND redeemed_at IS NULL AND expires_at > $2 AND client_id IN ` + phoneClients,
}

// RevokeMobileGrants revokes the user's phone sign-ins in one transaction:
// every token family of a phone client is recorded revoked (so a token
// stored in it concurrently reads back revoked), then the rest.
func (s *Store) RevokeMobileGrants(ctx context.Context, userID string, now time.Time) error {
	return s.inTx(ctx, func(tx querier) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT family_id FROM refresh_tokens
			WHERE user_id = $1 AND client_id IN `+phoneClients+`
			UNION SELECT DISTINCT family_id FROM access_tokens
			WHERE subject = $1 AND family_id <> '' AND client_id IN `+phoneClients, userID)
		if err != nil {
			return fmt.Errorf("revoke mobile grants: %w", err)
		}
		var families []string
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				rows.Close()
				return fmt.Errorf("revoke mobile grants: %w", err)
			}
			families = append(families, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("revoke mobile grants: %w", err)
		}
		for _, f := range families {
			if err := revokeFamily(ctx, tx, f, now); err != nil {
				return err
			}
		}
		for _, q := range revokeMobileGrantsSQL {
			if _, err := tx.ExecContext(ctx, q, userID, now); err != nil {
				return fmt.Errorf("revoke mobile grants: %w", err)
			}
		}
		return nil
	})
}

// listSignInsSQL reads the live browser sessions and the live refresh token
// of each family (the one neither rotated nor revoked, of a family not
// revoked) of user $1 at $2. A family's last use is when its live token was
// issued: the last refresh or the code exchange.
const listSignInsSQL = `SELECT 'session', id_hash, '', sign_in_method, device, auth_time, last_seen_at
FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
UNION ALL
SELECT 'tokens', t.family_id, t.client_id, c.sign_in_method, t.device, t.auth_time, t.created_at
FROM refresh_tokens t JOIN clients c ON c.id = t.client_id
WHERE t.user_id = $1 AND t.rotated_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
	AND NOT EXISTS (SELECT 1 FROM revoked_families f WHERE f.family_id = t.family_id)
ORDER BY 7 DESC, 2`

// ListSignIns returns the user's live sessions and token families, most
// recently used first.
func (s *Store) ListSignIns(ctx context.Context, userID string, now time.Time) ([]storage.SignIn, error) {
	rows, err := s.q.QueryContext(ctx, listSignInsSQL, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	defer rows.Close()
	var out []storage.SignIn
	for rows.Next() {
		var si storage.SignIn
		if err := rows.Scan(&si.Kind, &si.ID, &si.ClientID, &si.Method, &si.Device,
			timeCol{&si.SignedInAt}, timeCol{&si.LastUsedAt}); err != nil {
			return nil, fmt.Errorf("list sign-ins: %w", err)
		}
		if si.Method == "" {
			si.Method = storage.SignInEmail
		}
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	return out, nil
}
