package server_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestE2EMFA runs two-step sign-in through the real server on every
// backend: setup on the account pages (the test reads the key off the page
// and computes codes with pquerna/otp, as an authenticator app does),
// replay and recovery codes through the sign-in check the login flow
// calls, removal on the page, an admin's reset through the admin API, and
// the lock.
func TestE2EMFA(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *mailEnv)
	}{
		{"setup on the pages; a code works once; a recovery code once", testMFASetupAndCodes},
		{"removal needs the password and a code", testMFARemoval},
		{"an admin resets a user's app: audited and mailed", testMFAAdminReset},
		{"wrong codes lock the password sign-in", testMFALock},
		{"pages need a session; forms refuse other sites", testMFAGuards},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, newMailEnv(t, b))
				})
			}
		})
	}
}

// mfa is the second-factor use cases on the server's store, KEK and clock,
// as the sign-in flow calls them.
func (e *mailEnv) mfa(t *testing.T) *account.MFA {
	t.Helper()
	lock := &signin.Service{Store: e.store, Hasher: cheapHasher, Now: e.clock.Now, LockAfter: e.cfg.LockAfter, LockFor: e.cfg.LockFor,
		Sleep: func(context.Context, time.Duration) {}}
	m, err := account.NewMFA(e.accounts, e.kek, lock, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// authenticator is a user's app, holding the key typed in from the page.
type authenticator struct{ key string }

func (a authenticator) code(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(a.key, at)
	if err != nil {
		t.Fatalf("code from key %q: %v", a.key, err)
	}
	return c
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)

// setUpApp signs b in as u (if needed), runs the setup pages and returns
// the app and the recovery codes page.
func (e *mailEnv) setUpApp(t *testing.T, b *browser, u storage.User) (authenticator, page) {
	t.Helper()
	p := b.form(t, "/account/mfa/setup", nil)
	mustContain(t, "setup page", p, http.StatusOK, "Set up an authenticator app", `id="totp-secret"`,
		`autocomplete="one-time-code"`, `inputmode="numeric"`, `src="/account/mfa/qr.png"`)
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no key on the setup page: %.1500s", p.body)
	}
	a := authenticator{key: strings.ReplaceAll(m[1], " ", "")}
	done := b.form(t, "/account/mfa/confirm", url.Values{"code": {a.code(t, e.clock.Now())}})
	mustContain(t, "recovery codes page", done, http.StatusOK, "Save your recovery codes", `download="cliniconnects-recovery-codes.txt"`)
	return a, done
}

var recoveryCodeRE = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)

func recoveryCodes(t *testing.T, p page) []string {
	t.Helper()
	var out []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	if len(out) != 10 {
		t.Fatalf("%d recovery codes on the page, want 10: %.2000s", len(out), p.body)
	}
	return out
}

func (e *mailEnv) signedIn(t *testing.T, u storage.User) *browser {
	t.Helper()
	b := e.browser()
	if !e.signInDirect(t, b, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	return b
}

func testMFASetupAndCodes(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u := e.user(t)
	b := e.signedIn(t, u)
	mustContain(t, "account page", b.get(t, e.issuer+"/account"), http.StatusOK, `href="/account/mfa"`)
	mustContain(t, "state before", b.get(t, e.issuer+"/account/mfa"), http.StatusOK, "Two-step sign-in is off.", "Set up an authenticator app")

	// The QR code is a PNG of the enrolment in progress, never cached.
	p := b.form(t, "/account/mfa/setup", nil)
	qr := b.get(t, e.issuer+"/account/mfa/qr.png")
	if qr.StatusCode != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") ||
		qr.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("QR code: %d %s %q", qr.StatusCode, qr.Header.Get("Content-Type"), qr.Header.Get("Cache-Control"))
	}
	if e.browser().noFollow().get(t, e.issuer+"/account/mfa/qr.png").StatusCode != http.StatusSeeOther {
		t.Fatal("QR code without a session")
	}
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no key: %.1500s", p.body)
	}
	a := authenticator{key: strings.ReplaceAll(m[1], " ", "")}
	wrong := b.form(t, "/account/mfa/confirm", url.Values{"code": {a.code(t, e.clock.Now().Add(-5*time.Minute))}})
	mustContain(t, "wrong first code", wrong, http.StatusBadRequest, "That code is not right", m[1])
	confirmCode := a.code(t, e.clock.Now())
	done := b.form(t, "/account/mfa/confirm", url.Values{"code": {confirmCode}})
	mustContain(t, "recovery codes page", done, http.StatusOK, "Save your recovery codes", "this is the only time we show them")
	codes := recoveryCodes(t, done)
	// The download carries the same codes, as a data: URL.
	href := regexp.MustCompile(`href="(data:text/plain[^"]+)"`).FindStringSubmatch(done.body)
	if href == nil {
		t.Fatalf("no data: download link: %.2000s", done.body)
	}
	file, err := url.PathUnescape(strings.TrimPrefix(html.UnescapeString(href[1]), "data:text/plain;charset=utf-8,"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(file, c) {
			t.Fatalf("download lacks %s:\n%s", c, file)
		}
	}
	// Shown once: the page now shows the state, the QR code is gone.
	mustContain(t, "state after", b.get(t, e.issuer+"/account/mfa"), http.StatusOK, "On since", "10 unused", "Remove the authenticator app")
	if p := b.get(t, e.issuer+"/account/mfa"); strings.Contains(p.body, codes[0]) {
		t.Fatal("a recovery code is shown again")
	}
	if qr := b.get(t, e.issuer+"/account/mfa/qr.png"); qr.StatusCode != http.StatusNotFound {
		t.Fatalf("QR code after the setup: %d", qr.StatusCode)
	}
	if p := b.noFollow().form(t, "/account/mfa/setup", nil); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/account/mfa?notice=on" {
		t.Fatalf("a second setup: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	e.mail.wait(u.Email, "Two-step sign-in is now on", 1)

	// At sign-in: the confirming code does not work again; a fresh one
	// works once.
	mfa := e.mfa(t)
	if on, err := mfa.Enabled(ctx, u.ID); !on || err != nil {
		t.Fatalf("Enabled = %v, %v", on, err)
	}
	if _, err := mfa.VerifySignIn(ctx, u, confirmCode, "192.0.2.1", ""); !errors.Is(err, account.ErrWrongCode) {
		t.Fatalf("the confirming code at sign-in: %v, want ErrWrongCode", err)
	}
	e.clock.Advance(30 * time.Second)
	code := a.code(t, e.clock.Now())
	if f, err := mfa.VerifySignIn(ctx, u, code, "192.0.2.1", ""); err != nil || f != account.FactorTOTP {
		t.Fatalf("a fresh code: %v, %v", f, err)
	}
	if _, err := mfa.VerifySignIn(ctx, u, code, "192.0.2.1", ""); !errors.Is(err, account.ErrWrongCode) {
		t.Fatalf("the same code again: %v, want ErrWrongCode", err)
	}
	// A recovery code works once and tells the user.
	if f, err := mfa.VerifySignIn(ctx, u, codes[3], "192.0.2.1", ""); err != nil || f != account.FactorRecoveryCode {
		t.Fatalf("recovery code: %v, %v", f, err)
	}
	if _, err := mfa.VerifySignIn(ctx, u, codes[3], "192.0.2.1", ""); !errors.Is(err, account.ErrWrongCode) {
		t.Fatalf("the recovery code again: %v, want ErrWrongCode", err)
	}
	e.mail.wait(u.Email, "A recovery code was used", 1)
	mustContain(t, "codes left", b.get(t, e.issuer+"/account/mfa"), http.StatusOK, "9 unused")
	// The secret is sealed in the store.
	stored, err := e.store.GetTOTP(ctx, u.ID)
	if err != nil || bytes.Contains(stored.Secret, []byte(a.key)) {
		t.Fatalf("stored secret: %v", err)
	}
}

func testMFARemoval(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u := e.user(t)
	b := e.signedIn(t, u)
	a, _ := e.setUpApp(t, b, u)
	e.clock.Advance(30 * time.Second)
	code := a.code(t, e.clock.Now())
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"nothing", url.Values{}, http.StatusBadRequest, "Enter your current password."},
		{"no code", url.Values{"current_password": {userPassword}}, http.StatusBadRequest, "Enter a code from your app"},
		{"wrong password", url.Values{"current_password": {"not my password"}, "code": {code}}, http.StatusBadRequest, "The current password is incorrect."},
		{"wrong code", url.Values{"current_password": {userPassword}, "code": {"000000"}}, http.StatusBadRequest, "That code is not right"},
		{"old code", url.Values{"current_password": {userPassword}, "code": {a.code(t, e.clock.Now().Add(-2*time.Minute))}}, http.StatusBadRequest, "That code is not right"},
	} {
		mustContain(t, "removal, "+tc.name, b.form(t, "/account/mfa/remove", tc.form), tc.status, tc.want)
	}
	if on, _ := e.mfa(t).Enabled(ctx, u.ID); !on {
		t.Fatal("removed without the password and a code")
	}
	p := b.noFollow().form(t, "/account/mfa/remove", url.Values{"current_password": {userPassword}, "code": {code}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/account/mfa?notice=removed" {
		t.Fatalf("removal: %d %s %.500s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	mustContain(t, "after removal", b.get(t, e.issuer+"/account/mfa?notice=removed"), http.StatusOK, "The authenticator app has been removed", "Two-step sign-in is off.")
	if on, _ := e.mfa(t).Enabled(ctx, u.ID); on {
		t.Fatal("still enabled")
	}
	e.mail.wait(u.Email, "Two-step sign-in was turned off", 1)
	es, _, err := e.store.ListAudit(ctx, storage.AuditQuery{TargetID: u.ID, Action: account.ActionMFARemove})
	if err != nil || len(es) != 1 || es[0].ActorID != u.ID || es[0].SourceAddr != "127.0.0.1" {
		t.Fatalf("audit: %+v %v", es, err)
	}
}

func testMFAAdminReset(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u := e.user(t)
	e.setUpApp(t, e.signedIn(t, u), u)
	super := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	c := e.adminClient(t, super.Email, userPassword)
	got, err := c.GetEmployee(ctx, u.ID)
	if err != nil || got.MFA != api.MFAEnabled || got.RecoveryCodesLeft != 10 {
		t.Fatalf("record before: %q %d %v", got.MFA, got.RecoveryCodesLeft, err)
	}
	out, err := c.ResetEmployeeMFA(ctx, u.ID)
	if err != nil || out.MFA != api.MFANone {
		t.Fatalf("reset: %+v %v", out, err)
	}
	audit, err := c.ListAudit(ctx, api.AuditOptions{Target: u.ID, Action: api.ActionEmployeeMFAReset})
	if err != nil || len(audit.Items) != 1 || audit.Items[0].ActorID != super.ID {
		t.Fatalf("audit: %+v %v", audit, err)
	}
	e.mail.wait(u.Email, "An administrator turned off two-step sign-in", 1)
	if on, _ := e.mfa(t).Enabled(ctx, u.ID); on {
		t.Fatal("still enabled after the reset")
	}
	if _, err := c.ResetEmployeeMFA(ctx, u.ID); apiCode(err) != api.CodeInvalidState {
		t.Fatalf("second reset: %v", err)
	}
}

func testMFALock(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u := e.user(t)
	a, _ := e.setUpApp(t, e.signedIn(t, u), u)
	e.clock.Advance(30 * time.Second)
	mfa := e.mfa(t)
	var locked *signin.LockedError
	for i := 1; i <= e.cfg.LockAfter; i++ {
		_, err := mfa.VerifySignIn(ctx, u, "999999", "192.0.2.1", "")
		if i < e.cfg.LockAfter && !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
		if i == e.cfg.LockAfter && !errors.As(err, &locked) {
			t.Fatalf("wrong code %d: %v, want locked", i, err)
		}
	}
	if _, err := mfa.VerifySignIn(ctx, u, a.code(t, e.clock.Now()), "192.0.2.1", ""); !errors.As(err, &locked) {
		t.Fatalf("right code while locked: %v", err)
	}
	p := e.browser().noFollow().form(t, "/login", url.Values{"email": {u.Email}, "password": {userPassword}})
	mustContain(t, "right password after wrong codes", p, http.StatusTooManyRequests, "Too many attempts")
}

func testMFAGuards(t *testing.T, e *mailEnv) {
	b := e.browser().noFollow()
	for _, path := range []string{"/account/mfa", "/account/mfa/setup", "/account/mfa/qr.png"} {
		if p := b.get(t, e.issuer+path); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
			t.Fatalf("GET %s without a session: %d %s", path, p.StatusCode, p.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/account/mfa/setup", "/account/mfa/confirm", "/account/mfa/remove"} {
		if p := b.form(t, path, url.Values{}); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
			t.Fatalf("POST %s without a session: %d %s", path, p.StatusCode, p.Header.Get("Location"))
		}
	}
	u := e.user(t)
	in := e.signedIn(t, u)
	for _, path := range []string{"/account/mfa/setup", "/account/mfa/confirm", "/account/mfa/remove"} {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(url.Values{"code": {"123456"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := in.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, "cross-site POST "+path, readPage(t, resp), http.StatusForbidden, "Request blocked")
	}
	if _, err := e.store.GetTOTP(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a cross-site POST began a setup: %v", err)
	}
	// Without a setup in progress the setup page sends back to the state.
	if p := in.noFollow().get(t, e.issuer+"/account/mfa/setup"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/account/mfa" {
		t.Fatalf("setup page without a setup: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
}
