package login

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// forgotPage is the "forgot password" form.
type forgotPage struct {
	Title     string
	Lead      string
	FormError string
	Email     field
}

func newForgotPage(email string) forgotPage {
	return forgotPage{Title: titleForgot, Lead: msgForgotLead, Email: emailField("email", "Email address", email)}
}

// showForgot answers GET /forgot with the form. It changes nothing.
func (h *Handler) showForgot(w http.ResponseWriter, r *http.Request) {
	p := newForgotPage("")
	p.Email.Autofocus = true
	h.render(w, r, http.StatusOK, pageForgot, p)
}

// submitForgot answers POST /forgot. Whether or not the address has an
// account, the answer is the same page, after about the same time (the use
// case sees to that); only text that is not an address at all, and
// throttling, which counts every address alike, answer otherwise.
func (h *Handler) submitForgot(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	p := newForgotPage(email)
	if email == "" {
		p.Title, p.Email.Error, p.Email.Autofocus = titleForgotError, msgEmailMissingF, true
		h.render(w, r, http.StatusBadRequest, pageForgot, p)
		return
	}
	err := h.acct.RequestPasswordReset(r.Context(), email, sourceAddr(r))
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		p.Title, p.Email.Error, p.Email.Autofocus = titleForgotError, msgEmailInvalidF, true
		h.render(w, r, http.StatusBadRequest, pageForgot, p)
		return
	case errors.Is(err, account.ErrThrottled):
		p.Title, p.FormError = titleForgotError, msgTryLater
		setRetryAfter(w, time.Hour)
		h.render(w, r, http.StatusTooManyRequests, pageForgot, p)
		return
	case err != nil:
		h.internalError(w, r, "requesting password reset", err)
		return
	}
	h.message(w, r, http.StatusOK, titleForgotSent, []string{
		fmt.Sprintf(msgForgotSent, email),
		fmt.Sprintf(msgForgotSent2, notify.HumanDuration(h.acct.LinkTTL(storage.PurposePasswordReset))),
	}, pageLink{URL: "/login", Label: "Back to sign in"})
}
