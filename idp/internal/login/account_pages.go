package login

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/account"
)

// The account lifecycle pages: forgot password, reset, invitation, the
// account page and email change confirmation. They share the layout and
// the field partial.
const (
	pageForgot       = "forgot.html"
	pageReset        = "reset.html"
	pageInvite       = "invite.html"
	pageAccount      = "account.html"
	pageEmailConfirm = "email_confirm.html"
	pageLinkError    = "link_error.html"
	pageMessage      = "message.html"

	partialFields = "templates/partial_fields.html"
)

var accountPageNames = append([]string{pageForgot, pageReset, pageInvite, pageAccount, pageEmailConfirm, pageLinkError, pageMessage},
	mfaPageNames...)

func parseAccountPages(fsys fs.FS) (pages, error) {
	return parsePageSet(fsys, accountPageNames, partialFields)
}

// RegisterAccount mounts the account pages on mux, served by the use cases
// of acct, and turns /login without an authorization request into a
// sign-in that lands on /account. Every POST is guarded by
// http.CrossOriginProtection, as the sign-in form is. Call it once, before
// serving, after Register.
func (h *Handler) RegisterAccount(mux *http.ServeMux, acct *account.Service) error {
	if acct == nil {
		return errors.New("login: RegisterAccount needs an account.Service")
	}
	h.acct = acct
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(h.forbidden))
	for pattern, fn := range map[string]http.HandlerFunc{
		"GET /forgot":                      h.showForgot,
		"POST /forgot":                     h.submitForgot,
		"GET " + account.ResetPath:         h.showReset,
		"POST " + account.ResetPath:        h.submitReset,
		"GET " + account.InvitePath:        h.showInvite,
		"POST " + account.InvitePath:       h.submitInvite,
		"POST /invite/resend":              h.resendInvite,
		"GET /account":                     h.showAccount,
		"POST /account/password":           h.changePassword,
		"POST /account/email":              h.requestEmailChange,
		"GET " + account.EmailConfirmPath:  h.showEmailConfirm,
		"POST " + account.EmailConfirmPath: h.submitEmailConfirm,
		"POST /account/signout":            h.signOut,
		"POST /account/signout-everywhere": h.signOutEverywhere,
	} {
		mux.Handle(pattern, csrf.Handler(fn))
	}
	if h.d.MFA != nil {
		for pattern, fn := range h.mfaRoutes() {
			mux.Handle(pattern, csrf.Handler(fn))
		}
	}
	return nil
}

// field is one labelled input with its hint and error.
type field struct {
	ID, Name, Label string
	Type            string // text or password
	InputMode       string // "email" for addresses
	Autocomplete    string
	Value           string // never set for passwords
	Hint, Error     string
	Autofocus       bool
}

// DescribedBy is the input's aria-describedby: its hint and error, and the
// form's error when there is one.
func (f field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

func emailField(id, label, value string) field {
	return field{ID: id, Name: "email", Label: label, Type: "text", InputMode: "email", Autocomplete: "email", Value: value}
}

func passwordField(id, name, label, autocomplete string) field {
	return field{ID: id, Name: name, Label: label, Type: "password", Autocomplete: autocomplete}
}

// focusFirstError gives autofocus to the first field with an error, or
// else the first empty one.
func focusFirstError(fs ...*field) {
	for _, f := range fs {
		if f.Error != "" {
			f.Autofocus = true
			return
		}
	}
	for _, f := range fs {
		if f.Value == "" {
			f.Autofocus = true
			return
		}
	}
}

// newPasswordHint describes the password policy next to a new password.
func (h *Handler) newPasswordHint() string {
	n := h.acct.Policy.MinLength
	if n < 8 {
		n = 8
	}
	return fmt.Sprintf(hintNewPassword, n)
}

// messagePage is a page of text with links onward.
type messagePage struct {
	Title string
	Lines []string
	Links []pageLink
}

type pageLink struct{ URL, Label string }

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title string, lines []string, links ...pageLink) {
	h.render(w, r, status, pageMessage, messagePage{Title: title, Lines: lines, Links: links})
}

// parseForm reads a small form body; on failure it has answered.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.log.InfoContext(r.Context(), "login: unreadable form", "path", r.URL.Path, "err", err)
		h.RenderError(w, r, http.StatusBadRequest, titleBad, msgBadFormAccount)
		return false
	}
	return true
}
