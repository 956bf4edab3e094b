package signin

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// errPasswordChanged stops a rehash when the password changed meanwhile.
var errPasswordChanged = errors.New("signin: password changed during rehash")

// rehash stores a fresh hash of pw made with the current parameters, unless
// the stored hash changed since u was read (a reset won the race). Failure
// is logged and does not fail the sign-in: the old hash still works.
func (s *Service) rehash(ctx context.Context, log *slog.Logger, slot *password.Reservation, u storage.User, pw string) storage.User {
	phc, err := slot.Hash(pw)
	if err != nil {
		log.WarnContext(ctx, "sign-in: rehashing password", "user", u.ID, "err", err)
		return u
	}
	old := u.PasswordHash
	nu, err := s.Store.UpdateUser(ctx, u.ID, 0, func(cur *storage.User) error {
		if cur.PasswordHash != old {
			return errPasswordChanged
		}
		cur.PasswordHash = phc
		return nil
	})
	switch {
	case errors.Is(err, errPasswordChanged):
		return u
	case err != nil:
		log.WarnContext(ctx, "sign-in: storing rehashed password", "user", u.ID, "err", err)
		return u
	}
	log.InfoContext(ctx, "sign-in: password rehashed with current parameters", "user", u.ID)
	return nu
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
