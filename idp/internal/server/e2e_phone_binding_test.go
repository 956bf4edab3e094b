package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestPhoneEmailSessionRefused: a session signed in by email never
// answers a phone client — not by single sign-on, not through the
// "Continue as" button, not with prompt=none — and email and password
// posted for a phone client's request are refused; the other way round, a
// phone session answers no email client and opens no account page. (A
// clinician's phone change ends phone sessions; an email session that
// could sign the app in again would survive it.)
func TestPhoneEmailSessionRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newPhoneEnv(t, b, "webhook")
			number := e.number()
			u := e.clinician(t, number)
			e.activateApp(t, number, 1, pinA)

			web := e.browser()
			if !e.signInDirect(t, web, u.Email, newPassword) {
				t.Fatal("email sign-in failed")
			}
			f := e.appFlow()
			p := web.get(t, f.authURL())
			assertNoCode(t, "SSO of an email session into the app", p)
			mustContain(t, "the app's page in a browser signed in by email", p, http.StatusOK, `action="/login/phone"`, `type="tel"`)
			if strings.Contains(p.body, "/login/continue") {
				t.Fatal("an email session was offered to continue into the phone client")
			}
			id := requestIDOf(t, p)

			back := clientRedirect(t, web.get(t, f.authURL(oauth2.SetAuthURLParam("prompt", "none"))))
			if back.Query().Get("error") != "login_required" || back.Query().Get("code") != "" {
				t.Errorf("prompt=none with an email session: back at the app with %s, want login_required", back)
			}

			p = web.noFollow().form(t, "/login/continue", url.Values{"authRequestID": {id}})
			assertNoCode(t, "Continue posted for the app's request", p)
			mustContain(t, "Continue posted for the app's request", p, http.StatusOK, `action="/login/phone"`)

			p = web.noFollow().form(t, "/login", url.Values{"authRequestID": {id}, "email": {u.Email}, "password": {newPassword}})
			assertNoCode(t, "email and password posted for the app's request", p)
			mustContain(t, "email and password posted for the app's request", p, http.StatusBadRequest,
				"This application signs in with your mobile number and PIN.")

			// A phone session does not answer an email client, nor may a
			// PIN sign in to one, nor open the account page.
			_, _, _, phone := e.signInByPhone(t, number, pinA)
			wf := newFlow(e.oauth2Config(e.createClient(t, admits(storage.UserTypeClinician))))
			p = phone.get(t, wf.authURL())
			assertNoCode(t, "SSO of a phone session into a web module", p)
			mustContain(t, "a web module's page in a browser signed in by phone", p, http.StatusOK, `name="email"`, `name="password"`)
			p = e.pinSignIn(phone, t, requestIDOf(t, p), number, pinA)
			assertNoCode(t, "a PIN posted for a web module's request", p)
			if p.StatusCode != http.StatusBadRequest {
				t.Errorf("a PIN posted for a web module's request: status %d", p.StatusCode)
			}
			back = clientRedirect(t, phone.get(t, wf.authURL(oauth2.SetAuthURLParam("prompt", "none"))))
			if back.Query().Get("error") != "login_required" {
				t.Errorf("prompt=none with a phone session at a web module: %s", back)
			}
			p = phone.get(t, e.issuer+"/account")
			if p.StatusCode != http.StatusOK || !strings.Contains(p.body, `name="password"`) || strings.Contains(p.body, "Your account") {
				t.Errorf("the account page with a phone session: %d %.500s", p.StatusCode, p.body)
			}
		})
	}
}

// TestPhoneActivationTicketBound: the ticket that confirming the SMS code
// earns (and that sets the PIN and signs in) lives only in an HttpOnly,
// SameSite=Strict cookie that names its authorization request — never in
// a URL or a page — and works only for that request, in the browser the
// request is bound to.
func TestPhoneActivationTicketBound(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newPhoneEnv(t, b, "webhook")
			number := e.number()
			u := e.clinician(t, number)

			victim := e.phoneBrowser()
			f := e.appFlow()
			idX := requestIDOf(t, victim.get(t, f.authURL()))
			victim.form(t, "/login/phone/activate", url.Values{"authRequestID": {idX}, "phone": {number}})
			code := e.sms.code(number, 1, e.issuer)
			p := victim.noFollow().form(t, "/login/phone/code", url.Values{"authRequestID": {idX}, "phone": {number}, "code": {code}})
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login/phone/pin?authRequestID="+url.QueryEscape(idX) {
				t.Fatalf("after the code: %d, Location %q", p.StatusCode, p.Header.Get("Location"))
			}
			var ticket *http.Cookie
			for _, c := range p.Cookies() {
				if c.Name == "cc_pin_ticket" {
					ticket = c
				}
			}
			if ticket == nil || !ticket.HttpOnly || ticket.SameSite != http.SameSiteStrictMode || ticket.Path != "/" ||
				ticket.MaxAge <= 0 || ticket.MaxAge > 600 || !strings.HasPrefix(ticket.Value, idX+".") {
				t.Fatalf("ticket cookie: %+v", ticket)
			}
			secret := strings.TrimPrefix(ticket.Value, idX+".")
			if len(secret) < 43 {
				t.Fatalf("ticket of %d characters", len(secret))
			}
			pinPage := victim.get(t, e.issuer+p.Header.Get("Location"))
			mustContain(t, "PIN page", pinPage, http.StatusOK, "Choose your PIN")
			if strings.Contains(pinPage.body, secret) || strings.Contains(p.Header.Get("Location"), secret) {
				t.Fatal("the ticket appears in a URL or a page")
			}
			pin := url.Values{"pin": {pinB}, "confirm": {pinB}}
			with := func(id string) url.Values {
				v := url.Values{"authRequestID": {id}}
				for k, x := range pin {
					v[k] = x
				}
				return v
			}

			// Another browser holding a copy of the cookie: its own
			// request does not take a ticket issued for another, and the
			// victim's request is not its to continue.
			attacker := e.phoneBrowser()
			af := e.appFlow()
			idY := requestIDOf(t, attacker.get(t, af.authURL()))
			attacker.c.Jar.SetCookies(mustParse(t, e.issuer), []*http.Cookie{{Name: ticket.Name, Value: ticket.Value, Path: "/"}})
			p = attacker.noFollow().form(t, "/login/phone/pin", with(idY))
			assertNoCode(t, "the copied ticket with the attacker's request", p)
			mustContain(t, "the copied ticket with the attacker's request", p, http.StatusBadRequest, "Enter your number again")
			p = attacker.noFollow().form(t, "/login/phone/pin", with(idX))
			assertNoCode(t, "the copied ticket with the victim's request", p)
			mustContain(t, "the victim's request in the attacker's browser", p, http.StatusForbidden, "started somewhere else")

			// The victim's browser, another request: the ticket is the
			// first request's.
			idZ := requestIDOf(t, victim.get(t, e.appFlow().authURL()))
			p = victim.noFollow().form(t, "/login/phone/pin", with(idZ))
			assertNoCode(t, "the ticket with another request of the same browser", p)
			mustContain(t, "the ticket with another request of the same browser", p, http.StatusBadRequest, "Enter your number again")
			mustContain(t, "showing the PIN page for another request", victim.get(t, e.issuer+"/login/phone/pin?authRequestID="+url.QueryEscape(idZ)),
				http.StatusBadRequest, "Enter your number again")

			// Its own request: the PIN is set and the app signed in.
			p = victim.noFollow().form(t, "/login/phone/pin", with(idX))
			if _, _, claims := e.appTokens(t, f, victim.follow(t, p)); claims["sub"] != u.ID || amr(claims) != "sms,pin" {
				t.Fatalf("activation: %v", claims)
			}
			cleared := false
			for _, c := range p.Cookies() {
				cleared = cleared || (c.Name == ticket.Name && c.MaxAge < 0)
			}
			if !cleared {
				t.Error("the ticket cookie was not cleared after use")
			}
			// Used up: the same cookie again sets nothing.
			victim.c.Jar.SetCookies(mustParse(t, e.issuer), []*http.Cookie{{Name: ticket.Name, Value: ticket.Value, Path: "/"}})
			p = victim.noFollow().form(t, "/login/phone/pin", url.Values{"authRequestID": {idX}, "pin": {pinA}, "confirm": {pinA}})
			assertNoCode(t, "the used ticket", p)
			if p.StatusCode != http.StatusBadRequest {
				t.Errorf("the used ticket: status %d", p.StatusCode)
			}
			if _, _, claims, _ := e.signInByPhone(t, number, pinB); claims["sub"] != u.ID {
				t.Fatal("the PIN set through the ticket does not sign in")
			}
		})
	}
}
