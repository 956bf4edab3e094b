package login

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// maxFormBytes bounds the sign-in form's body.
const maxFormBytes = 64 << 10

// amrPassword is the authentication method reference of a password
// sign-in (RFC 8176).
var amrPassword = []string{"pwd"}

// submitLogin answers POST /login: authenticate, start the browser session,
// complete the auth request and send the browser to the callback.
//
// A user who authenticates but whom the client does not admit still gets
// an SSO session (they did prove who they are, and other modules may admit
// them), while this client gets access_denied.
func (h *Handler) submitLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.log.InfoContext(r.Context(), "login: unreadable form", "err", err)
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgBadForm)
		return
	}
	if r.PostForm.Get("authRequestID") == "" && h.acct != nil {
		h.submitDirectLogin(w, r)
		return
	}
	req, client, ok := h.loadRequest(w, r, r.PostForm.Get("authRequestID"))
	if !ok {
		return
	}
	if client.PhoneSignIn() {
		h.refuseEmailSignIn(w, r, req, client) // number and PIN only
		return
	}
	form := newLoginForm(req, client, strings.TrimSpace(r.PostForm.Get("email")))
	user, ok := h.authenticate(w, r, &form)
	if !ok || h.startSecondStep(w, r, user, req.ID, wantsMFA(client, req)) {
		return
	}

	ctx := r.Context()
	s, err := h.d.Sessions.Replace(ctx, w, r, user.ID, amrPassword)
	if err != nil {
		h.internalError(w, r, "starting session", err)
		return
	}
	if !client.Admits(user) {
		h.log.InfoContext(ctx, "login: client does not admit user", "client", client, "user", user)
		h.d.Fail(w, r, req, oidc.ErrAccessDenied())
		return
	}
	h.complete(w, r, req, s, http.StatusSeeOther)
}

// authenticate checks the form's email and password. When they do not
// sign in, it has answered with the form and its error and reports false.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, form *loginForm) (storage.User, bool) {
	pw := r.PostForm.Get("password")
	if !form.checkFilled(pw) {
		h.render(w, r, http.StatusBadRequest, pageLogin, *form)
		return storage.User{}, false
	}
	user, err := h.d.Signin.Authenticate(r.Context(), form.Email, pw, sourceAddr(r), h.d.Signin.DeviceCookie(r))
	var locked *signin.LockedError
	switch {
	case errors.Is(err, signin.ErrInvalidCredentials):
		form.fail(msgInvalid)
		h.render(w, r, http.StatusUnauthorized, pageLogin, *form)
		return storage.User{}, false
	case errors.As(err, &locked):
		form.fail(lockedMessage(locked))
		setRetryAfter(w, locked.RetryAfter)
		h.render(w, r, http.StatusTooManyRequests, pageLogin, *form)
		return storage.User{}, false
	case err != nil:
		h.internalError(w, r, "authenticating", err)
		return storage.User{}, false
	}
	h.d.Signin.RememberDevice(w, user) // this browser is now trusted for user (device cookie)
	return user, true
}

func lockedMessage(e *signin.LockedError) string {
	if n := e.Minutes(); n > 1 {
		return fmt.Sprintf(msgLocked, n)
	}
	return msgLocked1
}

// sourceAddr is the client's IP address for per-source throttling. It is
// the connection's peer, which the server rewrites from X-Forwarded-For
// only for peers listed in IDP_TRUSTED_PROXIES.
func sourceAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
