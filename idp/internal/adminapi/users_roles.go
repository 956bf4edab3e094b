package adminapi

import (
	"net/http"
	"slices"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// setRoles answers PUT /{section}/{id}/roles: replaces the roles, guarded
// by the version. Every role granted or revoked must be one the caller may
// assign; the last active super admin keeps theirs.
func (u userHandlers) setRoles(w http.ResponseWriter, r *http.Request, c *call) {
	var in api.RolesUpdate
	err := decode(w, r, &in)
	if err == nil && in.Roles == nil {
		err = fieldsErr(api.CodeValidation, msgValidation, map[string]string{"roles": "is required ([] for none)"})
	}
	if err == nil {
		f := fieldErrors{}
		f.roles(in.Roles)
		err = f.err()
	}
	var pre precondition
	if err == nil {
		pre, err = readPrecondition(r, in.Version)
	}
	if err == nil {
		err = pre.require()
	}
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	roles := fromAPIRoles(in.Roles)
	out, err := u.h.changeUser(r.Context(), c, userChange{
		s: u.s, id: r.PathValue("id"), perm: u.s.roles, pre: pre, action: u.s.actSetRoles,
		apply: func(usr *storage.User) error {
			if d := authz.CanAssign(c.actor, usr.Roles, roles); d != nil {
				return d
			}
			next := slices.Compact(slices.Sorted(slices.Values(roles)))
			if slices.Equal(next, slices.Sorted(slices.Values(usr.Roles))) {
				return errUnchanged
			}
			usr.Roles = next
			return nil
		},
	})
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	u.respond(w, r, http.StatusOK, out)
}
