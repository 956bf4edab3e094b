package login

import (
	"net/http"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// showDirectLogin answers GET /login without an authorization request,
// once the account pages are mounted: the sign-in form that leads to the
// account page, or the account page at once for a browser signed in.
func (h *Handler) showDirectLogin(w http.ResponseWriter, r *http.Request) {
	if s, ok := h.d.Sessions.Current(r); ok {
		u, err := h.d.Store.GetUser(r.Context(), s.UserID)
		if err == nil && u.Status == storage.StatusActive {
			http.Redirect(w, r, "/account", http.StatusSeeOther)
			return
		}
	}
	h.render(w, r, http.StatusOK, pageLogin, loginForm{Title: titleSignIn})
}

// submitDirectLogin answers POST /login without an authorization request:
// sign in, start the browser session and go to the account page.
func (h *Handler) submitDirectLogin(w http.ResponseWriter, r *http.Request) {
	form := loginForm{Title: titleSignIn, Email: strings.TrimSpace(r.PostForm.Get("email"))}
	user, ok := h.authenticate(w, r, &form)
	if !ok || h.startSecondStep(w, r, user, "", false) {
		return
	}
	if _, err := h.d.Sessions.Replace(r.Context(), w, r, user.ID, amrPassword); err != nil {
		h.internalError(w, r, "starting session", err)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}
