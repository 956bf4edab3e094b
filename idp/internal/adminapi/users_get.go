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
	u.respond(w, r, http.StatusOK, usr)
}

// respond writes a user record, with the state of its second factor, and
// its ETag.
func (u userHandlers) respond(w http.ResponseWriter, r *http.Request, status int, usr storage.User) {
	out, err := u.h.apiUser(r.Context(), usr)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	setETag(w, usr.Version)
	writeJSON(w, status, out)
}
