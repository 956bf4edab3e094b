package login

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// accountPage is /account: the profile, the password and email forms, and
// the sign-out buttons.
type accountPage struct {
	Title  string
	User   storage.User
	Notice string

	PasswordError string // concerns the whole password form
	Current       field
	New           field
	Confirm       field

	EmailError    string // concerns the whole email form
	NewEmail      field
	EmailPassword field
}

func (h *Handler) newAccountPage(u storage.User) accountPage {
	p := accountPage{
		Title: titleAccount, User: u,
		Current:       passwordField("current-password", "current_password", "Current password", "current-password"),
		New:           passwordField("new-password", "new_password", "New password", "new-password"),
		Confirm:       passwordField("confirm-password", "confirm", "Type the new password again", "new-password"),
		NewEmail:      emailField("new-email", "New email address", ""),
		EmailPassword: passwordField("email-password", "current_password", "Current password", "current-password"),
	}
	p.New.Hint = h.newPasswordHint()
	return p
}

// UserType is the user's type as the page shows it.
func (p accountPage) UserType() string {
	if p.User.Type == storage.UserTypeClinician {
		return "Clinician"
	}
	return "Employee"
}

// Roles lists the user's administrative roles in words, "" for none.
func (p accountPage) Roles() string {
	names := map[storage.Role]string{
		storage.RoleSuperAdmin: "Super administrator", storage.RoleAdmin: "Administrator",
		storage.RoleAssigningManager: "Assigning manager",
	}
	var out []string
	for _, r := range p.User.Roles {
		out = append(out, names[r])
	}
	return strings.Join(out, ", ")
}

// self is the signed-in user u acting on their own account from r's
// client address, as the audit log records them.
func self(r *http.Request, u storage.User) account.Actor {
	return account.Actor{ID: u.ID, Source: sourceAddr(r)}
}

// signedIn returns the browser's session and its user, who must be active.
// Without one it has sent the browser to sign in and reports false; a
// session of a user who may no longer sign in is ended on the way.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (storage.Session, storage.User, bool) {
	s, ok := h.d.Sessions.Current(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return s, storage.User{}, false
	}
	if !accountSession(s) {
		// Not /login: that sends a signed-in browser here.
		h.render(w, r, http.StatusOK, pageLogin, loginForm{Title: titleSignIn})
		return s, storage.User{}, false
	}
	u, err := h.d.Store.GetUser(r.Context(), s.UserID)
	switch {
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		h.internalError(w, r, "loading session user", err)
		return s, u, false
	case err != nil || u.Status != storage.StatusActive:
		h.log.InfoContext(r.Context(), "login: session of a user who may not sign in ended", "user", s.UserID)
		h.endSessionAndSignIn(w, r)
		return s, u, false
	}
	return s, u, true
}

func (h *Handler) endSessionAndSignIn(w http.ResponseWriter, r *http.Request) {
	if err := h.d.Sessions.End(r.Context(), w, r); err != nil {
		h.log.ErrorContext(r.Context(), "login: ending session", "err", err)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// showAccount answers GET /account.
func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	p := h.newAccountPage(u)
	p.Notice = notices[r.URL.Query().Get("notice")]
	h.render(w, r, http.StatusOK, pageAccount, p)
}

// changePassword answers POST /account/password. On success every other
// session and token of the user is gone and this browser continues in a
// fresh session.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	p := h.newAccountPage(u)
	current, pw, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm")
	fail := func(status int) {
		p.Title = titleAccountError
		focusFirstError(&p.Current, &p.New, &p.Confirm)
		h.render(w, r, status, pageAccount, p)
	}
	if current == "" {
		p.Current.Error = msgCurrentMissing
	}
	if !checkNewPassword(&p.New, &p.Confirm, pw, confirm) || p.Current.Error != "" {
		fail(http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	_, err := h.acct.ChangePassword(ctx, self(r, u), current, pw)
	var fe *account.FieldError
	switch {
	case errors.Is(err, account.ErrWrongPassword):
		p.Current.Error = msgCurrentWrong
		fail(http.StatusBadRequest)
		return
	case errors.Is(err, account.ErrThrottled):
		p.PasswordError = msgTryLater
		setRetryAfter(w, 15*time.Minute)
		fail(http.StatusTooManyRequests)
		return
	case errors.As(err, &fe):
		p.New.Error = fe.Message
		fail(http.StatusBadRequest)
		return
	case errors.Is(err, account.ErrConflict):
		p.PasswordError = msgConflict
		fail(http.StatusConflict)
		return
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
		return
	case err != nil:
		h.internalError(w, r, "changing password", err)
		return
	}
	// The change revoked every session, this one too: this browser goes
	// on in a new one.
	if _, err := h.d.Sessions.Start(ctx, w, u.ID, amrPassword); err != nil {
		h.internalError(w, r, "starting session after password change", err)
		return
	}
	http.Redirect(w, r, "/account?notice=password-changed", http.StatusSeeOther)
}

// requestEmailChange answers POST /account/email: a confirmation link goes
// to the new address, a notice to the current one; nothing changes yet.
// The answer is the same whether or not another account uses the new
// address (its owner is told by email instead), so the page tells nobody
// which addresses have accounts.
func (h *Handler) requestEmailChange(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	p := h.newAccountPage(u)
	newEmail, current := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("current_password")
	p.NewEmail.Value = newEmail
	fail := func(status int) {
		p.Title = titleAccountError
		focusFirstError(&p.NewEmail, &p.EmailPassword)
		h.render(w, r, status, pageAccount, p)
	}
	if newEmail == "" {
		p.NewEmail.Error = msgEmailMissingNew
	}
	if current == "" {
		p.EmailPassword.Error = msgCurrentMissing
	}
	if p.NewEmail.Error != "" || p.EmailPassword.Error != "" {
		fail(http.StatusBadRequest)
		return
	}
	err := h.acct.RequestEmailChange(r.Context(), self(r, u), current, newEmail)
	var fe *account.FieldError
	switch {
	case errors.Is(err, account.ErrSameEmail):
		p.NewEmail.Error = msgEmailSame
		fail(http.StatusBadRequest)
		return
	case errors.As(err, &fe):
		p.NewEmail.Error = msgEmailInvalidF
		fail(http.StatusBadRequest)
		return
	case errors.Is(err, account.ErrWrongPassword):
		p.EmailPassword.Error = msgCurrentWrong
		fail(http.StatusBadRequest)
		return
	case errors.Is(err, account.ErrThrottled):
		p.EmailError = msgTryLater
		setRetryAfter(w, 15*time.Minute)
		fail(http.StatusTooManyRequests)
		return
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
		return
	case err != nil:
		h.internalError(w, r, "requesting email change", err)
		return
	}
	http.Redirect(w, r, "/account?notice=email-sent", http.StatusSeeOther)
}

// signOut answers POST /account/signout: this browser only.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if err := h.d.Sessions.End(r.Context(), w, r); err != nil {
		h.internalError(w, r, "ending session", err)
		return
	}
	http.Redirect(w, r, "/logged-out", http.StatusSeeOther)
}

// signOutEverywhere answers POST /account/signout-everywhere: every
// session, refresh token and access token of the user is revoked.
func (h *Handler) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if err := h.acct.SignOutEverywhere(r.Context(), self(r, u)); err != nil {
		h.internalError(w, r, "signing out everywhere", err)
		return
	}
	h.signOut(w, r)
}
