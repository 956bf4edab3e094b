package login

import (
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// showLogin answers GET /login?authRequestID=…: single sign-on with the
// browser's session when the request allows it, login_required for
// prompt=none, else the form.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("authRequestID") == "" && h.acct != nil {
		h.showDirectLogin(w, r)
		return
	}
	req, client, ok := h.loadRequest(w, r, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	if h.trySSO(w, r, req, client) {
		return
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		h.d.Fail(w, r, req, oidc.ErrLoginRequired())
		return
	}
	h.render(w, r, http.StatusOK, pageLogin, newLoginForm(req, client, req.LoginHint))
}

// trySSO completes req with the browser's current session when there is
// one, prompt does not ask for a new sign-in and the sign-in is not older
// than max_age. It reports whether it has answered the request.
func (h *Handler) trySSO(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) bool {
	if slices.Contains(req.Prompt, oidc.PromptLogin) {
		return false
	}
	s, ok := h.d.Sessions.Current(r)
	if !ok {
		return false
	}
	if req.MaxAge != nil && h.d.Now().Sub(s.AuthTime) > *req.MaxAge {
		return false
	}
	if req.HintSubject != "" && req.HintSubject != s.UserID {
		// The client asked about another user (id_token_hint) than the one
		// signed in here: OIDC Core 3.1.2.6 wants login_required, never a
		// silent switch of accounts.
		return false
	}
	ctx := r.Context()
	u, err := h.d.Store.GetUser(ctx, s.UserID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false
	case err != nil:
		h.internalError(w, r, "loading session user", err)
		return true
	case u.Status != storage.StatusActive:
		h.log.InfoContext(ctx, "login: session of a user who may not sign in ignored", "user", u)
		return false
	case !client.Admits(u):
		h.log.InfoContext(ctx, "login: client does not admit user", "client", client, "user", u)
		h.d.Fail(w, r, req, oidc.ErrAccessDenied())
		return true
	}
	h.complete(w, r, req, s, http.StatusFound)
	return true
}
