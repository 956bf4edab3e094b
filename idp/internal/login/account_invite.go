package login

import (
	"errors"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func (h *Handler) invitePage(raw string, u storage.User) passwordPage {
	return h.newPasswordPage(titleInvite, account.InvitePath,
		"Welcome! Choose a password for "+u.Email+" to finish setting up your account.", "Set password", raw, u)
}

// showInvite answers GET /invite?token=…: the first-password form, or a
// page saying why the link cannot be used. It changes nothing.
func (h *Handler) showInvite(w http.ResponseWriter, r *http.Request) {
	raw := linkToken(r)
	info, err := h.acct.CheckLink(r.Context(), storage.PurposeInvitation, raw)
	if err != nil {
		h.linkError(w, r, storage.PurposeInvitation, raw, err)
		return
	}
	p := h.invitePage(raw, info.User)
	p.New.Autofocus = true
	h.render(w, r, http.StatusOK, pageInvite, p)
}

// submitInvite answers POST /invite: verify the address, set the first
// password, activate the account. The user signs in next.
func (h *Handler) submitInvite(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	raw := linkToken(r)
	info, err := h.acct.CheckLink(r.Context(), storage.PurposeInvitation, raw)
	if err != nil {
		h.linkError(w, r, storage.PurposeInvitation, raw, err)
		return
	}
	p := h.invitePage(raw, info.User)
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	if !checkNewPassword(&p.New, &p.Confirm, pw, confirm) {
		p.Title = titleInviteError
		focusFirstError(&p.New, &p.Confirm)
		h.render(w, r, http.StatusBadRequest, pageInvite, p)
		return
	}
	_, err = h.acct.AcceptInvitation(r.Context(), raw, pw, sourceAddr(r))
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		p.Title, p.New.Error = titleInviteError, fe.Message
		focusFirstError(&p.New, &p.Confirm)
		h.render(w, r, http.StatusBadRequest, pageInvite, p)
		return
	case err != nil:
		h.linkError(w, r, storage.PurposeInvitation, raw, err)
		return
	}
	h.message(w, r, http.StatusOK, titleInviteDone, []string{msgInviteDone}, pageLink{URL: "/login", Label: "Sign in"})
}

// resendInvite answers POST /invite/resend from the page of an expired
// invitation: a new invitation goes to the address the old one went to.
func (h *Handler) resendInvite(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	raw := linkToken(r)
	if err := h.acct.ResendExpiredInvitation(r.Context(), raw, sourceAddr(r)); err != nil {
		h.linkError(w, r, storage.PurposeInvitation, raw, err)
		return
	}
	h.message(w, r, http.StatusOK, titleInviteResent, []string{msgInviteResent})
}
