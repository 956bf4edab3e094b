package adminapi

import (
	"context"
	"slices"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// errUnchanged: a change found nothing to change; nothing is written, not
// even an audit entry. For users it is account.ErrUnchanged, which
// account.EditUser honours.
var errUnchanged = account.ErrUnchanged

// userChange is one change to a user record of a section.
type userChange struct {
	s      *section
	id     string
	perm   api.Permission
	pre    precondition
	action string
	// apply changes u (the current record, already checked to be of the
	// section and within the caller's reach); errUnchanged when there is
	// nothing to do.
	apply func(u *storage.User) error
}

// changeUser runs ch through account.EditUser, the one writer of users:
// in one transaction the record is read, authorized against, its version
// checked, changed, self lock-outs refused, written, one active super
// admin kept — and what the change entails (revoked grants and voided
// links when the email changes or the user is disabled, the notice to an
// old address) and the audit entry, with the caller as actor, commit with
// it. Nothing is written unless all of it succeeds.
func (h *Handler) changeUser(ctx context.Context, c *call, ch userChange) (storage.User, error) {
	return h.d.Accounts.EditUser(ctx, ch.id, account.Edit{
		By: c.by(), Action: ch.action,
		Apply: func(u *storage.User) error {
			before := *u
			before.Roles = slices.Clone(u.Roles)
			if err := h.reach(c, ch.s, ch.perm, *u); err != nil {
				return err
			}
			if err := ch.pre.check(u.Version); err != nil {
				return err
			}
			if err := ch.apply(u); err != nil {
				return err
			}
			if d := authz.CheckSelf(c.actor, before, *u); d != nil {
				return d
			}
			return nil
		},
		Check: func(ctx context.Context, tx storage.Storage, before, after storage.User) error {
			if authz.LosesSuperAdmin(before, after) {
				return h.keepSuperAdmin(ctx, tx)
			}
			return nil
		},
	})
}

// by is the caller as the account package records an actor.
func (c *call) by() account.Actor { return account.Actor{ID: c.actor.ID, Source: c.source} }

// reach checks that u belongs to section s (else: not found, as if the id
// were unknown under this path) and that the caller may use perm on u.
func (h *Handler) reach(c *call, s *section, perm api.Permission, u storage.User) error {
	if u.Type != s.typ {
		return apiErr(api.CodeNotFound, msgNotFound)
	}
	if d := authz.Can(c.actor, perm, &u); d != nil {
		return d
	}
	return nil
}

// superAdminGuard is a throttle key used as a lock: every change that
// takes an active super admin away first writes its row, so such changes
// run one at a time and each counts the super admins the previous one
// left (PostgreSQL runs transactions at READ COMMITTED; SQLite runs
// writers one at a time anyway). The row is deleted again before commit.
const superAdminGuard = "adminapi:last-super-admin-guard"

// keepSuperAdmin refuses the transaction's change when it leaves no
// active super admin.
func (h *Handler) keepSuperAdmin(ctx context.Context, tx storage.Storage) error {
	now := h.d.Now()
	if _, err := tx.RecordFailure(ctx, superAdminGuard, storage.Failure{Now: now, ResetBefore: now}); err != nil {
		return err
	}
	left, _, err := tx.ListUsers(ctx, storage.UserQuery{Role: storage.RoleSuperAdmin, Status: storage.StatusActive, Limit: 1})
	if err != nil {
		return err
	}
	if len(left) == 0 {
		return apiErr(api.CodeLastSuperAdmin, "this would leave no active super admin; make someone else super admin first")
	}
	return tx.ResetThrottle(ctx, superAdminGuard)
}
