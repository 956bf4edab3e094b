package login

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// accountSession reports whether browser session s may use the account
// pages: only a session signed in by email and password. A phone session
// proves a PIN, and the account pages change what the PIN hangs on (the
// mobile number) and list and end every sign-in.
func accountSession(s storage.Session) bool { return s.SignInMethod != storage.SignInPhone }

// namePage is /account/name: the given and family name.
type namePage struct {
	Title     string
	FormError string
	Given     field
	Family    field
}

func newNamePage(u storage.User) namePage {
	return namePage{
		Title:  titleName,
		Given:  textField("given-name", "given_name", labelGiven, "given-name", u.GivenName),
		Family: textField("family-name", "family_name", labelFamily, "family-name", u.FamilyName),
	}
}

// textField is a labelled text input.
func textField(id, name, label, autocomplete, value string) field {
	return field{ID: id, Name: name, Label: label, Type: "text", Autocomplete: autocomplete, Value: value}
}

// showName answers GET /account/name.
func (h *Handler) showName(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, pageAccountName, newNamePage(u))
}

// submitName answers POST /account/name: the user's own name, changed
// through account (audited with the source address).
func (h *Handler) submitName(w http.ResponseWriter, r *http.Request) {
	_, u, ok := h.signedIn(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	p := newNamePage(u)
	p.Given.Value = strings.TrimSpace(r.PostForm.Get("given_name"))
	p.Family.Value = strings.TrimSpace(r.PostForm.Get("family_name"))
	fail := func() {
		p.Title = titleNameError
		focusFirstError(&p.Given, &p.Family)
		h.render(w, r, http.StatusBadRequest, pageAccountName, p)
	}
	if p.Given.Value == "" {
		p.Given.Error = msgGivenMissing
	}
	if p.Family.Value == "" {
		p.Family.Error = msgFamilyMissing
	}
	if p.Given.Error != "" || p.Family.Error != "" {
		fail()
		return
	}
	_, err := h.acct.ChangeName(r.Context(), self(r, u), p.Given.Value, p.Family.Value)
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		if fe.Field == "family_name" {
			p.Family.Error = msgNameBad
		} else {
			p.Given.Error = msgNameBad
		}
		fail()
	case errors.Is(err, account.ErrNotActive):
		h.endSessionAndSignIn(w, r)
	case err != nil:
		h.internalError(w, r, "changing name", err)
	default:
		http.Redirect(w, r, "/account?notice=name-changed", http.StatusSeeOther)
	}
}
