package account

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ErrUnchanged, returned by an Edit's Apply, says there is nothing to
// change: nothing is written, not even an audit entry, and EditUser
// returns the record as it is, without an error.
var ErrUnchanged = errors.New("account: nothing to change")

// Edit is one change of a user record by an administrator (the admin API)
// or the system (the CLI). The caller brings its rules; EditUser brings
// what the change entails.
type Edit struct {
	// By is recorded in the audit entry, under Action ("employee.update",
	// "user.disable", …).
	By     Actor
	Action string
	// Apply changes u, the current record as read in the transaction. The
	// caller's rules run here, against that record: authorization, the
	// version the caller saw, refusing self lock-outs. Its error is
	// returned as is and nothing is written; ErrUnchanged writes nothing.
	// Apply may run more than once (the transaction may be retried).
	Apply func(u *storage.User) error
	// Check, when set, runs in the transaction after the record is
	// written, with the record before and after the change; its error
	// undoes everything (the admin API keeps one active super admin here).
	Check func(ctx context.Context, tx storage.Storage, before, after storage.User) error
}

// EditUser applies e to user id in one transaction with everything the
// change entails:
//
//   - a new email is not verified; every session, refresh token and access
//     token of the user is revoked and every open link voided (a link sent
//     to the old address must not act on the account, nor a session keep
//     it); and the old address is told which address replaced it;
//   - disabling revokes every grant and voids every open link likewise;
//   - a clinician's new phone number clears their mobile PIN, revokes every
//     session and refresh token of phone sign-in clients, voids open SMS
//     codes and emails them a notice (the new number is not verified);
//   - one audit entry by e.By lists the changed fields.
//
// Errors: storage.ErrNotFound for an unknown id, storage.ErrEmailInUse or
// storage.ErrPhoneInUse, and whatever Apply or Check return. On any error
// nothing changes.
func (s *Service) EditUser(ctx context.Context, id string, e Edit) (storage.User, error) {
	var out storage.User
	mailed := false
	err := s.Store.InTx(ctx, func(tx storage.Storage) error {
		mailed = false
		var before storage.User
		after, err := tx.UpdateUser(ctx, id, 0, func(u *storage.User) error {
			before = *u
			before.Roles = slices.Clone(u.Roles)
			if err := e.Apply(u); err != nil {
				return err
			}
			if u.Email != before.Email {
				// Nobody has verified the new address.
				u.EmailVerified = false
			}
			return nil
		})
		if errors.Is(err, ErrUnchanged) {
			out = before
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		emailChanged := after.Email != before.Email
		disabled := after.Status == storage.StatusDisabled && before.Status != storage.StatusDisabled
		if emailChanged || disabled {
			if err := tx.RevokeUserGrants(ctx, id, now); err != nil {
				return fmt.Errorf("account: revoking sessions, tokens and links: %w", err)
			}
		}
		if emailChanged {
			notice, err := s.render(message{kind: notify.KindEmailChanged, to: before.Email, data: notify.Data{
				Name: after.Name(), NewEmail: after.Email,
			}})
			if err != nil {
				return err
			}
			if err := s.enqueue(ctx, tx, notice); err != nil {
				return err
			}
			mailed = true
		}
		// A clinician's mobile credential follows the phone number.
		phoneMailed, err := s.phoneChangedTx(ctx, tx, before, after, false, now)
		if err != nil {
			return err
		}
		mailed = mailed || phoneMailed
		if e.Check != nil {
			if err := e.Check(ctx, tx, before, after); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, now, e.By, e.Action, id, UserChanges(before, after)); err != nil {
			return err
		}
		out = after
		return nil
	})
	if err != nil {
		return storage.User{}, err
	}
	if mailed {
		s.queued()
	}
	return out, nil
}

// DisableUser stops user id from signing in: in one transaction the user
// is disabled, every session, refresh token and access token of theirs
// revoked, every open link voided and the change audited as by's.
// Disabling a disabled user changes nothing.
func (s *Service) DisableUser(ctx context.Context, id string, by Actor) (storage.User, error) {
	u, err := s.EditUser(ctx, id, Edit{By: by, Action: "user.disable", Apply: func(u *storage.User) error {
		if u.Status == storage.StatusDisabled {
			return ErrUnchanged
		}
		u.Status = storage.StatusDisabled
		return nil
	}})
	if err != nil {
		return storage.User{}, err
	}
	s.log().InfoContext(ctx, "user disabled", "user", u)
	return u, nil
}
