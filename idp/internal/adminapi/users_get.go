package adminapi

import (
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// get answers GET /{section}/{id} with the record and its ETag.
func (u userHandlers) get(w http.ResponseWriter, r *http.Request, c *call) {
	usr, err := u.h.d.Store.GetUser(r.Context(), r.PathValue("id"))
	if err == nil {
		err = u.h.reach(c, u.s, u.s.read, usr)
	}
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	u.respond(w, http.StatusOK, usr)
}

// respond writes a user record with its ETag.
func (u userHandlers) respond(w http.ResponseWriter, status int, usr storage.User) {
	setETag(w, usr.Version)
	writeJSON(w, status, toAPIUser(usr))
}
