package adminapi

import (
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// actionBody is the optional body of the action routes.
type actionBody struct {
	Version int64 `json:"version,omitempty"`
}

// actionPrecondition reads the optional body and If-Match of an action.
func actionPrecondition(w http.ResponseWriter, r *http.Request) (precondition, error) {
	var in actionBody
	if err := decodeOptional(w, r, &in); err != nil {
		return precondition{}, err
	}
	return readPrecondition(r, in.Version)
}

// disable answers POST /{section}/{id}/disable: the user can no longer
// sign in, and every session, refresh token and access token they hold is
// revoked and every open link voided in the same transaction (account
// sees to that). Disabling a disabled user changes nothing.
func (u userHandlers) disable(w http.ResponseWriter, r *http.Request, c *call) {
	pre, err := actionPrecondition(w, r)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	out, err := u.h.changeUser(r.Context(), c, userChange{
		s: u.s, id: r.PathValue("id"), perm: u.s.status, pre: pre, action: u.s.actDisable,
		apply: func(usr *storage.User) error {
			if usr.Status == storage.StatusDisabled {
				return errUnchanged
			}
			usr.Status = storage.StatusDisabled
			return nil
		},
	})
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	u.respond(w, r, http.StatusOK, out)
}

// enable answers POST /{section}/{id}/enable: a disabled user becomes
// active again, or invited when they never set a password.
func (u userHandlers) enable(w http.ResponseWriter, r *http.Request, c *call) {
	pre, err := actionPrecondition(w, r)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	out, err := u.h.changeUser(r.Context(), c, userChange{
		s: u.s, id: r.PathValue("id"), perm: u.s.status, pre: pre, action: u.s.actEnable,
		apply: func(usr *storage.User) error {
			if usr.Status != storage.StatusDisabled {
				return errUnchanged
			}
			usr.Status = storage.StatusActive
			if usr.PasswordHash == "" {
				usr.Status = storage.StatusInvited
			}
			return nil
		},
	})
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	u.respond(w, r, http.StatusOK, out)
}
