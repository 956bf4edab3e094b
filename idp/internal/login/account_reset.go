package login

import (
	"errors"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// passwordPage is the form that sets a password from a link: a reset or
// the first password of an invitation.
type passwordPage struct {
	Title     string
	Action    string // the form's path
	Lead      string
	Button    string
	FormError string
	Token     string
	// Email fills a hidden username field, so password managers store the
	// new password for the right account.
	Email   string
	Name    string
	New     field
	Confirm field
}

func (h *Handler) newPasswordPage(title, action, lead, button, token string, u storage.User) passwordPage {
	p := passwordPage{
		Title: title, Action: action, Lead: lead, Button: button, Token: token, Email: u.Email, Name: u.Name(),
		New:     passwordField("new-password", "password", "New password", "new-password"),
		Confirm: passwordField("confirm-password", "confirm", "Type the new password again", "new-password"),
	}
	p.New.Hint = h.newPasswordHint()
	return p
}

// checkNewPassword sets the field errors of an empty or mismatched new
// password and reports whether the pair can be used.
func checkNewPassword(newF, confirmF *field, pw, confirm string) bool {
	switch {
	case pw == "":
		newF.Error = msgNewMissing
	case confirm == "":
		confirmF.Error = msgConfirmMissing
	case pw != confirm:
		confirmF.Error = msgPasswordsDiff
	}
	return newF.Error == "" && confirmF.Error == ""
}

// showReset answers GET /reset?token=…: the form, or a page saying why the
// link cannot be used. It changes nothing (a mail scanner fetching the
// link spends nothing).
func (h *Handler) showReset(w http.ResponseWriter, r *http.Request) {
	raw := linkToken(r)
	info, err := h.acct.CheckLink(r.Context(), storage.PurposePasswordReset, raw)
	if err != nil {
		h.linkError(w, r, storage.PurposePasswordReset, raw, err)
		return
	}
	p := h.resetPage(raw, info.User)
	p.New.Autofocus = true
	h.render(w, r, http.StatusOK, pageReset, p)
}

func (h *Handler) resetPage(raw string, u storage.User) passwordPage {
	return h.newPasswordPage(titleReset, account.ResetPath, "Choose a new password for "+u.Email+".", "Set new password", raw, u)
}

// submitReset answers POST /reset: set the new password, revoke every
// session and token, and say so. It does not sign in.
func (h *Handler) submitReset(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	raw := linkToken(r)
	info, err := h.acct.CheckLink(r.Context(), storage.PurposePasswordReset, raw)
	if err != nil {
		h.linkError(w, r, storage.PurposePasswordReset, raw, err)
		return
	}
	p := h.resetPage(raw, info.User)
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	if !checkNewPassword(&p.New, &p.Confirm, pw, confirm) {
		p.Title = titleResetError
		focusFirstError(&p.New, &p.Confirm)
		h.render(w, r, http.StatusBadRequest, pageReset, p)
		return
	}
	_, err = h.acct.ResetPassword(r.Context(), raw, pw, sourceAddr(r))
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		p.Title, p.New.Error = titleResetError, fe.Message
		focusFirstError(&p.New, &p.Confirm)
		h.render(w, r, http.StatusBadRequest, pageReset, p)
		return
	case err != nil:
		h.linkError(w, r, storage.PurposePasswordReset, raw, err)
		return
	}
	h.message(w, r, http.StatusOK, titleResetDone, []string{msgResetDone}, pageLink{URL: "/login", Label: "Sign in"})
}
