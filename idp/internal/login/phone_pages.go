package login

import (
	"errors"
	"io/fs"
	"maps"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
)

// The phone sign-in pages (a client whose sign-in method is phone: mobile
// number and PIN, activation by SMS code) and the account pages for the
// name, the mobile number and the list of sign-ins. They share the layout
// and the field partial with the account pages.
const (
	pagePhoneLogin    = "phone_login.html"
	pagePhoneActivate = "phone_activate.html"
	pagePhoneCode     = "phone_code.html"
	pagePhonePIN      = "phone_pin.html"
	pageAccountName   = "account_name.html"
	pageAccountPhone  = "account_phone.html"
	pageSignIns       = "account_signins.html"
)

var phonePageNames = []string{
	pagePhoneLogin, pagePhoneActivate, pagePhoneCode, pagePhonePIN,
	pageAccountName, pageAccountPhone, pageSignIns,
}

func parsePhonePages(fsys fs.FS) (pages, error) {
	return parsePageSet(fsys, phonePageNames, partialFields)
}

// RegisterPhone mounts the phone sign-in pages and the account pages for
// the name, the mobile number and the sign-ins, served by the use cases of
// m, every POST guarded by http.CrossOriginProtection. Call it once,
// before serving, after RegisterAccount. Without it, a phone client's
// sign-in shows that phone sign-in is not available.
//
// Every page that continues an authorization request loads it through
// loadRequest (bound to the browser that started it) and finishes through
// complete.
func (h *Handler) RegisterPhone(mux *http.ServeMux, m *account.Mobile) error {
	if m == nil || m.Service == nil {
		return errors.New("login: RegisterPhone needs an account.Mobile")
	}
	if h.acct == nil {
		return errors.New("login: RegisterPhone needs RegisterAccount first")
	}
	p, err := parsePhonePages(templateFS)
	if err != nil {
		return err
	}
	maps.Copy(h.pages, p)
	h.mobile = m
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(h.forbidden))
	for pattern, fn := range map[string]http.HandlerFunc{
		"POST " + pathPhoneLogin:      h.submitPhoneLogin,
		"GET " + pathPhoneActivate:    h.showActivate,
		"POST " + pathPhoneActivate:   h.submitActivate,
		"POST " + pathPhoneCode:       h.submitCode,
		"GET " + pathPhonePIN:         h.showPIN,
		"POST " + pathPhonePIN:        h.submitPIN,
		"GET /account/name":           h.showName,
		"POST /account/name":          h.submitName,
		"GET /account/phone":          h.showPhone,
		"POST /account/phone":         h.requestPhoneChange,
		"POST /account/phone/confirm": h.confirmPhoneChange,
		"GET /account/sign-ins":       h.showSignIns,
		"POST /account/sign-ins/end":  h.endSignIn,
	} {
		mux.Handle(pattern, csrf.Handler(fn))
	}
	return nil
}

// Paths of the phone sign-in pages.
const (
	pathPhoneLogin    = "/login/phone"
	pathPhoneActivate = "/login/phone/activate"
	pathPhoneCode     = "/login/phone/code"
	pathPhonePIN      = "/login/phone/pin"
)

// phoneField is the mobile number input: type tel, so phones show the
// dial pad and password managers and the browser fill the number.
func phoneField(id, label, value string) field {
	return field{ID: id, Name: "phone", Label: label, Type: "tel", Autocomplete: "tel", Value: value, Hint: hintPhone}
}

// pinField is a PIN input: a password field with the numeric keyboard.
func pinField(id, name, label, autocomplete string) field {
	return field{ID: id, Name: name, Label: label, Type: "password", InputMode: "numeric", Autocomplete: autocomplete}
}

// smsCodeField is the SMS code input: one-time-code lets the phone offer the
// code from the text message (whose last line binds it to this origin).
func smsCodeField(id string) field {
	return field{ID: id, Name: "code", Label: labelCode, Type: "text", InputMode: "numeric", Autocomplete: "one-time-code"}
}
