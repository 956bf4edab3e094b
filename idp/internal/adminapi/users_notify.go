package adminapi

import (
	"context"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// passwordReset answers POST /{section}/{id}/password-reset: emails an
// active user a reset link.
func (u userHandlers) passwordReset(w http.ResponseWriter, r *http.Request, c *call) {
	u.notify(w, r, c, u.s.actReset, func(ctx context.Context, tx storage.Storage, usr storage.User) error {
		switch usr.Status {
		case storage.StatusInvited:
			return apiErr(api.CodeInvalidState, "the user has not accepted the invitation yet; re-send the invitation instead")
		case storage.StatusDisabled:
			return apiErr(api.CodeInvalidState, "the user is disabled; enable them first")
		}
		return u.h.mailer().SendPasswordReset(ctx, tx, usr)
	})
}

// invitation answers POST /{section}/{id}/invitation: a new invitation to
// a user who has not accepted one; the older links stop working.
func (u userHandlers) invitation(w http.ResponseWriter, r *http.Request, c *call) {
	u.notify(w, r, c, u.s.actInvite, func(ctx context.Context, tx storage.Storage, usr storage.User) error {
		if usr.Status != storage.StatusInvited {
			return apiErr(api.CodeInvalidState, "the user has already accepted an invitation; send a password reset instead")
		}
		return u.h.mailer().SendInvitation(ctx, tx, usr)
	})
}

// notify runs send for the user in a transaction with the audit entry.
func (u userHandlers) notify(w http.ResponseWriter, r *http.Request, c *call, action string,
	send func(ctx context.Context, tx storage.Storage, usr storage.User) error) {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		u.h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	err := u.h.d.Store.InTx(ctx, func(tx storage.Storage) error {
		usr, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if err := u.h.reach(c, u.s, u.s.notify, usr); err != nil {
			return err
		}
		if err := send(ctx, tx, usr); err != nil {
			return err
		}
		return c.audit(ctx, tx, u.h.d.Now(), action, targetTypeUser, id, nil)
	})
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	u.h.mailer().Queued()
	w.WriteHeader(http.StatusNoContent)
}
