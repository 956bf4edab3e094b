package server_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cliniconnects/identity/idp/internal/server"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestMFASignIn: the second step of a password sign-in through the real
// server with go-oidc and x/oauth2, on every backend (issue 12): the code
// page after the password, amr as RFC 8176 has it, a code works once, a
// recovery code once; a super admin without an app sets one up before any
// token with scope admin is issued; the admin API refuses a token issued
// after the password alone.
func TestMFASignIn(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("password then code", func(t *testing.T) { testPasswordThenCode(t, newMailEnv(t, b)) })
			t.Run("required for admins", func(t *testing.T) { testMFARequiredForAdmins(t, newMailEnv(t, b)) })
			t.Run("step-up and clients that require two factors", func(t *testing.T) { testStepUp(t, newMailEnv(t, b)) })
		})
	}
}

// withMFARoles serves e's store with a server whose IDP_MFA_REQUIRED_ROLES
// is roles (a replica with another setting).
func (e *mailEnv) withMFARoles(t *testing.T, roles ...storage.Role) {
	t.Helper()
	cfg := e.cfg
	cfg.MFARequiredRoles = roles
	h, err := server.New(t.Context(), server.Deps{
		Config: cfg, Store: e.store, Logger: testLogger(), Now: e.clock.Now, KEK: e.kek,
		Hasher: cheapHasher, KeyBits: 2048, MailPoll: 25 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sw.set(h)
}

// idTokenAMR verifies tok's ID token for client and returns its amr.
func (e *mailEnv) idTokenAMR(t *testing.T, clientID string, tok *oauth2.Token) []string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := e.provider(t).Verifier(&gooidc.Config{ClientID: clientID}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c struct {
		AMR []string `json:"amr"`
	}
	_ = idt.Claims(&c)
	return c.AMR
}

func submitCode(t *testing.T, b *browser, p page, code string) page {
	t.Helper()
	m := authRequestIDRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no second-step form (status %d): %.600s", p.StatusCode, p.body)
	}
	return b.form(t, "/login/mfa", url.Values{"authRequestID": {m[1]}, "code": {code}})
}

func testPasswordThenCode(t *testing.T, e *mailEnv) {
	u := e.user(t)
	app, codesPage := e.setUpApp(t, e.signedIn(t, u), u)
	recovery := recoveryCodes(t, codesPage)
	c := e.createClient(t)

	// A wrong password says nothing of a second factor.
	b := e.browser()
	f := newFlow(e.oauth2Config(c))
	wrong := b.submitLogin(t, b.get(t, f.authURL()), u.Email, "not the password at all")
	if wrong.StatusCode != http.StatusUnauthorized || strings.Contains(wrong.body, "/login/mfa") || strings.Contains(wrong.body, "Two-step") || strings.Contains(wrong.body, "authenticator") || !strings.Contains(wrong.body, "The email or password is incorrect.") {
		t.Errorf("wrong password: status %d, want the plain sign-in error: %.400s", wrong.StatusCode, wrong.body)
	}

	// The right password leads to the code page, not to the client.
	p := b.submitLogin(t, b.get(t, f.authURL()), u.Email, userPassword)
	mustContain(t, "code page", p, http.StatusOK, `action="/login/mfa"`, `autocomplete="one-time-code"`, `inputmode="numeric"`)
	if strings.Contains(p.Header.Get("Set-Cookie"), "cc_session") {
		t.Error("a browser session started before the second factor")
	}
	// The setup just used the current time step: the app's next code.
	code := app.code(t, e.clock.Now().Add(30*time.Second))
	bad := submitCode(t, b, p, "000000")
	mustContain(t, "wrong code", bad, http.StatusUnauthorized, "That code is not right")
	back := clientRedirect(t, submitCode(t, b, bad, code))
	tok, err := f.exchange(context.Background(), f.code(t, back))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.idTokenAMR(t, c.ID, tok); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr after password + code: %v, want [pwd otp mfa]", got)
	}

	// The same code again: refused. A recovery code: once.
	b2 := e.browser()
	f2 := newFlow(e.oauth2Config(c))
	p = b2.submitLogin(t, b2.get(t, f2.authURL()), u.Email, userPassword)
	mustContain(t, "replayed code", submitCode(t, b2, p, code), http.StatusUnauthorized, "That code is not right")
	back = clientRedirect(t, submitCode(t, b2, p, recovery[0]))
	tok, err = f2.exchange(context.Background(), f2.code(t, back))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.idTokenAMR(t, c.ID, tok); !slices.Equal(got, []string{"pwd", "mfa"}) {
		t.Errorf("amr after password + recovery code: %v, want [pwd mfa]", got)
	}
	b3 := e.browser()
	f3 := newFlow(e.oauth2Config(c))
	p = b3.submitLogin(t, b3.get(t, f3.authURL()), u.Email, userPassword)
	mustContain(t, "used recovery code", submitCode(t, b3, p, recovery[0]), http.StatusUnauthorized, "That code is not right")

	// The pending step belongs to its browser: another one cannot post it.
	m := authRequestIDRE.FindStringSubmatch(p.body)
	other := e.browser().form(t, "/login/mfa", url.Values{"authRequestID": {m[1]}, "code": {recovery[1]}})
	if other.StatusCode == http.StatusSeeOther || other.StatusCode == http.StatusFound {
		t.Errorf("another browser finished the second step: %d %s", other.StatusCode, other.Header.Get("Location"))
	}
}

var continueLinkRE = regexp.MustCompile(`<a href="([^"]*/authorize/callback\?id=[^"]+)">`)

func testMFARequiredForAdmins(t *testing.T, e *mailEnv) {
	admin := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	me := func(tok string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+"/admin/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Error.Code
	}

	// Before the policy: a password-only admin token and session.
	e.withMFARoles(t)
	b := e.browser()
	f := e.desktopFlow()
	old, err := f.exchange(context.Background(), f.code(t, b.signIn(t, f.authURL(), admin.Email, userPassword)))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := me(old.AccessToken); st != http.StatusOK {
		t.Fatalf("admin API with the password-only token before the policy: %d", st)
	}

	// With the policy: the admin API refuses that token, and the
	// password-only session no longer signs in silently.
	e.withMFARoles(t, storage.RoleSuperAdmin, storage.RoleAdmin)
	if st, code := me(old.AccessToken); st != http.StatusUnauthorized || code != string(api.CodeMFARequired) {
		t.Errorf("admin API with a password-only token: %d %q, want 401 %s", st, code, api.CodeMFARequired)
	}
	f = e.desktopFlow()
	p := b.get(t, f.authURL())
	mustContain(t, "SSO with a password-only session", p, http.StatusOK, `name="password"`)

	// The password leads to the setup, not to a token.
	p = b.submitLogin(t, p, admin.Email, userPassword)
	mustContain(t, "required setup", p, http.StatusOK, "Set up an authenticator app", `action="/login/mfa/setup"`, `id="totp-secret"`)
	qr := regexp.MustCompile(`src="(/login/mfa/qr\.png\?[^"]+)"`).FindStringSubmatch(p.body)
	if qr == nil {
		t.Fatal("no QR code on the required setup")
	}
	if img := b.get(t, e.issuer+html.UnescapeString(qr[1])); img.StatusCode != http.StatusOK || !strings.HasPrefix(img.body, "\x89PNG") {
		t.Errorf("QR code of the required setup: status %d", img.StatusCode)
	}
	if img := e.browser().get(t, e.issuer+html.UnescapeString(qr[1])); img.StatusCode == http.StatusOK {
		t.Error("another browser got the QR code of the setup")
	}
	app := authenticator{key: strings.ReplaceAll(secretRE.FindStringSubmatch(p.body)[1], " ", "")}
	id := authRequestIDRE.FindStringSubmatch(p.body)[1]
	done := b.form(t, "/login/mfa/setup", url.Values{"authRequestID": {id}, "code": {app.code(t, e.clock.Now())}})
	mustContain(t, "recovery codes after the required setup", done, http.StatusOK, "Save your recovery codes")
	recoveryCodes(t, done)
	link := continueLinkRE.FindStringSubmatch(done.body)
	if link == nil {
		t.Fatalf("no way on from the codes page: %.1200s", done.body)
	}
	tok, err := f.exchange(context.Background(), f.code(t, clientRedirect(t, b.get(t, html.UnescapeString(link[1])))))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.idTokenAMR(t, api.DesktopClientID, tok); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr after the required setup: %v", got)
	}
	if st, code := me(tok.AccessToken); st != http.StatusOK {
		t.Errorf("admin API with the two-factor token: %d %q", st, code)
	}
	// Its refresh keeps the two factors.
	next, err := e.refresh(f.cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if st, code := me(next.AccessToken); st != http.StatusOK {
		t.Errorf("admin API with the refreshed token: %d %q", st, code)
	}
}

// desktopFlow is a PKCE flow for the built-in desktop client with scope
// admin.
func (e *mailEnv) desktopFlow() *flow { return e.env.desktopFlow() }

// Step-up: a client may ask for two factors with acr_values=mfa, and a
// client may require them of everyone; a user without an app then sets one
// up during the sign-in, and the ID token says acr=mfa.
func testStepUp(t *testing.T, e *mailEnv) {
	u := e.user(t)
	c := e.createClient(t)
	_, _, b := e.login(t, c, u) // password only: nobody needs more yet

	f := newFlow(e.oauth2Config(c))
	p := b.get(t, f.authURL(oauth2.SetAuthURLParam("acr_values", "mfa")))
	mustContain(t, "acr_values=mfa on a password-only session", p, http.StatusOK, `name="password"`)
	p = b.submitLogin(t, p, u.Email, userPassword)
	mustContain(t, "setup asked for by acr_values", p, http.StatusOK, `action="/login/mfa/setup"`, `id="totp-secret"`)
	app := authenticator{key: strings.ReplaceAll(secretRE.FindStringSubmatch(p.body)[1], " ", "")}
	id := authRequestIDRE.FindStringSubmatch(p.body)[1]
	done := b.form(t, "/login/mfa/setup", url.Values{"authRequestID": {id}, "code": {app.code(t, e.clock.Now())}})
	link := continueLinkRE.FindStringSubmatch(done.body)
	if link == nil {
		t.Fatalf("no way on from the codes page: %.800s", done.body)
	}
	tok, err := f.exchange(context.Background(), f.code(t, clientRedirect(t, b.get(t, html.UnescapeString(link[1])))))
	if err != nil {
		t.Fatal(err)
	}
	acr := func(tok *oauth2.Token) string {
		raw, _ := tok.Extra("id_token").(string)
		idt, err := e.provider(t).Verifier(&gooidc.Config{ClientID: c.ID}).Verify(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		var cl struct {
			ACR string `json:"acr"`
		}
		_ = idt.Claims(&cl)
		return cl.ACR
	}
	if got := acr(tok); got != "mfa" {
		t.Errorf("acr after the step-up: %q, want mfa", got)
	}
	// The session now has two factors: acr_values=mfa signs in silently.
	f = newFlow(e.oauth2Config(c))
	tok, err = f.exchange(context.Background(), f.code(t, clientRedirect(t, b.get(t, f.authURL(oauth2.SetAuthURLParam("acr_values", "mfa"))))))
	if err != nil || acr(tok) != "mfa" {
		t.Errorf("SSO with acr_values=mfa after the step-up: %v, acr %q", err, acr(tok))
	}

	// A client that requires two factors: the password alone does not do.
	strict := e.createClient(t, func(c *storage.Client) { c.RequireMFA = true })
	other := e.user(t)
	b2 := e.browser()
	f = newFlow(e.oauth2Config(strict))
	p = b2.submitLogin(t, b2.get(t, f.authURL()), other.Email, userPassword)
	mustContain(t, "setup required by the client", p, http.StatusOK, `action="/login/mfa/setup"`)
	// With an app, the code page.
	b3 := e.browser()
	p = b3.submitLogin(t, b3.get(t, newFlow(e.oauth2Config(strict)).authURL()), u.Email, userPassword)
	mustContain(t, "code page for a client that requires two factors", p, http.StatusOK, `action="/login/mfa"`)
}
