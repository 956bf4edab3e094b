package signin

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// HashWriter stores a password hash remade with the current parameters:
// account.Service, the one writer of user records.
type HashWriter interface {
	// ReplacePasswordHash stores phc as userID's hash if the stored hash
	// is still old; ok is false (and nothing written) when it changed.
	ReplacePasswordHash(ctx context.Context, userID, old, phc string) (u storage.User, ok bool, err error)
}

// rehash stores a fresh hash of pw made with the current parameters
// through s.Hashes, unless the stored hash changed since u was read (a
// reset won the race). Without s.Hashes nothing is rehashed. Failure is
// logged and does not fail the sign-in: the old hash still works.
func (s *Service) rehash(ctx context.Context, log *slog.Logger, slot *password.Reservation, u storage.User, pw string) storage.User {
	if s.Hashes == nil {
		return u
	}
	phc, err := slot.Hash(pw)
	if err != nil {
		log.WarnContext(ctx, "sign-in: rehashing password", "user", u.ID, "err", err)
		return u
	}
	nu, ok, err := s.Hashes.ReplacePasswordHash(ctx, u.ID, u.PasswordHash, phc)
	switch {
	case err != nil:
		log.WarnContext(ctx, "sign-in: storing rehashed password", "user", u.ID, "err", err)
		return u
	case !ok:
		return u
	}
	log.InfoContext(ctx, "sign-in: password rehashed with current parameters", "user", u.ID)
	return nu
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
