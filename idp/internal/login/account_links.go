package login

import (
	"errors"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// linkErrorPage explains why a link from an email cannot be used and how
// to go on. ResendToken, when set, offers a button that asks for a new
// invitation with the expired link.
type linkErrorPage struct {
	Title       string
	Message     string
	Action      pageLink
	ResendToken string
}

// linkError answers a link that cannot be used: 410 Gone for one that was
// good once (used, expired, replaced), 400 for one that never was. Any
// other error is a 500. purpose says which texts and way forward to show.
func (h *Handler) linkError(w http.ResponseWriter, r *http.Request, purpose, raw string, err error) {
	status := http.StatusGone
	var p linkErrorPage
	switch {
	case errors.Is(err, account.ErrLinkUsed):
		p = usedTexts[purpose]
	case errors.Is(err, account.ErrLinkExpired):
		p = expiredTexts[purpose]
		if purpose == storage.PurposeInvitation {
			p.ResendToken = raw
		}
	case errors.Is(err, account.ErrLinkReplaced):
		p = replacedTexts[purpose]
	case errors.Is(err, account.ErrInvalidLink):
		status = http.StatusBadRequest
		p = invalidTexts[purpose]
	default:
		h.internalError(w, r, "checking link", err)
		return
	}
	h.log.InfoContext(r.Context(), "login: link refused", "purpose", purpose, "reason", err)
	h.render(w, r, status, pageLinkError, p)
}

var (
	toForgot  = pageLink{URL: "/forgot", Label: "Request a new password reset link"}
	toSignIn  = pageLink{URL: "/login", Label: "Go to sign in"}
	toAccount = pageLink{URL: "/account", Label: "Go to your account"}
)

var invalidTexts = map[string]linkErrorPage{
	storage.PurposePasswordReset: {Title: "This link is not valid", Message: msgResetInvalid, Action: toForgot},
	storage.PurposeInvitation:    {Title: "This link is not valid", Message: msgInviteInvalid, Action: toSignIn},
	storage.PurposeEmailChange:   {Title: "This link is not valid", Message: msgEmailInvalid, Action: toAccount},
}

var expiredTexts = map[string]linkErrorPage{
	storage.PurposePasswordReset: {Title: "This link has expired", Message: msgResetExpired, Action: toForgot},
	storage.PurposeInvitation:    {Title: "This invitation has expired", Message: msgInviteExpired},
	storage.PurposeEmailChange:   {Title: "This link has expired", Message: msgEmailExpired, Action: toAccount},
}

// replacedTexts answer a link that was voided: replaced by a newer one, or
// voided with the user's grants (a password reset or change, signing out
// everywhere, an email change, disabling).
var replacedTexts = map[string]linkErrorPage{
	storage.PurposePasswordReset: {Title: "This link no longer works", Message: msgResetReplaced, Action: toForgot},
	storage.PurposeInvitation:    {Title: "This invitation no longer works", Message: msgInviteReplaced, Action: toSignIn},
	storage.PurposeEmailChange:   {Title: "This link no longer works", Message: msgEmailReplaced, Action: toAccount},
}

var usedTexts = map[string]linkErrorPage{
	storage.PurposePasswordReset: {Title: "This link has already been used", Message: msgResetUsed, Action: toForgot},
	storage.PurposeInvitation:    {Title: "This invitation has already been accepted", Message: msgInviteUsed, Action: toSignIn},
	storage.PurposeEmailChange:   {Title: "This link has already been used", Message: msgEmailUsed, Action: toAccount},
}

// linkToken is the token a link page works on: from the query on GET,
// from the form on POST. It is never logged.
func linkToken(r *http.Request) string {
	if r.Method == http.MethodPost {
		return r.PostForm.Get("token")
	}
	return r.URL.Query().Get("token")
}
