package login

import (
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/storage"
	adminapi "github.com/cliniconnects/identity/shared/adminapi"
)

// continuePage is the data of the "Continue as" page.
type continuePage struct {
	Title         string
	AuthRequestID string
	ClientName    string
	Name          string
	Email         string
	Admin         bool // the request asks for the admin API
}

func newContinuePage(req storage.AuthRequest, c storage.Client, u storage.User) continuePage {
	return continuePage{
		Title: titleContinue, AuthRequestID: req.ID, ClientName: c.Name,
		Name: u.Name(), Email: u.Email, Admin: slices.Contains(req.Scopes, adminapi.Scope),
	}
}

// submitContinue answers POST /login/continue, the "Continue as" button:
// the same checks as single sign-on, against the session the browser has
// now, then the request completes. The form is CSRF-protected and the
// request bound to this browser (loadRequest), so only the user's own
// click in the browser that started the sign-in gets here.
func (h *Handler) submitContinue(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.log.InfoContext(r.Context(), "login: unreadable form", "err", err)
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgBadForm)
		return
	}
	req, client, ok := h.loadRequest(w, r, r.PostForm.Get("authRequestID"))
	if !ok {
		return
	}
	s, u, ok, err := h.ssoSession(r, req, client)
	switch {
	case err != nil:
		h.internalError(w, r, "loading session user", err)
	case !ok:
		// Signed out (or out of max_age) meanwhile: sign in again.
		h.signInForm(w, r, req, client)
	case !client.Admits(u):
		h.d.Fail(w, r, req, oidc.ErrAccessDenied())
	default:
		h.complete(w, r, req, s, http.StatusSeeOther)
	}
}
