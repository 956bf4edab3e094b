package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Clinician mobile sign-in end to end (issue 9): the real server on each
// backend, SMS through a webhook or a Twilio-compatible API served in this
// process, email through SMTP in this process, the mobile app played by
// golang.org/x/oauth2 (code + PKCE) and go-oidc, its in-app browser by a
// cookie-jar client.

const (
	pinA = "480257"
	pinB = "730419"
)

// number is a valid, unused mobile number of the 415-555 range.
func (e *phoneEnv) number() string { return fmt.Sprintf("+14155550%03d", 100+e.n.Add(1)%900) }

func TestPhoneSignInE2E(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *phoneEnv)
	}{
		{"phone change by an admin", testPhoneChangeByAdmin},
		{"phone change on the account page", testPhoneChangeByClinician},
		{"employees and admins without a clinician record", testPhoneNotForEmployees},
		{"wrong PINs lock, then void the PIN", testPINLocks},
		{"SMS and code limits", testSMSLimits},
		{"unknown numbers get the same pages", testUnknownNumbers},
		{"name and sign-ins on the account page", testAccountProfile},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, gw := range []string{"webhook", "twilio"} {
				t.Run("activation and PIN through the "+gw, func(t *testing.T) { testPhoneActivation(t, newPhoneEnv(t, b, gw)) })
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, newPhoneEnv(t, b, "webhook")) })
			}
		})
	}
}

// signInByPhone runs the app's flow in a fresh phone browser with number
// and PIN and returns the tokens, the claims and the browser.
func (e *phoneEnv) signInByPhone(t *testing.T, number, pin string) (*flow, *oauth2.Token, map[string]any, *browser) {
	t.Helper()
	f, b := e.appFlow(), e.phoneBrowser()
	p := b.get(t, f.authURL())
	p = e.pinSignIn(b, t, requestIDOf(t, p), number, pin)
	tok, _, claims := e.appTokens(t, f, p)
	return f, tok, claims, b
}

// activateApp activates the app for number in a fresh phone browser (the
// n-th SMS to number carries the code) and returns the tokens.
func (e *phoneEnv) activateApp(t *testing.T, number string, n int, pin string) (*flow, *oauth2.Token, map[string]any, *browser) {
	t.Helper()
	f, b := e.appFlow(), e.phoneBrowser()
	p := b.get(t, f.authURL())
	p = e.activate(t, b, requestIDOf(t, p), number, n, pin)
	tok, _, claims := e.appTokens(t, f, p)
	return f, tok, claims, b
}

func testPhoneActivation(t *testing.T, e *phoneEnv) {
	ctx := context.Background()
	number := e.number()
	u := e.clinician(t, number)

	f, b := e.appFlow(), e.phoneBrowser()
	p := b.get(t, f.authURL())
	mustContain(t, "the phone client's sign-in page", p, http.StatusOK,
		`type="tel"`, `autocomplete="tel"`, `name="pin"`, `type="password" autocomplete="current-password"`,
		`inputmode="numeric"`, `action="/login/phone"`, "First time on this phone", "/login/phone/activate?authRequestID=")
	if strings.Contains(p.body, `name="email"`) || strings.Contains(p.body, `action="/login"`) {
		t.Fatalf("a phone client's page asks for an email: %.800s", p.body)
	}
	id := requestIDOf(t, p)
	// Before activation the number has no PIN: the answer of a wrong one.
	p = e.pinSignIn(b, t, id, number, pinA)
	mustContain(t, "PIN before activation", p, http.StatusUnauthorized, "The mobile number or PIN is incorrect.")

	// A PIN the policy refuses keeps the ticket usable.
	p = b.get(t, e.issuer+"/login/phone/activate?authRequestID="+url.QueryEscape(id))
	p = b.form(t, "/login/phone/activate", url.Values{"authRequestID": {id}, "phone": {number}})
	mustContain(t, "code page", p, http.StatusOK, `autocomplete="one-time-code"`, "10 minutes")
	code := e.sms.code(number, 1, e.issuer)
	p = b.form(t, "/login/phone/code", url.Values{"authRequestID": {id}, "phone": {number}, "code": {code}})
	mustContain(t, "PIN page", p, http.StatusOK, "Choose your PIN", `autocomplete="username"`, `value="`+htmlText(number)+`"`)
	p = b.form(t, "/login/phone/pin", url.Values{"authRequestID": {id}, "pin": {"123456"}, "confirm": {"123456"}})
	mustContain(t, "a run as PIN", p, http.StatusBadRequest, `aria-invalid="true"`)
	p = b.form(t, "/login/phone/pin", url.Values{"authRequestID": {id}, "pin": {pinA}, "confirm": {pinB}})
	mustContain(t, "PINs that differ", p, http.StatusBadRequest, "The PINs do not match.")
	p = b.form(t, "/login/phone/pin", url.Values{"authRequestID": {id}, "pin": {pinA}, "confirm": {pinA}})

	tok, idt, claims := e.appTokens(t, f, p)
	if idt.Subject != u.ID || claims["user_type"] != "clinician" || amr(claims) != "sms,pin" {
		t.Fatalf("ID token after activation: %v", claims)
	}
	if roles, ok := claims["roles"].([]any); !ok || len(roles) != 0 {
		t.Errorf("roles claim %v, want []", claims["roles"])
	}
	// Scope claims come from userinfo (OIDC Core 5.4, with an access
	// token): the number, confirmed by the SMS code.
	e.checkPhoneClaims(t, tok, u.ID, number)
	if _, err := e.refresh(f.cfg, tok.RefreshToken); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	// The app's family and the browser session carry the phone's device.
	list, err := e.store.ListSignIns(ctx, u.ID, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, si := range list {
		kinds = append(kinds, si.Kind+"/"+si.Method)
		if si.Device != mobileUA {
			t.Errorf("sign-in %s/%s has device %q, want the phone's User-Agent", si.Kind, si.Method, si.Device)
		}
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []string{"session/phone", "tokens/phone"}) {
		t.Errorf("sign-ins after activation: %v", kinds)
	}
	m, err := e.admin.GetClinicianMobile(ctx, u.ID)
	if err != nil || m.State != api.MobileActive || !m.PhoneVerified {
		t.Fatalf("mobile credential after activation: %+v, %v", m, err)
	}

	// The same browser: single sign-on into the app, silently.
	f2 := e.appFlow()
	if _, _, c := e.appTokens(t, f2, b.get(t, f2.authURL())); c["sub"] != u.ID {
		t.Fatalf("SSO claims: %v", c)
	}
	// Another phone client this session never used: "Continue as" first
	// (issue 8), and prompt=none shows no page.
	other := e.createClient(t, public, admits(storage.UserTypeClinician), redirects("com.cliniconnects.other:/cb"),
		func(c *storage.Client) { c.SignInMethod = storage.SignInPhone })
	of := newFlow(e.oauth2Config(other, appScopes...))
	back := clientRedirect(t, b.get(t, of.authURL(oauth2.SetAuthURLParam("prompt", "none"))))
	if back.Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none into a new phone client: %s", back)
	}
	of = newFlow(e.oauth2Config(other, appScopes...))
	p = b.get(t, of.authURL())
	mustContain(t, "Continue page", p, http.StatusOK, `action="/login/continue"`)
	p = b.form(t, "/login/continue", url.Values{"authRequestID": {requestIDOf(t, p)}})
	if _, err := of.exchange(ctx, of.code(t, clientRedirect(t, p))); err != nil {
		t.Fatalf("exchange after Continue: %v", err)
	}

	// Another phone: number and PIN, amr ["pin"].
	_, tok, claims, _ = e.signInByPhone(t, number, pinA)
	if claims["sub"] != u.ID || amr(claims) != "pin" {
		t.Fatalf("PIN sign-in claims: %v", claims)
	}
	e.checkPhoneClaims(t, tok, u.ID, number)

	// Two factors asked of the app (acr_values=mfa): number and PIN cannot
	// give them, and the app is told so, also with a phone session.
	for _, br := range []*browser{b, e.phoneBrowser()} {
		f := e.appFlow()
		back := clientRedirect(t, br.get(t, f.authURL(oauth2.SetAuthURLParam("acr_values", "mfa"))))
		if back.Query().Get("error") != "access_denied" || back.Query().Get("code") != "" {
			t.Errorf("acr_values=mfa at the phone client: back at the app with %s", back)
		}
	}

	var actions []string
	for _, a := range e.auditActions(t, u.ID) {
		if strings.HasPrefix(a.Action, "mobile.") {
			actions = append(actions, a.Action)
			if a.SourceAddr != "127.0.0.1" {
				t.Errorf("%s: source %q", a.Action, a.SourceAddr)
			}
		}
	}
	for _, want := range []string{account.ActionMobileActivationRequested, account.ActionMobilePhoneVerified, account.ActionMobileActivated} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

// phoneChangeChecks are what a phone change must have done, by whoever:
// the app's refresh token is dead, the old number no longer signs in, the
// web module's email sign-in lives on, the notice is mailed, and the new
// number activates and signs in.
func (e *phoneEnv) phoneChangeChecks(t *testing.T, u storage.User, oldNumber, newNumber string, sent int, app *flow, appTok *oauth2.Token, web *flow, webTok *oauth2.Token, appBrowser *browser) {
	t.Helper()
	if _, err := e.refresh(app.cfg, appTok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("the app's refresh token after the phone change: %v, want invalid_grant", err)
	}
	if _, err := e.refresh(web.cfg, webTok.RefreshToken); err != nil {
		t.Errorf("the web module's refresh token after the phone change: %v", err)
	}
	// The phone's browser session is gone: the app's sign-in page again.
	p := appBrowser.get(t, e.appFlow().authURL())
	mustContain(t, "the phone's SSO after the change", p, http.StatusOK, `action="/login/phone"`)
	p = e.pinSignIn(appBrowser, t, requestIDOf(t, p), oldNumber, pinA)
	mustContain(t, "the old number", p, http.StatusUnauthorized, "The mobile number or PIN is incorrect.")
	e.mail.wait(u.Email, "mobile number", 1)
	if !e.canSignIn(t, u.Email, newPassword) {
		t.Error("email sign-in on the web stopped working after the phone change")
	}
	_, tok, claims, _ := e.activateApp(t, newNumber, sent+1, pinB)
	if claims["sub"] != u.ID || amr(claims) != "sms,pin" {
		t.Fatalf("activation on the new number: %v", claims)
	}
	e.checkPhoneClaims(t, tok, u.ID, newNumber)
	if _, _, claims, _ = e.signInByPhone(t, newNumber, pinB); amr(claims) != "pin" {
		t.Fatalf("PIN sign-in on the new number: %v", claims)
	}
}

// signedInEverywhere activates u's app on number and signs u in to a web
// module by email.
func (e *phoneEnv) signedInEverywhere(t *testing.T, u storage.User, number string) (app *flow, appTok *oauth2.Token, appBrowser *browser, web *flow, webTok *oauth2.Token) {
	t.Helper()
	app, appTok, _, appBrowser = e.activateApp(t, number, 1, pinA)
	web = newFlow(e.oauth2Config(e.createClient(t, admits(storage.UserTypeClinician))))
	code := web.code(t, e.browser().signIn(t, web.authURL(), u.Email, newPassword))
	webTok, err := web.exchange(context.Background(), code)
	if err != nil {
		t.Fatalf("web sign-in: %v", err)
	}
	return app, appTok, appBrowser, web, webTok
}

func testPhoneChangeByAdmin(t *testing.T, e *phoneEnv) {
	ctx := context.Background()
	oldNumber, newNumber := e.number(), e.number()
	u := e.clinician(t, oldNumber)
	app, appTok, appBrowser, web, webTok := e.signedInEverywhere(t, u, oldNumber)

	cur, err := e.admin.GetClinician(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.UpdateClinician(ctx, u.ID, cur.Version, api.ClinicianUpdate{Phone: &newNumber}); err != nil {
		t.Fatalf("admin phone change: %v", err)
	}
	m, err := e.admin.GetClinicianMobile(ctx, u.ID)
	if err != nil || m.State != api.MobileNone || m.PhoneVerified || len(m.Sessions) != 0 {
		t.Fatalf("mobile credential after the admin's change: %+v, %v", m, err)
	}
	e.phoneChangeChecks(t, u, oldNumber, newNumber, 0, app, appTok, web, webTok, appBrowser)
}

func testPhoneChangeByClinician(t *testing.T, e *phoneEnv) {
	oldNumber, newNumber := e.number(), e.number()
	u := e.clinician(t, oldNumber)
	app, appTok, appBrowser, web, webTok := e.signedInEverywhere(t, u, oldNumber)

	b := e.browser()
	if !e.signInDirect(t, b, u.Email, newPassword) {
		t.Fatal("email sign-in to the account page failed")
	}
	mustContain(t, "account page", b.get(t, e.issuer+"/account"), http.StatusOK, `href="/account/phone"`, `href="/account/sign-ins"`, `href="/account/name"`)
	mustContain(t, "phone page", b.get(t, e.issuer+"/account/phone"), http.StatusOK,
		htmlText(oldNumber), "(confirmed by text message)", "Active", `type="tel"`)

	p := b.form(t, "/account/phone", url.Values{"phone": {"0415 555"}})
	mustContain(t, "a bad number", p, http.StatusBadRequest, "international form")
	p = b.form(t, "/account/phone", url.Values{"phone": {oldNumber}})
	mustContain(t, "the same number", p, http.StatusBadRequest, "already your mobile number")
	p = b.form(t, "/account/phone", url.Values{"phone": {newNumber}})
	mustContain(t, "code sent", p, http.StatusOK, "We have sent a 6-digit code to "+htmlText(newNumber), `autocomplete="one-time-code"`)
	code := e.sms.code(newNumber, 1, e.issuer)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	p = b.form(t, "/account/phone/confirm", url.Values{"code": {wrong}, "phone": {newNumber}})
	mustContain(t, "a wrong code", p, http.StatusBadRequest, "The code is wrong or no longer valid.")
	if got, _ := e.store.GetUser(context.Background(), u.ID); got.Phone != oldNumber {
		t.Fatal("the number changed before the right code")
	}
	p = b.noFollow().form(t, "/account/phone/confirm", url.Values{"code": {code}, "phone": {newNumber}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/account/phone?notice=phone-changed" {
		t.Fatalf("confirming: %d %s: %.400s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	mustContain(t, "phone page after the change", b.get(t, e.issuer+"/account/phone?notice=phone-changed"), http.StatusOK,
		"Your mobile number has been changed.", htmlText(newNumber), "(confirmed by text message)", "Not activated")
	changed := false
	for _, a := range e.auditActions(t, u.ID) {
		if a.Action == account.ActionPhoneChanged {
			changed = a.ActorID == u.ID && a.SourceAddr == "127.0.0.1"
		}
	}
	if !changed {
		t.Error("no user.phone_change by the clinician with the source address in the audit log")
	}
	// The new number had one SMS: the code that confirmed it.
	e.phoneChangeChecks(t, u, oldNumber, newNumber, 1, app, appTok, web, webTok, appBrowser)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func testPhoneNotForEmployees(t *testing.T, e *phoneEnv) {
	ctx := context.Background()
	number := e.number()
	email := "emp." + randHex(6) + "@example.com"
	emp, err := e.admin.CreateEmployee(ctx, api.NewEmployee{GivenName: "Kofi", FamilyName: "Boateng", Email: email, Phone: number})
	if err != nil {
		t.Fatal(err)
	}
	link := e.mail.wait(email, "invited", 1).link(t, e.issuer, "/invite")
	mustContain(t, "employee invitation", e.browser().form(t, "/invite", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}}),
		http.StatusOK, "Your account is ready")

	// An employee's number: the activation page answers as for anyone,
	// and no code is queued; no PIN signs in.
	f, b := e.appFlow(), e.phoneBrowser()
	id := requestIDOf(t, b.get(t, f.authURL()))
	p := b.form(t, "/login/phone/activate", url.Values{"authRequestID": {id}, "phone": {number}})
	mustContain(t, "activation for an employee's number", p, http.StatusOK, "If "+htmlText(number)+" is the mobile number of a clinician account")
	for _, m := range e.outbox(t) {
		if m.To == number {
			t.Fatalf("a code was queued for an employee's number")
		}
	}
	p = e.pinSignIn(b, t, id, number, pinA)
	mustContain(t, "employee PIN", p, http.StatusUnauthorized, "The mobile number or PIN is incorrect.")

	// An employee, and an admin without a clinician record, signed in by
	// email: the app gets access_denied, with or without prompt=none.
	admin := e.createUser(t, storage.UserTypeEmployee, storage.RoleAdmin)
	for who, creds := range map[string][2]string{"employee": {emp.Email, newPassword}, "admin": {admin.Email, userPassword}} {
		b := e.browser()
		if !e.signInDirect(t, b, creds[0], creds[1]) {
			t.Fatalf("%s: email sign-in failed", who)
		}
		for _, extra := range [][]oauth2.AuthCodeOption{nil, {oauth2.SetAuthURLParam("prompt", "none")}} {
			f := e.appFlow()
			back := clientRedirect(t, b.get(t, f.authURL(extra...)))
			if back.Query().Get("error") != "access_denied" || back.Query().Get("code") != "" || back.Query().Get("state") != f.state {
				t.Errorf("%s signed in by email, app sign-in (%d options): back at the app with %s", who, len(extra), back)
			}
		}
	}
}

func testPINLocks(t *testing.T, e *phoneEnv) {
	ctx := context.Background()
	number := e.number()
	u := e.clinician(t, number)
	e.activateApp(t, number, 1, pinA)

	f, b := e.appFlow(), e.phoneBrowser()
	id := requestIDOf(t, b.get(t, f.authURL()))
	for i := 1; i < account.PINLockAfter; i++ {
		mustContain(t, fmt.Sprintf("wrong PIN %d", i), e.pinSignIn(b, t, id, number, pinB), http.StatusUnauthorized, "The mobile number or PIN is incorrect.")
	}
	p := e.pinSignIn(b, t, id, number, pinB)
	mustContain(t, "the wrong PIN that locks", p, http.StatusTooManyRequests, "Too many attempts. Try again in 15 minutes.")
	if ra := p.Header.Get("Retry-After"); ra == "" || mustAtoi(t, ra) < 14*60 {
		t.Errorf("Retry-After %q", ra)
	}
	mustContain(t, "the right PIN while locked", e.pinSignIn(b, t, id, number, pinA), http.StatusTooManyRequests, "Too many attempts.")
	if m, _ := e.admin.GetClinicianMobile(ctx, u.ID); m.State != api.MobileLocked {
		t.Errorf("state while locked: %s", m.State)
	}

	e.clock.Advance(account.PINLockFor + time.Minute)
	f, b = e.appFlow(), e.phoneBrowser()
	id = requestIDOf(t, b.get(t, f.authURL()))
	for i := account.PINLockAfter + 1; i <= account.PINVoidAfter; i++ {
		mustContain(t, fmt.Sprintf("wrong PIN %d", i), e.pinSignIn(b, t, id, number, pinB), http.StatusUnauthorized, "The mobile number or PIN is incorrect.")
	}
	mustContain(t, "the right PIN once void", e.pinSignIn(b, t, id, number, pinA), http.StatusUnauthorized, "activate this phone again")
	if c, err := e.store.GetMobileCredential(ctx, u.ID); err != nil || c.StateAt(e.clock.Now()) != storage.MobileNone || c.PINHash != "" {
		t.Errorf("credential after the void: %+v, %v", c, err)
	}
	var locked, voided bool
	for _, a := range e.auditActions(t, u.ID) {
		locked = locked || (a.Action == account.ActionMobilePINLocked && a.SourceAddr == "127.0.0.1")
		voided = voided || (a.Action == account.ActionMobilePINVoided && a.SourceAddr == "127.0.0.1")
	}
	if !locked || !voided {
		t.Errorf("audit: locked %v, voided %v", locked, voided)
	}
	// Activating again by SMS gives a new PIN.
	if _, _, claims, _ := e.activateApp(t, number, 2, pinB); claims["sub"] != u.ID {
		t.Fatalf("re-activation: %v", claims)
	}
}

func testSMSLimits(t *testing.T, e *phoneEnv) {
	ctx := context.Background()
	number, unknown := e.number(), e.number()
	u := e.clinician(t, number)
	f, b := e.appFlow(), e.phoneBrowser()
	id := requestIDOf(t, b.get(t, f.authURL()))
	for _, n := range []string{number, unknown} {
		for i := 1; i <= 3; i++ {
			mustContain(t, fmt.Sprintf("code %d to %s", i, n), b.form(t, "/login/phone/activate", url.Values{"authRequestID": {id}, "phone": {n}}),
				http.StatusOK, "Enter the code")
		}
		p := b.form(t, "/login/phone/activate", url.Values{"authRequestID": {id}, "phone": {n}})
		mustContain(t, "a fourth code within 15 minutes", p, http.StatusTooManyRequests, "Too many requests.")
		if p.Header.Get("Retry-After") != "900" {
			t.Errorf("Retry-After %q", p.Header.Get("Retry-After"))
		}
	}
	es, _, err := e.store.ListAudit(ctx, storage.AuditQuery{Action: account.ActionMobileSMSLimit, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	limited := map[any]bool{}
	for _, a := range es {
		switch {
		case a.SourceAddr != "127.0.0.1":
		case a.Changes["counter"][1] == "number" && a.Changes["window"][1] == "15m0s":
			limited[a.Changes["phone"][1]] = true
		case a.Changes["counter"][1] == "clinician" && a.TargetID == u.ID:
			limited["clinician"] = true
		}
	}
	if !limited[number] || !limited[unknown] || !limited["clinician"] || len(es) != 3 {
		t.Errorf("SMS limit audit entries (want the two numbers and the clinician): %+v", es)
	}

	// Wrong codes: after 5 the code is void, the right one no longer works.
	code := e.sms.code(number, 3, e.issuer)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	for i := 1; i <= account.CodeTries; i++ {
		mustContain(t, fmt.Sprintf("wrong code %d", i), b.form(t, "/login/phone/code", url.Values{"authRequestID": {id}, "phone": {number}, "code": {wrong}}),
			http.StatusBadRequest, "The code is wrong or no longer valid.")
	}
	mustContain(t, "the right code once void", b.form(t, "/login/phone/code", url.Values{"authRequestID": {id}, "phone": {number}, "code": {code}}),
		http.StatusBadRequest, "The code is wrong or no longer valid.")
	if !slices.ContainsFunc(e.auditActions(t, u.ID), func(a storage.AuditEntry) bool {
		return a.Action == account.ActionMobileCodeVoided && a.SourceAddr == "127.0.0.1"
	}) {
		t.Error("no mobile.code_voided in the audit log")
	}
}

func testUnknownNumbers(t *testing.T, e *phoneEnv) {
	number, unknown := e.number(), e.number()
	e.clinician(t, number)
	e.activateApp(t, number, 1, pinA)

	// The same page, in comparable time, for a clinician's number and for
	// a number nobody has.
	pages := map[string]string{}
	took := map[string]time.Duration{}
	for round := range 2 {
		for _, n := range []string{number, unknown} {
			f, b := e.appFlow(), e.phoneBrowser()
			id := requestIDOf(t, b.get(t, f.authURL()))
			start := time.Now()
			p := b.form(t, "/login/phone/activate", url.Values{"authRequestID": {id}, "phone": {n}})
			d := time.Since(start)
			if p.StatusCode != http.StatusOK {
				t.Fatalf("activation for %s: status %d", n, p.StatusCode)
			}
			if d < account.DefaultResetFloor {
				t.Errorf("activation for %s took %v, under the floor %v", n, d, account.DefaultResetFloor)
			}
			if round == 0 || d < took[n] {
				took[n] = d
			}
			pages[n] = strings.NewReplacer(htmlText(n), "NUMBER", n, "NUMBER", id, "ID").Replace(p.body)

			p = e.pinSignIn(b, t, id, n, pinB)
			if p.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong PIN for %s: status %d", n, p.StatusCode)
			}
			pages["pin "+n] = strings.NewReplacer(htmlText(n), "NUMBER", n, "NUMBER", id, "ID").Replace(p.body)
		}
	}
	if pages[number] != pages[unknown] {
		t.Errorf("activation pages differ:\n%s\n---\n%s", pages[number], pages[unknown])
	}
	if pages["pin "+number] != pages["pin "+unknown] {
		t.Errorf("wrong-PIN pages differ:\n%s\n---\n%s", pages["pin "+number], pages["pin "+unknown])
	}
	if d := took[number] - took[unknown]; d > 150*time.Millisecond || d < -150*time.Millisecond {
		t.Errorf("activation took %v for a clinician's number, %v for an unknown one", took[number], took[unknown])
	}
	t.Logf("activation: %v (clinician), %v (unknown)", took[number], took[unknown])
}

// checkPhoneClaims checks what userinfo says with the app's access token:
// the clinician, their number, confirmed by SMS.
func (e *phoneEnv) checkPhoneClaims(t *testing.T, tok *oauth2.Token, sub, number string) {
	t.Helper()
	resp, info := e.userinfo(t, http.MethodGet, tok.AccessToken)
	if resp.StatusCode != http.StatusOK || info["sub"] != sub || info["phone_number"] != number ||
		info["phone_number_verified"] != true || info["user_type"] != "clinician" {
		t.Fatalf("userinfo: %d %v", resp.StatusCode, info)
	}
}

// findSignIn returns the kind and id of the end button of the sign-in
// whose description contains what.
func findSignIn(t *testing.T, p page, what string) (kind, id string) {
	t.Helper()
	for _, li := range strings.Split(p.body, "<li>")[1:] {
		if !strings.Contains(li, what) {
			continue
		}
		k := strings.SplitN(strings.SplitN(li, `name="kind" value="`, 2)[1], `"`, 2)[0]
		v := strings.SplitN(strings.SplitN(li, `name="id" value="`, 2)[1], `"`, 2)[0]
		return k, v
	}
	t.Fatalf("no sign-in %q on the page: %.2000s", what, p.body)
	return "", ""
}

func testAccountProfile(t *testing.T, e *phoneEnv) {
	ctx := context.Background()
	number := e.number()
	u := e.clinician(t, number)
	app, appTok, appBrowser := func() (*flow, *oauth2.Token, *browser) {
		f, tok, _, b := e.activateApp(t, number, 1, pinA)
		return f, tok, b
	}()
	b := e.browser()
	b.c.Transport = uaTransport("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	if !e.signInDirect(t, b, u.Email, newPassword) {
		t.Fatal("email sign-in failed")
	}

	// Name.
	mustContain(t, "name page", b.get(t, e.issuer+"/account/name"), http.StatusOK,
		`value="Ama"`, `value="Mensah"`, `autocomplete="given-name"`, `autocomplete="family-name"`)
	p := b.form(t, "/account/name", url.Values{"given_name": {"  "}, "family_name": {"Owusu"}})
	mustContain(t, "empty given name", p, http.StatusBadRequest, "Enter your given name.", `aria-invalid="true"`)
	p = b.form(t, "/account/name", url.Values{"given_name": {"Abena\x07"}, "family_name": {"Owusu"}})
	mustContain(t, "control character", p, http.StatusBadRequest, "without control characters")
	if got, _ := e.store.GetUser(ctx, u.ID); got.GivenName != "Ama" {
		t.Fatal("a refused name was stored")
	}
	p = b.form(t, "/account/name", url.Values{"given_name": {" Abena "}, "family_name": {"Owusu"}})
	mustContain(t, "name changed", p, http.StatusOK, "Your name has been changed.", "Abena Owusu")
	if !slices.ContainsFunc(e.auditActions(t, u.ID), func(a storage.AuditEntry) bool {
		return a.Action == account.ActionNameChange && a.ActorID == u.ID && a.SourceAddr == "127.0.0.1" &&
			a.Changes["given_name"] == [2]any{"Ama", "Abena"}
	}) {
		t.Error("no user.name_change by the user with the source address")
	}

	// Where you are signed in: this browser, the phone's browser, the app.
	p = b.get(t, e.issuer+"/account/sign-ins")
	mustContain(t, "sign-ins", p, http.StatusOK, "Browser, signed in with email and password", "(this browser)", "Firefox/128.0",
		"Browser, signed in with mobile number and PIN", "App: CliniConnects mobile", "iPhone OS 17_4")
	kind, id := findSignIn(t, p, "App: CliniConnects mobile")
	p = b.noFollow().form(t, "/account/sign-ins/end", url.Values{"kind": {kind}, "id": {id}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("ending the app's sign-in: %d %.300s", p.StatusCode, p.body)
	}
	if _, err := e.refresh(app.cfg, appTok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Errorf("the app's refresh token after it was signed out: %v", err)
	}
	p = b.form(t, "/account/sign-ins/end", url.Values{"kind": {kind}, "id": {id}})
	mustContain(t, "ending it twice", p, http.StatusNotFound, "That sign-in has already ended.")

	// Another user's sign-in cannot be ended from here.
	other := e.createUser(t, storage.UserTypeEmployee)
	ob := e.browser()
	if !e.signInDirect(t, ob, other.Email, userPassword) {
		t.Fatal("other user's sign-in failed")
	}
	okind, oid := findSignIn(t, ob.get(t, e.issuer+"/account/sign-ins"), "(this browser)")
	mustContain(t, "another user's session", b.form(t, "/account/sign-ins/end", url.Values{"kind": {okind}, "id": {oid}}),
		http.StatusNotFound, "That sign-in has already ended.")
	mustContain(t, "the other user still signed in", ob.get(t, e.issuer+"/account"), http.StatusOK, "Your account")

	// The phone's browser session ends: the app's page asks again.
	kind, id = findSignIn(t, b.get(t, e.issuer+"/account/sign-ins"), "mobile number and PIN")
	b.form(t, "/account/sign-ins/end", url.Values{"kind": {kind}, "id": {id}})
	mustContain(t, "the phone after its session ended", appBrowser.get(t, e.appFlow().authURL()), http.StatusOK, `action="/login/phone"`)

	// Ending this browser's own session signs it out.
	kind, id = findSignIn(t, b.get(t, e.issuer+"/account/sign-ins"), "(this browser)")
	p = b.noFollow().form(t, "/account/sign-ins/end", url.Values{"kind": {kind}, "id": {id}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/logged-out" {
		t.Fatalf("ending this browser's session: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if p := b.noFollow().get(t, e.issuer+"/account"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("account page after signing this browser out: %d", p.StatusCode)
	}
}
