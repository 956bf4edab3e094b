package login

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Only a session of the client's sign-in method answers it.
func TestSessionServes(t *testing.T) {
	for _, tc := range []struct {
		session, client string
		want            bool
	}{
		{storage.SignInPhone, storage.SignInPhone, true},
		{storage.SignInEmail, storage.SignInPhone, false},
		{"", storage.SignInPhone, false},
		{storage.SignInEmail, storage.SignInEmail, true},
		{"", "", true},
		{storage.SignInPhone, storage.SignInEmail, false},
		{storage.SignInPhone, "", false},
	} {
		c := storage.Client{SignInMethod: tc.client}
		if got := sessionServes(storage.Session{SignInMethod: tc.session}, c); got != tc.want {
			t.Errorf("session %q, client %q: %v, want %v", tc.session, tc.client, got, tc.want)
		}
	}
	if accountSession(storage.Session{SignInMethod: storage.SignInPhone}) || !accountSession(storage.Session{}) {
		t.Error("accountSession: only email sessions open the account pages")
	}
}

// The phone pages parse at start-up and render the markup phones and
// password managers need; nothing the user typed but the number comes
// back, and no PIN ever does.
func TestPhonePagesRender(t *testing.T) {
	p, err := parsePhonePages(templateFS)
	if err != nil {
		t.Fatalf("parsePhonePages: %v", err)
	}
	h := &Handler{pages: p, log: discardLogger()}
	req := storage.AuthRequest{ID: "req-1"}
	client := storage.Client{Name: "Mobile"}
	login := newPhoneForm(req, client, "+14155550123")
	login.fail(msgPhoneInvalid)
	code := newCodePage(req, "+14155550123")
	code.Code.Error = msgCodeWrong
	pin := newPINPage(req, "+14155550123")
	pin.PIN.Error = "Choose a PIN that is not a run of digits."
	phonePg := phonePage{Title: titlePhonePage, Status: account.MobileStatus{State: storage.MobileActive, Phone: "+14155550123", PhoneVerified: true},
		CodeSentTo: "+14155550999", Code: smsCodeField("code"), NewPhone: phoneField("new-phone", labelNewPhone, "")}
	for name, tc := range map[string]struct {
		page string
		data any
		want []string
	}{
		"sign-in": {pagePhoneLogin, login, []string{
			`type="tel"`, `autocomplete="tel"`, `name="pin" type="password" autocomplete="current-password"`, `inputmode="numeric"`,
			`value="&#43;14155550123"`, `action="/login/phone"`, `name="authRequestID" value="req-1"`,
			`href="/login/phone/activate?authRequestID=req-1"`, `role="alert"`, "Mobile",
		}},
		"activate": {pagePhoneActivate, newActivatePage(req, client, ""), []string{`action="/login/phone/activate"`, `autocomplete="tel"`, "autofocus"}},
		"code": {pagePhoneCode, code, []string{
			`autocomplete="one-time-code"`, `inputmode="numeric"`, `name="phone" value="&#43;14155550123"`,
			`id="code-error"`, "10 minutes", `action="/login/phone/activate"`,
		}},
		"pin": {pagePhonePIN, pin, []string{
			`id="new-pin"`, `autocomplete="new-password"`, `inputmode="numeric"`, `id="confirm-pin"`, `autocomplete="username"`,
			`id="new-pin-hint"`, "not a run of digits",
		}},
		"name":  {pageAccountName, newNamePage(storage.User{GivenName: "Ann", FamilyName: "Lee"}), []string{`value="Ann"`, `autocomplete="given-name"`, `autocomplete="family-name"`}},
		"phone": {pageAccountPhone, phonePg, []string{"Active", "confirmed by text message", `action="/account/phone/confirm"`, `autocomplete="one-time-code"`, `action="/account/phone"`}},
		"sign-ins": {pageSignIns, signInsPage{Title: titleSignIns, Items: []signInItem{{Kind: "session", ID: "abc", What: "Browser", Device: "Firefox", Current: true}}},
			[]string{`name="kind" value="session"`, `name="id" value="abc"`, "(this browser)", "Firefox", `action="/account/sign-ins/end"`}},
	} {
		rec := httptest.NewRecorder()
		h.render(rec, httptest.NewRequest("GET", "/", nil), 200, tc.page, tc.data)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Errorf("%s: status %d: %s", name, rec.Code, body)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: lacks %q:\n%s", name, w, body)
			}
		}
		if strings.Count(body, "autofocus") > 1 {
			t.Errorf("%s: more than one autofocus", name)
		}
	}
}
