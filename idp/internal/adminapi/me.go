package adminapi

import (
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/authz"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// me answers GET /me: the caller's record, effective permissions and the
// roles they may assign. Users without a role have no access to the admin
// API at all, this route included.
func (h *Handler) me(w http.ResponseWriter, r *http.Request, c *call) {
	perms := authz.Permissions(c.actor.Roles)
	if len(perms) == 0 {
		h.fail(w, r, apiErr(api.CodeForbidden, "your account has no role with access to the admin API"))
		return
	}
	self, err := h.apiUser(r.Context(), c.actor)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setETag(w, c.actor.Version)
	writeJSON(w, http.StatusOK, api.Me{
		User:            self,
		Permissions:     perms.List(),
		AssignableRoles: toAPIRoles(authz.Assignable(c.actor)),
	})
}
