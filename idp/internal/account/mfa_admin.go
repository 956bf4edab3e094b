package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// ResetTx removes u's second factor (the app and its recovery codes) in
// tx, ends every session and token of u (RevokeUserGrants: whoever holds
// the lost phone may hold a signed-in browser or app too, and the user's
// next sign-in sets a factor up again where their role requires one) and
// queues the notice email to u: an administrator's reset, for a user who
// lost their phone. It checks nothing about who asks and writes
// no audit entry: the caller (Reset, the admin API) does both in the same
// transaction, and calls Queued's hook after the commit.
// ErrMFANotEnabled when u has no confirmed app; nothing changes.
func (m *MFA) ResetTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	t, err := tx.GetTOTP(ctx, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ErrMFANotEnabled
	case err != nil:
		return fmt.Errorf("account: reading TOTP: %w", err)
	case !t.Confirmed():
		return ErrMFANotEnabled
	}
	notice, err := m.render(message{kind: notify.KindMFAReset, to: u.Email, data: notify.Data{Name: u.Name()}})
	if err != nil {
		return err
	}
	if err := tx.DeleteMFA(ctx, u.ID); err != nil {
		return fmt.Errorf("account: deleting second factor: %w", err)
	}
	if err := tx.RevokeUserGrants(ctx, u.ID, m.now()); err != nil {
		return fmt.Errorf("account: ending the user's sessions: %w", err)
	}
	return m.enqueue(ctx, tx, notice)
}

// MFAPermission is the admin permission that covers resetting the second
// factor of a user of type t.
func MFAPermission(t storage.UserType) api.Permission {
	if t == storage.UserTypeClinician {
		return api.PermCliniciansMFA
	}
	return api.PermEmployeesMFA
}

// Reset removes the second factor of userID on behalf of actor: an admin
// for a user ranking below them, a super admin for anyone (authz.Can with
// MFAPermission; ErrNotAllowed otherwise). A nil actor is the operator at
// the command line. The reset is audited (ActionMFAReset, with the actor
// and source) and the user emailed, in one transaction.
// storage.ErrNotFound for an unknown user, ErrMFANotEnabled.
func (m *MFA) Reset(ctx context.Context, actor *storage.User, userID, source string) error {
	actorID := ""
	if actor != nil {
		actorID = actor.ID
	}
	var u storage.User
	err := m.Store.InTx(ctx, func(tx storage.Storage) error {
		var err error
		if u, err = tx.GetUser(ctx, userID); err != nil {
			return err
		}
		if actor != nil {
			if d := authz.Can(*actor, MFAPermission(u.Type), &u); d != nil {
				return fmt.Errorf("%w: %s", ErrNotAllowed, d.Reason)
			}
		}
		if err := m.ResetTx(ctx, tx, u); err != nil {
			return err
		}
		return auditMFA(ctx, tx, m.now(), actorID, ActionMFAReset, u.ID, source, nil)
	})
	if err != nil {
		return err
	}
	m.queued()
	m.log().InfoContext(ctx, "second factor reset", "user", u.ID, "actor", actorID)
	return nil
}
