package account

import (
	"context"
	"errors"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// errHashChanged stops a rehash whose password changed meanwhile.
var errHashChanged = errors.New("account: password hash changed since it was read")

// ReplacePasswordHash stores phc, a fresh hash of the same password made
// with the current parameters (signin.Service rehashes on a successful
// sign-in), as userID's hash, provided the stored hash is still old: a
// reset or a change that won the race keeps its password, and ok is false.
// The password itself does not change, so nothing else does: no session,
// token or link is revoked, no email sent, no audit entry written.
// It implements signin.HashWriter: account is the one writer of users.
func (s *Service) ReplacePasswordHash(ctx context.Context, userID, old, phc string) (u storage.User, ok bool, err error) {
	u, err = s.Store.UpdateUser(ctx, userID, 0, func(cur *storage.User) error {
		if cur.PasswordHash != old || old == "" {
			return errHashChanged
		}
		cur.PasswordHash = phc
		return nil
	})
	if errors.Is(err, errHashChanged) {
		return storage.User{}, false, nil
	}
	if err != nil {
		return storage.User{}, false, err
	}
	return u, true, nil
}
