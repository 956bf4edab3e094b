package account

import (
	"context"
	"errors"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ActionNameChange is the audit action of a user's change of their own
// name on the account page.
const ActionNameChange = "user.name_change"

// ChangeName sets the given and family name of the signed-in user by.ID,
// audited as theirs from by.Source, through EditUser (the one path that
// writes users). Names are trimmed; a missing or over-long one, or one with
// control characters, is a *FieldError for "given_name" or "family_name"
// and changes nothing. The same names again write nothing. ErrNotActive
// when the user may no longer sign in.
func (s *Service) ChangeName(ctx context.Context, by Actor, given, family string) (storage.User, error) {
	given, family = strings.TrimSpace(given), strings.TrimSpace(family)
	if err := checkName("given_name", given); err != nil {
		return storage.User{}, err
	}
	if err := checkName("family_name", family); err != nil {
		return storage.User{}, err
	}
	if _, err := s.activeUser(ctx, by.ID); err != nil {
		return storage.User{}, err
	}
	u, err := s.EditUser(ctx, by.ID, Edit{By: by, Action: ActionNameChange, Apply: func(u *storage.User) error {
		if u.Status != storage.StatusActive {
			return ErrNotActive
		}
		if u.GivenName == given && u.FamilyName == family {
			return ErrUnchanged
		}
		u.GivenName, u.FamilyName = given, family
		return nil
	}})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return storage.User{}, ErrNotActive
		}
		return storage.User{}, err
	}
	s.log().InfoContext(ctx, "name changed", "user", u.ID)
	return u, nil
}
