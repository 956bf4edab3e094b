package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Activation ("first time on this phone", "forgot PIN"), for a phone
// client's request: number → a code by SMS → the code → choose a PIN →
// signed in with amr ["sms","pin"]. Each step loads the request through
// phoneRequest (bound to this browser).

// activatePage is the "enter your number" page.
type activatePage struct {
	Title         string
	ClientName    string
	AuthRequestID string
	FormError     string
	Phone         field
}

func newActivatePage(req storage.AuthRequest, c storage.Client, phone string) activatePage {
	p := activatePage{Title: titleActivate, ClientName: c.Name, AuthRequestID: req.ID, Phone: phoneField("phone", labelPhone, phone)}
	p.Phone.Autofocus = true
	return p
}

// codePage is the "enter the code" page.
type codePage struct {
	Title         string
	AuthRequestID string
	Number        string // as the user typed it, normalised when it parsed
	Expires       string
	FormError     string
	Code          field
}

func newCodePage(req storage.AuthRequest, number string) codePage {
	p := codePage{Title: titleCode, AuthRequestID: req.ID, Number: number, Expires: notify.HumanDuration(account.CodeTTL), Code: smsCodeField("code")}
	p.Code.Autofocus = true
	return p
}

// pinPage is the "choose your PIN" page.
type pinPage struct {
	Title         string
	AuthRequestID string
	Number        string // the confirmed number, for password managers
	FormError     string
	PIN, Confirm  field
}

func newPINPage(req storage.AuthRequest, number string) pinPage {
	p := pinPage{
		Title: titlePIN, AuthRequestID: req.ID, Number: number,
		PIN:     pinField("new-pin", "pin", labelNewPIN, "new-password"),
		Confirm: pinField("confirm-pin", "confirm", labelConfirmPN, "new-password"),
	}
	p.PIN.Hint = hintNewPIN
	return p
}

// showActivate answers GET /login/phone/activate?authRequestID=….
func (h *Handler) showActivate(w http.ResponseWriter, r *http.Request) {
	req, client, ok := h.phoneRequest(w, r, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, pagePhoneActivate, newActivatePage(req, client, ""))
}

// submitActivate answers POST /login/phone/activate: an activation code
// goes by SMS to the number when it is an active clinician's. The answer —
// the code page — is the same, after about the same time, whether or not
// it is (account.RequestActivationCode).
func (h *Handler) submitActivate(w http.ResponseWriter, r *http.Request) {
	if !h.parseSignInForm(w, r) {
		return
	}
	req, client, ok := h.phoneRequest(w, r, r.PostForm.Get("authRequestID"))
	if !ok {
		return
	}
	phone := strings.TrimSpace(r.PostForm.Get("phone"))
	p := newActivatePage(req, client, phone)
	if phone == "" {
		p.Title, p.Phone.Error = titleActivateError, msgPhoneMissing
		h.render(w, r, http.StatusBadRequest, pagePhoneActivate, p)
		return
	}
	err := h.mobile.RequestActivationCode(r.Context(), phone, sourceAddr(r))
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		p.Title, p.Phone.Error = titleActivateError, msgPhoneBad
		h.render(w, r, http.StatusBadRequest, pagePhoneActivate, p)
	case errors.Is(err, account.ErrThrottled):
		p.Title, p.FormError = titleActivateError, msgTryLater
		setRetryAfter(w, 15*time.Minute)
		h.render(w, r, http.StatusTooManyRequests, pagePhoneActivate, p)
	case errors.Is(err, account.ErrSMSUnavailable):
		h.log.ErrorContext(r.Context(), "login: activation asked for, but no SMS gateway is configured")
		h.RenderError(w, r, http.StatusServiceUnavailable, titleProblem, msgSMSUnavailable)
	case err != nil:
		h.internalError(w, r, "requesting activation code", err)
	default:
		number, _ := account.NormalizePhone(phone)
		h.render(w, r, http.StatusOK, pagePhoneCode, newCodePage(req, number))
	}
}

// submitCode answers POST /login/phone/code: when the code is right, the
// browser gets the activation ticket (an HttpOnly cookie bound to this
// request) and goes on to choose its PIN. A wrong code, an unknown number
// and a used or void code get the same answer.
func (h *Handler) submitCode(w http.ResponseWriter, r *http.Request) {
	if !h.parseSignInForm(w, r) {
		return
	}
	req, client, ok := h.phoneRequest(w, r, r.PostForm.Get("authRequestID"))
	if !ok {
		return
	}
	phone := strings.TrimSpace(r.PostForm.Get("phone"))
	code := strings.TrimSpace(r.PostForm.Get("code"))
	number, err := account.NormalizePhone(phone)
	if err != nil || number == "" {
		p := newActivatePage(req, client, phone)
		p.Title, p.Phone.Error = titleActivateError, msgPhoneBad
		h.render(w, r, http.StatusBadRequest, pagePhoneActivate, p)
		return
	}
	p := newCodePage(req, number)
	if code == "" {
		p.Title, p.Code.Error = titleCodeError, msgCodeMissing
		h.render(w, r, http.StatusBadRequest, pagePhoneCode, p)
		return
	}
	ticket, err := h.mobile.VerifyActivationCode(r.Context(), number, code, sourceAddr(r))
	var locked *signin.LockedError
	switch {
	case errors.Is(err, account.ErrInvalidCode):
		p.Title, p.Code.Error = titleCodeError, msgCodeWrong
		h.render(w, r, http.StatusBadRequest, pagePhoneCode, p)
	case errors.As(err, &locked):
		p.Title, p.FormError = titleCodeError, lockedMessage(locked)
		setRetryAfter(w, locked.RetryAfter)
		h.render(w, r, http.StatusTooManyRequests, pagePhoneCode, p)
	case err != nil:
		h.internalError(w, r, "verifying activation code", err)
	default:
		h.setTicket(w, req.ID, ticket)
		http.Redirect(w, r, pathPhonePIN+"?authRequestID="+url.QueryEscape(req.ID), http.StatusSeeOther)
	}
}

// pinTicket returns the ticket this browser holds for req and the number
// it confirmed. Without a usable one it has answered with the number page
// ("start again") and reports false.
func (h *Handler) pinTicket(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client) (ticket, number string, ok bool) {
	ticket = h.ticketFor(r, req)
	if ticket != "" {
		info, err := h.mobile.CheckLink(r.Context(), storage.PurposeMobilePIN, ticket)
		switch {
		case err == nil:
			return ticket, info.NewEmail, true // SentTo: the confirmed number
		case !errors.Is(err, account.ErrInvalidLink) && !errors.Is(err, account.ErrLinkUsed):
			h.internalError(w, r, "checking activation ticket", err)
			return "", "", false
		}
	}
	h.log.InfoContext(r.Context(), "login: PIN page without a usable activation ticket", "client", client)
	// A ticket of another request stays: that sign-in may still go on.
	h.ticketGone(w, r, req, client, ticket != "")
	return "", "", false
}

// ticketGone sends the browser back to the start of activation, expiring
// its ticket cookie when clear.
func (h *Handler) ticketGone(w http.ResponseWriter, r *http.Request, req storage.AuthRequest, client storage.Client, clear bool) {
	if clear {
		h.clearTicket(w)
	}
	p := newActivatePage(req, client, "")
	p.Title, p.FormError = titleActivateError, msgTicketGone
	h.render(w, r, http.StatusBadRequest, pagePhoneActivate, p)
}

// showPIN answers GET /login/phone/pin?authRequestID=….
func (h *Handler) showPIN(w http.ResponseWriter, r *http.Request) {
	req, client, ok := h.phoneRequest(w, r, r.URL.Query().Get("authRequestID"))
	if !ok {
		return
	}
	_, number, ok := h.pinTicket(w, r, req, client)
	if !ok {
		return
	}
	p := newPINPage(req, number)
	p.PIN.Autofocus = true
	h.render(w, r, http.StatusOK, pagePhonePIN, p)
}

// submitPIN answers POST /login/phone/pin: the PIN is set (policy
// checked, the ticket used up, earlier phone sign-ins revoked) and the
// browser is signed in by phone; the request completes with amr
// ["sms","pin"].
func (h *Handler) submitPIN(w http.ResponseWriter, r *http.Request) {
	if !h.parseSignInForm(w, r) {
		return
	}
	req, client, ok := h.phoneRequest(w, r, r.PostForm.Get("authRequestID"))
	if !ok {
		return
	}
	ticket, number, ok := h.pinTicket(w, r, req, client)
	if !ok {
		return
	}
	p := newPINPage(req, number)
	pinText, confirm := r.PostForm.Get("pin"), r.PostForm.Get("confirm")
	fail := func(status int) {
		p.Title = titlePINError
		focusFirstError(&p.PIN, &p.Confirm)
		h.render(w, r, status, pagePhonePIN, p)
	}
	switch {
	case pinText == "":
		p.PIN.Error = msgPINMissing
	case confirm == "":
		p.Confirm.Error = msgPINConfirm
	case pinText != confirm:
		p.Confirm.Error = msgPINsDiffer
	}
	if p.PIN.Error != "" || p.Confirm.Error != "" {
		fail(http.StatusBadRequest)
		return
	}
	u, err := h.mobile.SetPIN(r.Context(), ticket, pinText, sourceAddr(r))
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		p.PIN.Error = fe.Message // the policy's own words (package pin)
		fail(http.StatusBadRequest)
	case errors.Is(err, account.ErrInvalidLink), errors.Is(err, account.ErrLinkUsed):
		h.ticketGone(w, r, req, client, true)
	case err != nil:
		h.internalError(w, r, "setting PIN", err)
	default:
		h.clearTicket(w)
		h.phoneSignedIn(w, r, req, client, u, account.AMRActivation())
	}
}
