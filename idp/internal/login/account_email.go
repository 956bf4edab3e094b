package login

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// emailConfirmPage asks to confirm an email change with one button: the
// link alone (a GET, which mail scanners fetch too) changes nothing.
type emailConfirmPage struct {
	Title    string
	Token    string
	Email    string // the current address
	NewEmail string
}

// showEmailConfirm answers GET /account/email/confirm?token=….
func (h *Handler) showEmailConfirm(w http.ResponseWriter, r *http.Request) {
	raw := linkToken(r)
	info, err := h.acct.CheckLink(r.Context(), storage.PurposeEmailChange, raw)
	if err != nil {
		h.linkError(w, r, storage.PurposeEmailChange, raw, err)
		return
	}
	h.render(w, r, http.StatusOK, pageEmailConfirm, emailConfirmPage{
		Title: titleEmailConfirm, Token: raw, Email: info.User.Email, NewEmail: info.NewEmail,
	})
}

// submitEmailConfirm answers POST /account/email/confirm: the sign-in
// email becomes the new address. No session is needed: the link proves the
// address, the request for it proved the password.
func (h *Handler) submitEmailConfirm(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	raw := linkToken(r)
	u, err := h.acct.ConfirmEmailChange(r.Context(), raw, sourceAddr(r))
	switch {
	case errors.Is(err, account.ErrEmailTaken):
		h.message(w, r, http.StatusConflict, titleEmailTaken, []string{msgEmailTakenLink}, toAccount)
		return
	case err != nil:
		h.linkError(w, r, storage.PurposeEmailChange, raw, err)
		return
	}
	h.message(w, r, http.StatusOK, titleEmailDone, []string{fmt.Sprintf(msgEmailDone, u.Email)}, toAccount)
}
