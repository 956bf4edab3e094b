package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The second step of a password sign-in (issue 12). A user who has an
// authenticator app is asked for a code (or a recovery code) after the
// password; a user whose role requires two factors (IDP_MFA_REQUIRED_ROLES)
// and has no app sets one up right there. No browser session exists
// between the two steps: the password step leaves a pending second step —
// a random 256-bit value in an HttpOnly cookie, stored only as its hash as
// a one-time token of the user, bound to the authorization request it
// continues (and so, through loadRequest, to the browser that started it),
// living ten minutes and used once. Revoking the user's grants (a password
// reset, disabling) voids it like any other open link of theirs.

const (
	pageMFASignIn = "login_mfa.html"

	// purposeMFAPending is the one-time token of a pending second step;
	// its Data is the authorization request id ("" for /account).
	purposeMFAPending = "mfa_pending"
	// mfaPendingTTL is how long the second step may take.
	mfaPendingTTL = 10 * time.Minute

	mfaCookieName       = "cc_mfa"
	mfaSecureCookieName = "__Host-cc_mfa"

	titleMFASignIn    = "Two-step sign-in"
	titleMFASignInErr = "Error: Two-step sign-in"
	msgMFASignInCode  = "Enter the 6-digit code from your app, or one of your recovery codes."
	msgMFASignInWrong = "That code is not right, or it was used already. Enter the code your app shows now, or an unused recovery code."
)

// amrMFA is what a session needs to have for a user who must use two
// factors (RFC 8176: "mfa").
const amrMFA = "mfa"

// mfaSignInPage is the code page of the second step.
type mfaSignInPage struct {
	Title         string
	AuthRequestID string
	FormError     string
	Code          field
}

func newMFASignInPage(authRequestID string) mfaSignInPage {
	p := mfaSignInPage{Title: titleMFASignIn, AuthRequestID: authRequestID, Code: field{
		ID: "totp-code", Name: "code", Label: "Code from your app, or a recovery code", Type: "text",
		InputMode: "numeric", Autocomplete: "one-time-code", Autofocus: true,
	}}
	return p
}

// needsMFA reports whether u signs in with two factors here: they have an
// app, or their roles require one, or want (the client or the request
// asks for two factors).
func (h *Handler) needsMFA(ctx context.Context, u storage.User, want bool) (enabled, required bool, err error) {
	if h.d.MFA == nil {
		return false, false, nil
	}
	enabled, err = h.d.MFA.Enabled(ctx, u.ID)
	return enabled, want || h.d.MFA.Required(u), err
}

// ACRMFA is the acr value that asks for (and reports) two factors.
const ACRMFA = "mfa"

// wantsMFA reports whether a sign-in for req at client needs two factors
// whatever the user: the client requires them, or the request asked for
// them with acr_values=mfa (step-up).
func wantsMFA(c storage.Client, req storage.AuthRequest) bool {
	return c.RequireMFA || slices.Contains(req.ACRValues, ACRMFA)
}

// startSecondStep runs after a right password: when u needs a second
// factor it leaves the pending step, shows the code page (or the setup for
// a user who must have an app and has none) and reports true; the caller
// then stops. authRequestID is "" for a sign-in to /account; want is
// wantsMFA of the request.
func (h *Handler) startSecondStep(w http.ResponseWriter, r *http.Request, u storage.User, authRequestID string, want bool) bool {
	ctx := r.Context()
	enabled, required, err := h.needsMFA(ctx, u, want)
	switch {
	case err != nil:
		h.internalError(w, r, "reading the second factor", err)
		return true
	case !enabled && !required:
		return false
	}
	if err := h.leavePending(w, r, u, authRequestID); err != nil {
		h.internalError(w, r, "starting the second step", err)
		return true
	}
	if enabled {
		h.render(w, r, http.StatusOK, pageMFASignIn, newMFASignInPage(authRequestID))
		return true
	}
	e, err := h.d.MFA.BeginEnrollment(ctx, u.ID)
	if err != nil {
		h.internalError(w, r, "beginning a required setup", err)
		return true
	}
	h.render(w, r, http.StatusOK, pageMFASetup, h.signInSetupPage(e, authRequestID))
	return true
}

// signInSetupPage is the setup form of a sign-in that requires an app.
func (h *Handler) signInSetupPage(e account.Enrollment, authRequestID string) mfaSetupPage {
	p := newMFASetupPage(e)
	p.Action, p.QR = "/login/mfa/setup", "/login/mfa/qr.png?authRequestID="+url.QueryEscape(authRequestID)
	p.Cancel = pageLink{URL: "/logged-out", Label: "Cancel"}
	p.Hidden = []hiddenField{{"authRequestID", authRequestID}}
	return p
}

// leavePending stores a pending second step for u and gives the browser
// its cookie.
func (h *Handler) leavePending(w http.ResponseWriter, r *http.Request, u storage.User, authRequestID string) error {
	buf := make([]byte, 32)
	_, _ = rand.Read(buf)
	raw := base64.RawURLEncoding.EncodeToString(buf)
	now := h.d.Now()
	err := h.d.Store.CreateOneTimeToken(r.Context(), storage.OneTimeToken{
		Hash: pendingHash(raw), UserID: u.ID, Purpose: purposeMFAPending, Data: authRequestID,
		SentTo: u.Email, CreatedAt: now, ExpiresAt: now.Add(mfaPendingTTL),
	})
	if err != nil {
		return err
	}
	http.SetCookie(w, h.mfaCookie(raw, int(mfaPendingTTL/time.Second)))
	return nil
}

func pendingHash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

func (h *Handler) mfaCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: mfaCookieName, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if h.d.Binder.Secure {
		c.Name, c.Secure = mfaSecureCookieName, true
	}
	return c
}

// pending is a second step in progress: the user and the request.
type pending struct {
	hash   string
	user   storage.User
	req    storage.AuthRequest // zero for a sign-in to /account
	client storage.Client
}

// loadPending finds the pending second step of this browser for the
// form's authRequestID. When there is none it has answered (the sign-in
// form again, or an error page) and reports false.
func (h *Handler) loadPending(w http.ResponseWriter, r *http.Request) (pending, bool) {
	ctx := r.Context()
	var p pending
	id := r.PostForm.Get("authRequestID")
	if r.Method == http.MethodGet {
		id = r.URL.Query().Get("authRequestID")
	}
	if id != "" {
		req, client, ok := h.loadRequest(w, r, id)
		if !ok {
			return p, false
		}
		p.req, p.client = req, client
	}
	name := mfaCookieName
	if h.d.Binder.Secure {
		name = mfaSecureCookieName
	}
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(32) {
		h.RefuseRequest(w, r, storage.ErrNotFound)
		return p, false
	}
	p.hash = pendingHash(c.Value)
	t, err := h.d.Store.GetOneTimeToken(ctx, p.hash)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.RefuseRequest(w, r, err)
		return p, false
	case err != nil:
		h.internalError(w, r, "loading the second step", err)
		return p, false
	case t.Purpose != purposeMFAPending || t.Data != id || !t.UsedAt.IsZero() || !t.VoidedAt.IsZero() || !h.d.Now().Before(t.ExpiresAt):
		h.RefuseRequest(w, r, storage.ErrNotFound)
		return p, false
	}
	p.user, err = h.d.Store.GetUser(ctx, t.UserID)
	switch {
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		h.internalError(w, r, "loading the second step's user", err)
		return p, false
	case err != nil || p.user.Status != storage.StatusActive || p.user.Email != t.SentTo:
		h.RefuseRequest(w, r, storage.ErrNotFound)
		return p, false
	}
	return p, true
}

// submitMFA answers POST /login/mfa: the code (or recovery code) of the
// second step.
func (h *Handler) submitMFA(w http.ResponseWriter, r *http.Request) {
	if !h.parseLoginForm(w, r) {
		return
	}
	p, ok := h.loadPending(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	page := newMFASignInPage(p.req.ID)
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		page.Title, page.Code.Error = titleMFASignInErr, msgMFASignInCode
		h.render(w, r, http.StatusBadRequest, pageMFASignIn, page)
		return
	}
	f, err := h.d.MFA.VerifySignIn(ctx, p.user, code, sourceAddr(r), h.d.Signin.DeviceCookie(r))
	var locked *signin.LockedError
	switch {
	case errors.Is(err, account.ErrWrongCode):
		page.Title, page.Code.Error = titleMFASignInErr, msgMFASignInWrong
		h.render(w, r, http.StatusUnauthorized, pageMFASignIn, page)
		return
	case errors.As(err, &locked):
		page.Title, page.FormError = titleMFASignInErr, lockedMessage(locked)
		setRetryAfter(w, locked.RetryAfter)
		h.render(w, r, http.StatusTooManyRequests, pageMFASignIn, page)
		return
	case errors.Is(err, account.ErrMFANotEnabled):
		// Reset by an admin meanwhile: start again.
		h.RefuseRequest(w, r, err)
		return
	case err != nil:
		h.internalError(w, r, "checking the second factor", err)
		return
	}
	h.finishTwoFactor(w, r, p, append(slices.Clone(amrPassword), f.AMR()...), nil)
}

// submitMFASetup answers POST /login/mfa/setup: the first code of an app
// that the user's role requires. The confirmation is the second factor
// (its code is used up by it), and the recovery codes are shown once on
// the way on.
func (h *Handler) submitMFASetup(w http.ResponseWriter, r *http.Request) {
	if !h.parseLoginForm(w, r) {
		return
	}
	p, ok := h.loadPending(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	fail := func(msg string) {
		e, err := h.d.MFA.PendingEnrollment(ctx, p.user.ID)
		if err != nil {
			h.RefuseRequest(w, r, err)
			return
		}
		page := h.signInSetupPage(e, p.req.ID)
		page.Title, page.Code.Error = titleMFASetupErr, msg
		h.render(w, r, http.StatusBadRequest, pageMFASetup, page)
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		fail(msgMFACodeMissing)
		return
	}
	codes, err := h.d.MFA.ConfirmEnrollment(ctx, p.user.ID, code, sourceAddr(r))
	switch {
	case errors.Is(err, account.ErrWrongCode):
		fail(msgMFACodeWrong)
		return
	case errors.Is(err, account.ErrNoEnrollment), errors.Is(err, account.ErrMFAEnabled), errors.Is(err, account.ErrNotActive):
		h.RefuseRequest(w, r, err)
		return
	case err != nil:
		h.internalError(w, r, "confirming a required setup", err)
		return
	}
	h.finishTwoFactor(w, r, p, append(slices.Clone(amrPassword), account.FactorTOTP.AMR()...), codes)
}

// finishTwoFactor ends the pending step and signs the user in with amr:
// the browser session starts and the request completes. With recovery
// codes (a setup just now) the codes page is shown and leads on; without,
// the browser goes on at once.
func (h *Handler) finishTwoFactor(w http.ResponseWriter, r *http.Request, p pending, amr []string, codes []string) {
	ctx := r.Context()
	if _, err := h.d.Store.UseOneTimeToken(ctx, p.hash, purposeMFAPending, h.d.Now()); err != nil {
		h.RefuseRequest(w, r, err) // used by a concurrent submit
		return
	}
	http.SetCookie(w, h.mfaCookie("", -1))
	s, err := h.d.Sessions.Replace(ctx, w, r, p.user.ID, amr)
	if err != nil {
		h.internalError(w, r, "starting session", err)
		return
	}
	next := "/account"
	if p.req.ID != "" {
		if !p.client.Admits(p.user) {
			h.d.Fail(w, r, p.req, oidc.ErrAccessDenied())
			return
		}
		if codes == nil {
			h.complete(w, r, p.req, s, http.StatusSeeOther)
			return
		}
		if err := h.completeRequest(ctx, p.req, s); err != nil {
			h.completeFailed(w, r, err)
			return
		}
		next = h.d.Callback(ctx, p.req.ID)
	}
	if codes == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, pageMFACodes, newMFACodesPage(p.user, codes, pageLink{URL: next, Label: "I have saved my recovery codes — continue"}))
}

// mfaSignInQRCode answers GET /login/mfa/qr.png?authRequestID=…: the QR
// code of the setup a sign-in requires, for the browser whose pending step
// it is.
func (h *Handler) mfaSignInQRCode(w http.ResponseWriter, r *http.Request) {
	p, ok := h.loadPending(w, r)
	if !ok {
		return
	}
	h.serveQRCode(w, r, p.user.ID)
}

// parseLoginForm reads a sign-in form's bounded body; when it cannot, it
// has answered.
func (h *Handler) parseLoginForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.log.InfoContext(r.Context(), "login: unreadable form", "err", err)
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgBadForm)
		return false
	}
	return true
}

// sessionHasMFA reports whether s was signed in with two factors.
func sessionHasMFA(s storage.Session) bool { return slices.Contains(s.AMR, amrMFA) }
