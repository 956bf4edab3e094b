package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/session"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// sessionServes reports whether browser session s may answer a request of
// client c by single sign-on. A session answers only clients of the
// method it was signed in with:
//
//   - a phone client only a session signed in by phone (number and PIN):
//     a clinician's phone change ends those (storage.RevokeMobileGrants),
//     and it must end the mobile sign-ins with them, which it could not
//     if an email session could sign the app in again;
//   - an email client only a session signed in by email and password: a
//     PIN is a short secret guarded by a lock, not a password, and
//     sign-ins it gave to web modules would outlive the phone change that
//     ends the PIN's sessions.
func sessionServes(s storage.Session, c storage.Client) bool {
	if c.PhoneSignIn() {
		return s.SignInMethod == storage.SignInPhone
	}
	return s.SignInMethod != storage.SignInPhone
}

// signInForm shows the form that signs in to client: number and PIN for a
// phone client, email and password otherwise.
func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) {
	if client.PhoneSignIn() {
		h.phoneSignInForm(w, r, req, client)
		return
	}
	h.render(w, r, http.StatusOK, pageLogin, newLoginForm(req, client, req.LoginHint))
}

// phoneSignInForm shows the number and PIN form, the number prefilled
// from login_hint when that is one.
func (h *Handler) phoneSignInForm(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) {
	if h.refuseStepUp(w, r, req, client) {
		return
	}
	if h.mobile == nil {
		h.RenderError(w, r, http.StatusServiceUnavailable, titleProblem, msgPhoneNoService)
		return
	}
	hint := ""
	if n, err := account.NormalizePhone(strings.TrimSpace(req.LoginHint)); err == nil {
		hint = n // login_hint prefills the number when it is one
	}
	h.render(w, r, http.StatusOK, pagePhoneLogin, newPhoneForm(req, client, hint))
}

// phoneForm is the data of the phone sign-in page.
type phoneForm struct {
	Title         string
	ClientName    string
	AuthRequestID string
	FormError     string // wrong number or PIN, locked
	Phone         field
	PIN           field
}

func newPhoneForm(req storage.AuthRequest, c storage.Client, phone string) phoneForm {
	f := phoneForm{
		Title: titleSignIn, ClientName: c.Name, AuthRequestID: req.ID,
		Phone: phoneField("phone", labelPhone, phone),
		PIN:   pinField("pin", "pin", labelPIN, "current-password"),
	}
	focusFirstError(&f.Phone, &f.PIN)
	return f
}

// fail shows msg for the whole form.
func (f *phoneForm) fail(msg string) {
	f.FormError, f.Title = msg, titleSignInError
	f.Phone.Autofocus, f.PIN.Autofocus = false, true
}

// refuseEmailSignIn answers an email and password posted for a phone
// client's request: nobody signs in to it that way. The phone form again.
func (h *Handler) refuseEmailSignIn(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) {
	h.log.InfoContext(r.Context(), "login: email sign-in for a phone client refused", "client", client)
	if h.mobile == nil {
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgPhoneOnly)
		return
	}
	f := newPhoneForm(req, client, "")
	f.fail(msgPhoneOnly)
	h.render(w, r, http.StatusBadRequest, pagePhoneLogin, f)
}

// phoneRequest is loadRequest for the phone pages: the request must be a
// phone client's (an email client's users never sign in by PIN, which is
// weaker than their password). It has answered when it reports false.
func (h *Handler) phoneRequest(w http.ResponseWriter, r *http.Request, id string) (storage.AuthRequest, storage.Client, bool) {
	req, client, ok := h.loadRequest(w, r, id)
	if !ok {
		return req, client, false
	}
	if !client.PhoneSignIn() {
		h.log.WarnContext(r.Context(), "login: phone sign-in page used for an email client", "client", client)
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgNotPhoneClient)
		return req, client, false
	}
	if h.refuseStepUp(w, r, req, client) {
		return req, client, false
	}
	return req, client, true
}

// refuseStepUp answers a phone client's request that asks for two factors
// (acr_values=mfa, or a client that requires them, which registration
// refuses for phone clients) with access_denied: number and PIN are the
// whole sign-in, so phone sign-in never reports acr=mfa, and the
// authenticator app's second step belongs to password sign-ins. It
// reports whether it has answered.
func (h *Handler) refuseStepUp(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) bool {
	if !wantsMFA(client, req) {
		return false
	}
	h.log.InfoContext(r.Context(), "login: two factors asked of a phone client; refused", "client", client)
	h.d.Fail(w, r, req, oidc.ErrAccessDenied().WithDescription("two-step sign-in is not available with a mobile number and PIN"))
	return true
}

// parseSignInForm reads a sign-in form's small body; on failure it has
// answered.
func (h *Handler) parseSignInForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.log.InfoContext(r.Context(), "login: unreadable form", "path", r.URL.Path, "err", err)
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgBadForm)
		return false
	}
	return true
}

// submitPhoneLogin answers POST /login/phone: number and PIN, then the
// browser session (signed in by phone) and the request completes with amr
// ["pin"]. An unknown number, a number without a PIN and a wrong PIN get
// the same answer, after the same work (account.AuthenticatePIN).
func (h *Handler) submitPhoneLogin(w http.ResponseWriter, r *http.Request) {
	if !h.parseSignInForm(w, r) {
		return
	}
	req, client, ok := h.phoneRequest(w, r, r.PostForm.Get("authRequestID"))
	if !ok {
		return
	}
	form := newPhoneForm(req, client, strings.TrimSpace(r.PostForm.Get("phone")))
	pinText := r.PostForm.Get("pin")
	if form.Phone.Value == "" {
		form.Phone.Error = msgPhoneMissing
	}
	if pinText == "" {
		form.PIN.Error = msgPINEmpty
	}
	if form.Phone.Error != "" || form.PIN.Error != "" {
		form.Title = titleSignInError
		form.Phone.Autofocus, form.PIN.Autofocus = false, false
		focusFirstError(&form.Phone, &form.PIN)
		h.render(w, r, http.StatusBadRequest, pagePhoneLogin, form)
		return
	}
	u, err := h.mobile.AuthenticatePIN(r.Context(), form.Phone.Value, pinText, sourceAddr(r))
	var fe *account.FieldError
	var locked *signin.LockedError
	switch {
	case errors.As(err, &fe):
		form.Title, form.Phone.Error = titleSignInError, msgPhoneBad
		form.Phone.Autofocus, form.PIN.Autofocus = true, false
		h.render(w, r, http.StatusBadRequest, pagePhoneLogin, form)
	case errors.Is(err, signin.ErrInvalidCredentials):
		form.fail(msgPhoneInvalid)
		h.render(w, r, http.StatusUnauthorized, pagePhoneLogin, form)
	case errors.As(err, &locked):
		form.fail(lockedMessage(locked))
		setRetryAfter(w, locked.RetryAfter)
		h.render(w, r, http.StatusTooManyRequests, pagePhoneLogin, form)
	case err != nil:
		h.internalError(w, r, "PIN sign-in", err)
	default:
		h.phoneSignedIn(w, r, req, client, u, account.AMRPIN())
	}
}

// phoneSignedIn starts the browser session of u, signed in by phone with
// amr on this browser's device, and completes req (access_denied when the
// client does not admit u).
func (h *Handler) phoneSignedIn(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client, u storage.User, amr []string) {
	ctx := r.Context()
	s, err := h.d.Sessions.Replace(ctx, w, r, u.ID, amr, session.ByPhone(session.Device(r.UserAgent())))
	if err != nil {
		h.internalError(w, r, "starting phone session", err)
		return
	}
	if !client.Admits(u) {
		h.log.InfoContext(ctx, "login: client does not admit user", "client", client, "user", u)
		h.d.Fail(w, r, req, oidc.ErrAccessDenied())
		return
	}
	h.complete(w, r, req, s, http.StatusSeeOther)
}
