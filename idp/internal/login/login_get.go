package login

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/storage"
	adminapi "github.com/cliniconnects/identity/shared/adminapi"
)

// showLogin answers GET /login?authRequestID=…: single sign-on with the
// browser's session when the request allows it, login_required for
// prompt=none, else the form. switch=1 (the "use another account" link)
// skips single sign-on.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("authRequestID") == "" && h.acct != nil {
		h.showDirectLogin(w, r)
		return
	}
	req, client, ok := h.loadRequest(w, r, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	if r.URL.Query().Get("switch") == "" && h.trySSO(w, r, req, client) {
		return
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		h.d.Fail(w, r, req, oidc.ErrLoginRequired())
		return
	}
	h.signInForm(w, r, req, client)
}

// trySSO answers req with the browser's session when ssoSession finds one
// that may answer it: at once for a client this session has used before,
// after a "Continue as" page otherwise. It reports whether it has answered
// the request.
func (h *Handler) trySSO(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) bool {
	ctx := r.Context()
	s, u, ok, err := h.ssoSession(r, req, client)
	switch {
	case err != nil:
		h.internalError(w, r, "loading session user", err)
		return true
	case !ok:
		return false
	case !client.Admits(u):
		h.log.InfoContext(ctx, "login: client does not admit user", "client", client, "user", u)
		h.d.Fail(w, r, req, oidc.ErrAccessDenied())
		return true
	}
	ask, err := h.mustConfirm(ctx, s, req)
	switch {
	case err != nil:
		h.internalError(w, r, "loading session clients", err)
	case ask && slices.Contains(req.Prompt, oidc.PromptNone):
		// prompt=none never shows a page (OIDC Core 3.1.2.6).
		h.d.Fail(w, r, req, errConsentRequired())
	case ask:
		h.render(w, r, http.StatusOK, pageContinue, newContinuePage(req, client, u))
	default:
		h.complete(w, r, req, s, http.StatusFound)
	}
	return true
}

// ssoSession returns the browser's session and its user when they may
// answer req of client without a password: a valid session, prompt not
// asking for a new sign-in, the sign-in not older than max_age, the user
// of an id_token_hint (if any) and active, a session of the client's
// sign-in method (sessionServes) — unless the client does not admit the
// user at all, which the caller answers with access_denied — and two
// factors behind the session when the user, the client or the request
// needs them. ok is false when they may not.
func (h *Handler) ssoSession(r *http.Request, req storage.AuthRequest, client storage.Client) (s storage.Session, u storage.User, ok bool, err error) {
	if slices.Contains(req.Prompt, oidc.PromptLogin) {
		return s, u, false, nil
	}
	s, ok = h.d.Sessions.Current(r)
	if !ok {
		return s, u, false, nil
	}
	if req.MaxAge != nil && h.d.Now().Sub(s.AuthTime) > *req.MaxAge {
		return s, u, false, nil
	}
	if req.HintSubject != "" && req.HintSubject != s.UserID {
		// The client asked about another user (id_token_hint) than the one
		// signed in here: OIDC Core 3.1.2.6 wants login_required, never a
		// silent switch of accounts.
		return s, u, false, nil
	}
	ctx := r.Context()
	u, err = h.d.Store.GetUser(ctx, s.UserID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s, u, false, nil
	case err != nil:
		return s, u, false, err
	case u.Status != storage.StatusActive:
		h.log.InfoContext(ctx, "login: session of a user who may not sign in ignored", "user", u)
		return s, u, false, nil
	case client.Admits(u) && !sessionServes(s, client):
		return s, u, false, nil
	}
	if !sessionHasMFA(s) {
		// A session signed in with the password alone does not stand for a
		// user who now has an app or whose role requires one.
		enabled, required, err := h.needsMFA(ctx, u, wantsMFA(client, req))
		if err != nil || enabled || required {
			return s, u, false, err
		}
	}
	return s, u, true, nil
}

// mustConfirm reports whether single sign-on into req needs the user's
// click: for a client this browser session has never signed in to, and
// for every request for the admin API. Without it, a page that sends a
// signed-in browser to /authorize would sign the user in to something
// they did not choose.
func (h *Handler) mustConfirm(ctx context.Context, s storage.Session, req storage.AuthRequest) (bool, error) {
	if slices.Contains(req.Scopes, adminapi.Scope) {
		return true, nil
	}
	used, err := h.d.Store.SessionHasClient(ctx, s.IDHash, req.ClientID)
	return !used, err
}

// errConsentRequired is OIDC's consent_required (zitadel/oidc has no
// constructor for it).
func errConsentRequired() *oidc.Error {
	return (&oidc.Error{ErrorType: "consent_required"}).WithDescription("the user must confirm this sign-in")
}
