package login

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The two-step sign-in pages under /account/mfa: the state and the
// removal form, the setup (QR code, the key for typing in, the code that
// confirms it) and the recovery codes, shown once.
//
// The recovery codes are shown on the page that answers the confirming
// POST and nowhere else: the server keeps only their hashes from that
// moment, so there is no later request that could return them. The .txt
// download is a data: link on that same page, built from the codes the
// page already shows; the CSP governs fetches, not downloads, so no
// script and no extra route is needed, and nothing is kept in a session.
const (
	pageMFA      = "mfa.html"
	pageMFASetup = "mfa_setup.html"
	pageMFACodes = "mfa_codes.html"
)

// mfaPageNames are parsed with the account pages.
var mfaPageNames = []string{pageMFA, pageMFASetup, pageMFACodes, pageMFASignIn}

// mfaRoutes are the pages' routes, mounted by RegisterAccount when
// Deps.MFA is set.
func (h *Handler) mfaRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /account/mfa":          h.showMFA,
		"POST /account/mfa/setup":   h.beginMFA,
		"GET /account/mfa/setup":    h.showMFASetup,
		"GET /account/mfa/qr.png":   h.mfaQRCode,
		"POST /account/mfa/confirm": h.confirmMFA,
		"POST /account/mfa/remove":  h.removeMFA,
	}
}

// Texts of the two-step sign-in pages.
const (
	titleMFA          = "Two-step sign-in"
	titleMFAError     = "Error: Two-step sign-in"
	titleMFASetup     = "Set up an authenticator app"
	titleMFASetupErr  = "Error: Set up an authenticator app"
	titleMFACodes     = "Save your recovery codes"
	noticeMFARemoved  = "The authenticator app has been removed. Signing in now takes only your password."
	noticeMFAOn       = "Two-step sign-in is already on."
	msgMFACodeMissing = "Enter the 6-digit code from your app."
	msgMFACodeWrong   = "That code is not right. Enter the code your app shows now; each code works once."
	msgMFARemoveCode  = "Enter a code from your app, or one of your recovery codes."
	msgMFARemoveWrong = "That code is not right, or it was used already. Enter the code your app shows now, or an unused recovery code."
	recoveryFileName  = "cliniconnects-recovery-codes.txt"
)

// mfaNotices are the messages /account/mfa shows after a change.
var mfaNotices = map[string]string{"removed": noticeMFARemoved, "on": noticeMFAOn}

// mfaPage is /account/mfa.
type mfaPage struct {
	Title       string
	User        storage.User
	Status      account.MFAStatus
	Notice      string
	RemoveError string
	Password    field
	Code        field
}

// EnabledAt is when the app was set up, as the page shows it.
func (p mfaPage) EnabledAt() string { return p.Status.EnabledAt.UTC().Format("2 January 2006") }

func newMFAPage(u storage.User, st account.MFAStatus) mfaPage {
	return mfaPage{
		Title: titleMFA, User: u, Status: st,
		Password: passwordField("mfa-password", "current_password", "Current password", "current-password"),
		Code: field{ID: "mfa-code", Name: "code", Label: "Code from your app, or a recovery code", Type: "text",
			Autocomplete: "one-time-code"},
	}
}

// mfaSetupPage is the setup: the QR code, the key and the form for the
// first code. The account page and a setup during sign-in differ only in
// where the form posts, where the QR code comes from and the way back.
type mfaSetupPage struct {
	Title     string
	Secret    string
	FormError string
	Code      field
	Action    string        // where the form posts
	QR        string        // the QR code's URL (a route serving QRCode's PNG)
	Cancel    pageLink      // the way back
	Hidden    []hiddenField // extra form fields (an authRequestID)
}

// newMFASetupPage is the account page's setup form for e.
func newMFASetupPage(e account.Enrollment) mfaSetupPage {
	p := mfaSetupPage{Title: titleMFASetup, Secret: e.Secret, Code: codeField(),
		Action: "/account/mfa/confirm", QR: "/account/mfa/qr.png", Cancel: pageLink{URL: "/account/mfa", Label: "Cancel"}}
	p.Code.Autofocus = true
	return p
}

func codeField() field {
	return field{ID: "totp-code", Name: "code", Label: "6-digit code", Type: "text", InputMode: "numeric", Autocomplete: "one-time-code"}
}

// mfaCodesPage shows the recovery codes once.
type mfaCodesPage struct {
	Title    string
	Codes    []string
	Download template.URL // data: URL of the .txt file
	FileName string
	Next     pageLink // where the user goes once they saved them
}

// newMFACodesPage shows u's new recovery codes, then leads to next.
func newMFACodesPage(u storage.User, codes []string, next pageLink) mfaCodesPage {
	return mfaCodesPage{Title: titleMFACodes, Codes: codes, Download: recoveryFile(u, codes), FileName: recoveryFileName, Next: next}
}

// showMFA answers GET /account/mfa with the state, and the removal form
// when an app is set up.
func (h *Handler) showMFA(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	st, err := h.d.MFA.Status(r.Context(), u)
	if err != nil {
		h.internalError(w, r, "reading MFA status", err)
		return
	}
	p := newMFAPage(u, st)
	p.Notice = mfaNotices[r.URL.Query().Get("notice")]
	h.render(w, r, http.StatusOK, pageMFA, p)
}

// beginMFA answers POST /account/mfa/setup: a fresh secret, shown by the
// setup page it redirects to.
func (h *Handler) beginMFA(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	_, err := h.d.MFA.BeginEnrollment(r.Context(), u.ID)
	switch {
	case errors.Is(err, account.ErrMFAEnabled):
		http.Redirect(w, r, "/account/mfa?notice=on", http.StatusSeeOther)
		return
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
		return
	case err != nil:
		h.internalError(w, r, "beginning MFA enrolment", err)
		return
	}
	http.Redirect(w, r, "/account/mfa/setup", http.StatusSeeOther)
}

// showMFASetup answers GET /account/mfa/setup with the enrolment in
// progress; without one, back to /account/mfa.
func (h *Handler) showMFASetup(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	e, ok := h.pendingEnrollment(w, r, u)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, pageMFASetup, newMFASetupPage(e))
}

// pendingEnrollment reads u's enrolment in progress; without one it has
// sent the browser to /account/mfa.
func (h *Handler) pendingEnrollment(w http.ResponseWriter, r *http.Request, u storage.User) (account.Enrollment, bool) {
	e, err := h.d.MFA.PendingEnrollment(r.Context(), u.ID)
	switch {
	case errors.Is(err, account.ErrNoEnrollment), errors.Is(err, account.ErrMFAEnabled):
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return e, false
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
		return e, false
	case err != nil:
		h.internalError(w, r, "reading MFA enrolment", err)
		return e, false
	}
	return e, true
}

// mfaQRCode answers GET /account/mfa/qr.png: the QR code of the signed-in
// user's enrolment in progress, never cached.
func (h *Handler) mfaQRCode(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.serveQRCode(w, r, u.ID)
}

// serveQRCode answers with the PNG QR code of userID's enrolment in
// progress, never cached; 404 without one. The caller has established who
// the user is (a session, or a sign-in bound to this browser).
func (h *Handler) serveQRCode(w http.ResponseWriter, r *http.Request, userID string) {
	e, err := h.d.MFA.PendingEnrollment(r.Context(), userID)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	img, err := e.QRCode()
	if err != nil {
		h.log.ErrorContext(r.Context(), "login: rendering QR code", "err", err)
		http.Error(w, msgInternal, http.StatusInternalServerError)
		return
	}
	writeHeaders(w)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	_, _ = w.Write(img)
}

// confirmMFA answers POST /account/mfa/confirm: with a right code the app
// is on and the recovery codes are shown, once.
func (h *Handler) confirmMFA(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	fail := func(msg string) {
		e, ok := h.pendingEnrollment(w, r, u)
		if !ok {
			return
		}
		p := newMFASetupPage(e)
		p.Title, p.Code.Error = titleMFASetupErr, msg
		h.render(w, r, http.StatusBadRequest, pageMFASetup, p)
	}
	if code == "" {
		fail(msgMFACodeMissing)
		return
	}
	codes, err := h.d.MFA.ConfirmEnrollment(r.Context(), u.ID, code, sourceAddr(r))
	switch {
	case errors.Is(err, account.ErrWrongCode):
		fail(msgMFACodeWrong)
		return
	case errors.Is(err, account.ErrNoEnrollment), errors.Is(err, account.ErrMFAEnabled):
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
		return
	case err != nil:
		h.internalError(w, r, "confirming MFA enrolment", err)
		return
	}
	h.render(w, r, http.StatusOK, pageMFACodes, newMFACodesPage(u, codes, pageLink{URL: "/account/mfa", Label: "I have saved my recovery codes"}))
}

// recoveryFile is the data: URL of the recovery codes as a text file. Its
// content is ours alone (the codes and the user's email), percent-encoded.
func recoveryFile(u storage.User, codes []string) template.URL {
	var b strings.Builder
	b.WriteString("CliniConnects recovery codes for " + u.Email + "\r\n\r\n")
	b.WriteString("Use one of these codes to sign in if you cannot use your authenticator app.\r\n")
	b.WriteString("Each code works once. Keep this file somewhere safe.\r\n\r\n")
	for _, c := range codes {
		b.WriteString(c + "\r\n")
	}
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(b.String()))
}

// removeMFA answers POST /account/mfa/remove: with the current password
// and a current code (or a recovery code) the app is removed.
func (h *Handler) removeMFA(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	st, err := h.d.MFA.Status(ctx, u)
	if err != nil {
		h.internalError(w, r, "reading MFA status", err)
		return
	}
	if !st.Enabled {
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	}
	p := newMFAPage(u, st)
	pw, code := r.PostForm.Get("current_password"), strings.TrimSpace(r.PostForm.Get("code"))
	fail := func(status int) {
		p.Title = titleMFAError
		focusFirstError(&p.Password, &p.Code)
		h.render(w, r, status, pageMFA, p)
	}
	if pw == "" {
		p.Password.Error = msgCurrentMissing
	}
	if code == "" {
		p.Code.Error = msgMFARemoveCode
	}
	if p.Password.Error != "" || p.Code.Error != "" {
		fail(http.StatusBadRequest)
		return
	}
	err = h.d.MFA.Remove(ctx, u.ID, pw, code, sourceAddr(r), h.d.Signin.DeviceCookie(r))
	var locked *signin.LockedError
	switch {
	case errors.Is(err, account.ErrWrongPassword):
		p.Password.Error = msgCurrentWrong
		fail(http.StatusBadRequest)
		return
	case errors.Is(err, account.ErrWrongCode):
		p.Code.Error = msgMFARemoveWrong
		fail(http.StatusBadRequest)
		return
	case errors.Is(err, account.ErrThrottled):
		p.RemoveError = msgTryLater
		setRetryAfter(w, 15*time.Minute)
		fail(http.StatusTooManyRequests)
		return
	case errors.As(err, &locked):
		p.RemoveError = lockedMessage(locked)
		setRetryAfter(w, locked.RetryAfter)
		fail(http.StatusTooManyRequests)
		return
	case errors.Is(err, account.ErrMFANotEnabled):
		http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
		return
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
		return
	case err != nil:
		h.internalError(w, r, "removing MFA", err)
		return
	}
	http.Redirect(w, r, "/account/mfa?notice=removed", http.StatusSeeOther)
}
