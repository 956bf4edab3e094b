package adminapi

import (
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// passwordReset answers POST /{section}/{id}/password-reset: emails an
// active user a reset link (account.SendPasswordReset).
func (u userHandlers) passwordReset(w http.ResponseWriter, r *http.Request, c *call) {
	u.notify(w, r, c, func(id string, allow func(storage.User) error) error {
		return u.h.d.Accounts.SendPasswordReset(r.Context(), id, c.by(), u.s.actReset, func(usr storage.User) error {
			if err := allow(usr); err != nil {
				return err
			}
			switch usr.Status {
			case storage.StatusInvited:
				return apiErr(api.CodeInvalidState, "the user has not accepted the invitation yet; re-send the invitation instead")
			case storage.StatusDisabled:
				return apiErr(api.CodeInvalidState, "the user is disabled; enable them first")
			}
			return nil
		})
	})
}

// invitation answers POST /{section}/{id}/invitation: a new invitation to
// a user who has not accepted one; the older links stop working
// (account.SendInvitation).
func (u userHandlers) invitation(w http.ResponseWriter, r *http.Request, c *call) {
	u.notify(w, r, c, func(id string, allow func(storage.User) error) error {
		return u.h.d.Accounts.SendInvitation(r.Context(), id, c.by(), u.s.actInvite, func(usr storage.User) error {
			if err := allow(usr); err != nil {
				return err
			}
			if usr.Status != storage.StatusInvited {
				return apiErr(api.CodeInvalidState, "the user has already accepted an invitation; send a password reset instead")
			}
			return nil
		})
	})
}

// notify reads the optional (empty) body and runs send for the user of
// the path, whom allow checks is of the section and within the caller's
// reach, on the record as read in send's transaction.
func (u userHandlers) notify(w http.ResponseWriter, r *http.Request, c *call,
	send func(id string, allow func(storage.User) error) error) {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		u.h.fail(w, r, err)
		return
	}
	err := send(r.PathValue("id"), func(usr storage.User) error { return u.h.reach(c, u.s, u.s.notify, usr) })
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
