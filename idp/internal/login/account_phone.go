package login

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// phonePage is /account/phone, for clinicians: the mobile credential's
// state and the change of mobile number (a code to the new number first).
type phonePage struct {
	Title  string
	Notice string
	Status account.MobileStatus

	CodeSentTo string // set once a code went out: the code form shows
	Expires    string
	CodeError  string
	Code       field

	PhoneError string
	NewPhone   field
}

// State is the credential's state in words.
func (p phonePage) State() string {
	switch p.Status.State {
	case storage.MobileActive:
		return "Active: you sign in to the app with your number and PIN"
	case storage.MobilePending:
		return "Activation started: no PIN yet"
	case storage.MobileLocked:
		return "Locked after wrong PINs until " + when(p.Status.LockedUntil)
	}
	return "Not activated"
}

// ActivatedAt and LastSignIn are the credential's times in words ("" for
// none).
func (p phonePage) ActivatedAt() string { return when(p.Status.ActivatedAt) }
func (p phonePage) LastSignIn() string  { return when(p.Status.LastSignInAt) }

// when formats a time for the account pages, "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

var phoneNotices = map[string]string{"phone-changed": noticePhoneDone}

// clinicianPage loads what /account/phone shows for the signed-in user,
// who must be a clinician (anyone else is sent to /account). It has
// answered when it reports false.
func (h *Handler) clinicianPage(w http.ResponseWriter, r *http.Request) (storage.User, phonePage, bool) {
	_, u, ok := h.signedIn(w, r)
	if !ok {
		return u, phonePage{}, false
	}
	if u.Type != storage.UserTypeClinician {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return u, phonePage{}, false
	}
	st, err := h.mobile.MobileStatus(r.Context(), u)
	if err != nil {
		h.internalError(w, r, "reading mobile credential", err)
		return u, phonePage{}, false
	}
	return u, phonePage{
		Title: titlePhonePage, Status: st, Expires: notify.HumanDuration(account.CodeTTL),
		Code: smsCodeField("code"), NewPhone: phoneField("new-phone", labelNewPhone, ""),
	}, true
}

// showPhone answers GET /account/phone.
func (h *Handler) showPhone(w http.ResponseWriter, r *http.Request) {
	_, p, ok := h.clinicianPage(w, r)
	if !ok {
		return
	}
	p.Notice = phoneNotices[r.URL.Query().Get("notice")]
	h.render(w, r, http.StatusOK, pageAccountPhone, p)
}

// requestPhoneChange answers POST /account/phone: a code goes by SMS to
// the new number; nothing changes until it is entered.
func (h *Handler) requestPhoneChange(w http.ResponseWriter, r *http.Request) {
	u, p, ok := h.clinicianPage(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	phone := strings.TrimSpace(r.PostForm.Get("phone"))
	p.NewPhone.Value = phone
	fail := func(status int) {
		p.Title = titlePhonePageError
		p.NewPhone.Autofocus = true
		h.render(w, r, status, pageAccountPhone, p)
	}
	if phone == "" {
		p.NewPhone.Error = msgPhoneMissing
		fail(http.StatusBadRequest)
		return
	}
	err := h.mobile.RequestPhoneChange(r.Context(), self(r, u), phone)
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		p.NewPhone.Error = msgPhoneBad
		fail(http.StatusBadRequest)
	case errors.Is(err, account.ErrSamePhone):
		p.NewPhone.Error = msgSamePhone
		fail(http.StatusBadRequest)
	case errors.Is(err, account.ErrThrottled):
		p.PhoneError = msgTryLater
		setRetryAfter(w, 15*time.Minute)
		fail(http.StatusTooManyRequests)
	case errors.Is(err, account.ErrSMSUnavailable):
		p.PhoneError = msgSMSUnavailable
		fail(http.StatusServiceUnavailable)
	case errors.Is(err, account.ErrNotActive), errors.Is(err, account.ErrNotClinician):
		h.endSessionAndSignIn(w, r)
	case err != nil:
		h.internalError(w, r, "requesting phone change", err)
	default:
		p.CodeSentTo, _ = account.NormalizePhone(phone)
		p.NewPhone.Value = ""
		p.Code.Autofocus = true
		h.render(w, r, http.StatusOK, pageAccountPhone, p)
	}
}

// confirmPhoneChange answers POST /account/phone/confirm: with the code
// sent to the new number, the number changes — and with it the PIN is
// cleared and every phone sign-in ended (account.ConfirmPhoneChange).
func (h *Handler) confirmPhoneChange(w http.ResponseWriter, r *http.Request) {
	u, p, ok := h.clinicianPage(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	// The number the code went to, for the page only: the code knows
	// its number.
	p.CodeSentTo, _ = account.NormalizePhone(strings.TrimSpace(r.PostForm.Get("phone")))
	if p.CodeSentTo == "" {
		p.CodeSentTo = "your new number"
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	fail := func(status int) {
		p.Title = titlePhonePageError
		p.Code.Autofocus = true
		h.render(w, r, status, pageAccountPhone, p)
	}
	if code == "" {
		p.Code.Error = msgCodeMissing
		fail(http.StatusBadRequest)
		return
	}
	_, err := h.mobile.ConfirmPhoneChange(r.Context(), self(r, u), code)
	var locked *signin.LockedError
	switch {
	case errors.Is(err, account.ErrInvalidCode):
		p.Code.Error = msgCodeWrong
		fail(http.StatusBadRequest)
	case errors.As(err, &locked):
		p.CodeError = lockedMessage(locked)
		setRetryAfter(w, locked.RetryAfter)
		fail(http.StatusTooManyRequests)
	case errors.Is(err, account.ErrPhoneTaken):
		p.CodeSentTo, p.PhoneError = "", msgPhoneTaken
		fail(http.StatusConflict)
	case errors.Is(err, account.ErrNotActive), errors.Is(err, account.ErrNotClinician):
		h.endSessionAndSignIn(w, r)
	case err != nil:
		h.internalError(w, r, "confirming phone change", err)
	default:
		http.Redirect(w, r, "/account/phone?notice=phone-changed", http.StatusSeeOther)
	}
}
