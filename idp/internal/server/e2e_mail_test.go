package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// TestE2EMail runs the account lifecycle flows by email through the real
// server: go-mail delivers to an SMTP server in this process, the test
// reads each link out of the received message and completes the flow in a
// cookie-jar browser, on every backend. Every case has its own provider,
// store and mailbox, so counting messages counts its own.
func TestE2EMail(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *mailEnv)
	}{
		{"invitation, first password, sign in", testInvitation},
		{"forgot, reset, old password and refresh token dead", testForgotReset},
		{"unknown address: same page, nothing queued", testForgotUnknown},
		{"reused, expired, tampered and replaced reset links", testResetLinkErrors},
		{"expired invitation asks for a new one", testInvitationExpired},
		{"change email, confirm, sign in with the new address", testChangeEmail},
		{"change password revokes other sessions", testChangePassword},
		{"sign out everywhere", testSignOutEverywhere},
		{"SMTP down: reset still answers, mail arrives once", testSMTPDown},
		{"account page needs a session, forms refuse other sites", testAccountGuards},
		{"forgot password is throttled", testForgotThrottled},
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

const newPassword = "lighthouse orchard pebble quartet"

func testInvitation(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u, err := e.accounts.Invite(ctx, account.NewUser{
		Email: "ivy@example.com", GivenName: "Ivy", FamilyName: "Chen", Type: storage.UserTypeClinician,
	})
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	if u.Status != storage.StatusInvited || u.EmailVerified {
		t.Fatalf("invited user: %+v", u)
	}
	// Until the invitation is accepted, no password signs in.
	if e.canSignIn(t, u.Email, newPassword) {
		t.Fatal("invited user signed in before accepting")
	}
	m := e.mail.wait(u.Email, "invited", 1)
	link := m.link(t, e.issuer, "/invite")
	if !strings.Contains(m.Text, "7 days") {
		t.Errorf("invitation does not say when it expires:\n%s", m.Text)
	}

	b := e.browser()
	p := b.get(t, link)
	mustContain(t, "invitation page", p, http.StatusOK, "Set up your account", `name="token"`, `autocomplete="new-password"`)
	checkTokenPageHeaders(t, p)
	token := tokenOf(t, link)

	// Bad input keeps the link usable and changes nothing.
	p = b.form(t, "/invite", url.Values{"token": {token}, "password": {newPassword}, "confirm": {newPassword + "x"}})
	mustContain(t, "mismatched passwords", p, http.StatusBadRequest, "The passwords do not match.", `aria-invalid="true"`)
	p = b.form(t, "/invite", url.Values{"token": {token}, "password": {"ivy chen 1234567"}, "confirm": {"ivy chen 1234567"}})
	mustContain(t, "password with the name", p, http.StatusBadRequest, "must not contain your name")
	p = b.form(t, "/invite", url.Values{"token": {token}, "password": {"short"}, "confirm": {"short"}})
	mustContain(t, "short password", p, http.StatusBadRequest, "at least 15 characters")

	p = b.form(t, "/invite", url.Values{"token": {token}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "accepting", p, http.StatusOK, "Your account is ready")

	// The link is used up.
	p = e.browser().get(t, link)
	mustContain(t, "used invitation", p, http.StatusGone, "already been accepted", `href="/login"`)
	p = e.browser().form(t, "/invite", url.Values{"token": {token}, "password": {"another phrase entirely here"}, "confirm": {"another phrase entirely here"}})
	mustContain(t, "used invitation posted", p, http.StatusGone, "already been accepted")

	// Sign in through a client: verified email, active.
	c := e.createClient(t)
	f := newFlow(e.oauth2Config(c))
	code := f.code(t, e.browser().signIn(t, f.authURL(), u.Email, newPassword))
	tok, err := f.exchange(ctx, code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	_, claims := e.userinfo(t, http.MethodGet, tok.AccessToken)
	if claims["email"] != u.Email || claims["email_verified"] != true {
		t.Fatalf("userinfo after invitation: %v", claims)
	}
	if e.canSignIn(t, u.Email, "another phrase entirely here") {
		t.Fatal("the reused link changed the password")
	}
}

func testForgotReset(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u := e.user(t)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)

	b := e.browser()
	p := b.get(t, e.issuer+"/login")
	mustContain(t, "sign-in page", p, http.StatusOK, `href="/forgot"`)
	p = b.get(t, e.issuer+"/forgot")
	mustContain(t, "forgot page", p, http.StatusOK, "Reset your password", `<label for="email">`)
	p = b.form(t, "/forgot", url.Values{"email": {u.Email}})
	mustContain(t, "forgot answer", p, http.StatusOK, "Check your email", "30 minutes")

	m := e.mail.wait(u.Email, "Reset", 1)
	link := m.link(t, e.issuer, "/reset")
	if len(tokenOf(t, link)) < 22 { // 128 bits in base64url
		t.Fatalf("token too short: %s", link)
	}
	p = b.get(t, link)
	mustContain(t, "reset page", p, http.StatusOK, "Choose a new password", `id="confirm-password"`)
	checkTokenPageHeaders(t, p)
	p = b.form(t, "/reset", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "reset", p, http.StatusOK, "Your password has been changed")
	if c := sessionCookie(t, b, e.issuer); c != "" {
		t.Fatal("a reset signed the browser in")
	}

	if e.canSignIn(t, u.Email, userPassword) {
		t.Fatal("old password still works")
	}
	if !e.canSignIn(t, u.Email, newPassword) {
		t.Fatal("new password does not work")
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("old refresh token after reset: %v", err)
	}
	if e.introspect(t, c, tok.AccessToken) {
		t.Fatal("old access token still active")
	}
	m = e.mail.wait(u.Email, "password was changed", 1)
	if strings.Contains(m.Text, "token=") {
		t.Fatalf("confirmation carries a link: %s", m.Text)
	}
	// A reset never locks and lifts a lock: the sign-in counter is clear.
	th, err := e.store.GetThrottle(ctx, "account:"+strings.ToLower(u.Email))
	if err != nil || th.Failures != 0 {
		t.Fatalf("sign-in throttle after reset: %+v %v", th, err)
	}
}

func testForgotUnknown(t *testing.T, e *mailEnv) {
	known := e.user(t)
	invited, err := e.accounts.Invite(context.Background(), account.NewUser{
		Email: "ian@example.com", GivenName: "Ian", FamilyName: "Doe", Type: storage.UserTypeEmployee,
	})
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.outbox(t))

	answer := func(addr string) (string, time.Duration) {
		start := time.Now()
		p := e.browser().form(t, "/forgot", url.Values{"email": {addr}})
		took := time.Since(start)
		mustContain(t, "forgot "+addr, p, http.StatusOK, "Check your email")
		return strings.ReplaceAll(p.body, addr, "ADDRESS"), took
	}
	unknownPage, _ := answer("nobody@example.com")
	if n := len(e.outbox(t)); n != before {
		t.Fatalf("a message was queued for an unknown address (%d → %d)", before, n)
	}
	invitedPage, _ := answer(invited.Email)
	if n := len(e.outbox(t)); n != before {
		t.Fatalf("a message was queued for an invited user (%d → %d)", before, n)
	}
	knownPage, _ := answer(known.Email)
	if n := len(e.outbox(t)); n != before+1 {
		t.Fatalf("outbox after a known address: %d, want %d", n, before+1)
	}
	if unknownPage != knownPage || invitedPage != knownPage {
		t.Fatal("the answer differs between an unknown and a known address")
	}
	// Both wait out the same floor; the store work behind it is small. (The
	// account package compares the two more closely.) Each address may ask
	// only a few times an hour, so every sample is a fresh one; the two
	// kinds alternate, so both see the same load, and the medians compare
	// with a margin that a busy 2-core machine running the other cases
	// beside this one stays well within.
	const samples = 5
	var tookKnown, tookUnknown []time.Duration
	for i := range samples {
		_, d := answer(fmt.Sprintf("nobody%d@example.com", i))
		tookUnknown = append(tookUnknown, d)
		_, d = answer(e.user(t).Email)
		tookKnown = append(tookKnown, d)
	}
	k, u := median(tookKnown), median(tookUnknown)
	t.Logf("median of %d: known %v, unknown %v", samples, k, u)
	if d := (k - u).Abs(); d > 150*time.Millisecond {
		t.Errorf("timing differs: median known %v, unknown %v (samples %v, %v)", k, u, tookKnown, tookUnknown)
	}
	if m := slices.Min(append(tookKnown, tookUnknown...)); m < account.DefaultResetFloor {
		t.Errorf("an answer took %v, under the floor %v", m, account.DefaultResetFloor)
	}
	e.mail.wait(known.Email, "Reset", 1)
	time.Sleep(200 * time.Millisecond) // the worker has had every chance
	if got := e.mail.to("nobody@example.com", ""); len(got) != 0 {
		t.Fatalf("mail to an unknown address: %v", subjects(got))
	}
}

// median of ds (not empty).
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func testResetLinkErrors(t *testing.T, e *mailEnv) {
	u := e.user(t)
	request := func(n int) string {
		p := e.browser().form(t, "/forgot", url.Values{"email": {u.Email}})
		mustContain(t, "forgot", p, http.StatusOK, "Check your email")
		return e.mail.wait(u.Email, "Reset", n).link(t, e.issuer, "/reset")
	}
	post := func(link, pw string) page {
		return e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, link)}, "password": {pw}, "confirm": {pw}})
	}
	unchanged := func(what string) {
		t.Helper()
		if !e.canSignIn(t, u.Email, userPassword) {
			t.Fatalf("%s changed the password", what)
		}
	}

	// Tampered: one character flipped.
	first := request(1)
	tampered := flipChar(first)
	mustContain(t, "tampered GET", e.browser().get(t, tampered), http.StatusBadRequest, "not valid", `href="/forgot"`)
	mustContain(t, "tampered POST", post(tampered, "tampered phrase with many words"), http.StatusBadRequest, "not valid")
	mustContain(t, "garbage token", e.browser().get(t, e.issuer+"/reset?token=%3Cscript%3E"), http.StatusBadRequest, "not valid")
	mustContain(t, "no token", e.browser().get(t, e.issuer+"/reset"), http.StatusBadRequest, "not valid")
	unchanged("a tampered link")

	// Replaced: a newer request voids the older link.
	second := request(2)
	mustContain(t, "replaced GET", e.browser().get(t, first), http.StatusGone, "newer password reset link", `href="/forgot"`)
	mustContain(t, "replaced POST", post(first, "replaced phrase with many words"), http.StatusGone, "newer")
	unchanged("a replaced link")

	// Expired: 31 minutes later by the provider's clock.
	e.clock.Advance(31 * time.Minute)
	p := e.browser().get(t, second)
	mustContain(t, "expired GET", p, http.StatusGone, "has expired", `href="/forgot"`)
	checkTokenPageHeaders(t, p)
	mustContain(t, "expired POST", post(second, "expired phrase with many words"), http.StatusGone, "has expired")
	unchanged("an expired link")

	// Used: the third link works once.
	third := request(3)
	mustContain(t, "reset", post(third, newPassword), http.StatusOK, "Your password has been changed")
	mustContain(t, "reused GET", e.browser().get(t, third), http.StatusGone, "already been used", `href="/forgot"`)
	mustContain(t, "reused POST", post(third, "reused phrase with many words"), http.StatusGone, "already been used")
	if !e.canSignIn(t, u.Email, newPassword) {
		t.Fatal("the reused link changed the password")
	}
	// A bad new password leaves a good link usable.
	fourth := request(4)
	mustContain(t, "weak", post(fourth, "password"), http.StatusBadRequest, "at least 15 characters")
	p = e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, fourth)}, "password": {userPassword}, "confirm": {newPassword}})
	mustContain(t, "mismatch", p, http.StatusBadRequest, "do not match")
	mustContain(t, "after errors", post(fourth, userPassword), http.StatusOK, "Your password has been changed")
}

func testInvitationExpired(t *testing.T, e *mailEnv) {
	u, err := e.accounts.Invite(context.Background(), account.NewUser{
		Email: "jo@example.com", GivenName: "Jo", FamilyName: "Park", Type: storage.UserTypeEmployee,
	})
	if err != nil {
		t.Fatal(err)
	}
	old := e.mail.wait(u.Email, "invited", 1).link(t, e.issuer, "/invite")
	e.clock.Advance(7*24*time.Hour + time.Minute)
	b := e.browser()
	p := b.get(t, old)
	mustContain(t, "expired invitation", p, http.StatusGone, "has expired", `action="/invite/resend"`, "Send me a new invitation")
	p = b.form(t, "/invite", url.Values{"token": {tokenOf(t, old)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "expired invitation POST", p, http.StatusGone, "has expired")
	if e.canSignIn(t, u.Email, newPassword) {
		t.Fatal("an expired invitation set a password")
	}

	p = b.form(t, "/invite/resend", url.Values{"token": {tokenOf(t, old)}})
	mustContain(t, "resend", p, http.StatusOK, "A new invitation is on its way")
	// The expired link serves once: asking again finds it replaced.
	p = b.form(t, "/invite/resend", url.Values{"token": {tokenOf(t, old)}})
	mustContain(t, "resend twice", p, http.StatusGone, "newer invitation")

	fresh := e.mail.wait(u.Email, "invited", 2).link(t, e.issuer, "/invite")
	if fresh == old {
		t.Fatal("the same link was sent again")
	}
	p = b.form(t, "/invite", url.Values{"token": {tokenOf(t, fresh)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "accept", p, http.StatusOK, "Your account is ready")
	if !e.canSignIn(t, u.Email, newPassword) {
		t.Fatal("cannot sign in after accepting the new invitation")
	}
	if len(e.mail.to(u.Email, "invited")) != 2 {
		t.Fatalf("invitations: %v", subjects(e.mail.all()))
	}

	// An admin's resend voids the user's link likewise.
	u2, err := e.accounts.Invite(context.Background(), account.NewUser{
		Email: "kim@example.com", GivenName: "Kim", FamilyName: "Lee", Type: storage.UserTypeEmployee,
	})
	if err != nil {
		t.Fatal(err)
	}
	first := e.mail.wait(u2.Email, "invited", 1).link(t, e.issuer, "/invite")
	if err := e.accounts.SendInvitation(context.Background(), u2.ID, account.Actor{}, "user.invite_resend", nil); err != nil {
		t.Fatal(err)
	}
	second := e.mail.wait(u2.Email, "invited", 2).link(t, e.issuer, "/invite")
	mustContain(t, "voided invitation", e.browser().get(t, first), http.StatusGone, "newer invitation")
	mustContain(t, "current invitation", e.browser().get(t, second), http.StatusOK, "Set up your account")
}

func testChangeEmail(t *testing.T, e *mailEnv) {
	u := e.user(t)
	const newAddr = "lena.new@example.org"
	b := e.browser()
	if !e.signInDirect(t, b, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	p := b.get(t, e.issuer+"/account")
	mustContain(t, "account page", p, http.StatusOK, "Your account", u.Email, "Ada Lovelace", `action="/account/email"`)

	p = b.form(t, "/account/email", url.Values{"email": {newAddr}, "current_password": {"wrong password here"}})
	mustContain(t, "wrong password", p, http.StatusBadRequest, "The current password is incorrect.")
	p = b.form(t, "/account/email", url.Values{"email": {"not an address"}, "current_password": {userPassword}})
	mustContain(t, "malformed address", p, http.StatusBadRequest, "Enter an email address")
	if n := len(e.outbox(t)); n != 0 {
		t.Fatalf("refused changes queued %d messages", n)
	}

	p = b.form(t, "/account/email", url.Values{"email": {newAddr}, "current_password": {userPassword}})
	mustContain(t, "change requested", p, http.StatusOK, "We have sent a confirmation link to the new address.", u.Email)
	notice := e.mail.wait(u.Email, "login email is being changed", 1)
	if !strings.Contains(notice.Text, newAddr) || strings.Contains(notice.Text, "token=") {
		t.Fatalf("notice to the old address:\n%s", notice.Text)
	}
	link := e.mail.wait(newAddr, "", 1).link(t, e.issuer, "/account/email/confirm")

	// Nothing has changed yet.
	if e.canSignIn(t, newAddr, userPassword) || !e.canSignIn(t, u.Email, userPassword) {
		t.Fatal("the email changed before confirmation")
	}

	// Confirm in another browser (the mail app's): no session needed. The
	// GET alone changes nothing.
	cb := e.browser()
	p = cb.get(t, link)
	mustContain(t, "confirm page", p, http.StatusOK, "Confirm your new email address", newAddr)
	checkTokenPageHeaders(t, p)
	mustContain(t, "tampered confirm", cb.form(t, "/account/email/confirm", url.Values{"token": {tokenOf(t, flipChar(link))}}), http.StatusBadRequest, "not valid")
	p = cb.form(t, "/account/email/confirm", url.Values{"token": {tokenOf(t, link)}})
	mustContain(t, "confirmed", p, http.StatusOK, "Your sign-in email has changed", newAddr)
	mustContain(t, "reused confirm", cb.form(t, "/account/email/confirm", url.Values{"token": {tokenOf(t, link)}}), http.StatusGone, "already been confirmed")

	if e.canSignIn(t, u.Email, userPassword) {
		t.Fatal("the old address still signs in")
	}
	c := e.createClient(t)
	f := newFlow(e.oauth2Config(c))
	tok, err := f.exchange(context.Background(), f.code(t, e.browser().signIn(t, f.authURL(), newAddr, userPassword)))
	if err != nil {
		t.Fatal(err)
	}
	if _, claims := e.userinfo(t, http.MethodGet, tok.AccessToken); claims["email"] != newAddr || claims["email_verified"] != true || claims["sub"] != u.ID {
		t.Fatalf("userinfo after email change: %v", claims)
	}
}

func testChangePassword(t *testing.T, e *mailEnv) {
	u := e.user(t)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)
	here, elsewhere := e.browser(), e.browser()
	if !e.signInDirect(t, here, u.Email, userPassword) || !e.signInDirect(t, elsewhere, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	p := here.form(t, "/account/password", url.Values{"current_password": {"not my password at all"}, "new_password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "wrong current", p, http.StatusBadRequest, "The current password is incorrect.")
	p = here.form(t, "/account/password", url.Values{"current_password": {userPassword}, "new_password": {newPassword}, "confirm": {"different"}})
	mustContain(t, "mismatch", p, http.StatusBadRequest, "do not match")
	p = here.form(t, "/account/password", url.Values{"current_password": {userPassword}, "new_password": {"ada lovelace password"}, "confirm": {"ada lovelace password"}})
	mustContain(t, "policy", p, http.StatusBadRequest, "must not contain your name")
	if !e.canSignIn(t, u.Email, userPassword) {
		t.Fatal("refused changes changed the password")
	}

	p = here.form(t, "/account/password", url.Values{"current_password": {userPassword}, "new_password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "changed", p, http.StatusOK, "Your password has been changed.")
	// This browser stays signed in; the other is out, and so is the client.
	mustContain(t, "account here", here.get(t, e.issuer+"/account"), http.StatusOK, "Your account")
	p = elsewhere.noFollow().get(t, e.issuer+"/account")
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
		t.Fatalf("other browser after password change: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("refresh token after password change: %v", err)
	}
	if e.canSignIn(t, u.Email, userPassword) || !e.canSignIn(t, u.Email, newPassword) {
		t.Fatal("password not changed")
	}
	e.mail.wait(u.Email, "password was changed", 1)
}

func testSignOutEverywhere(t *testing.T, e *mailEnv) {
	u := e.user(t)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, u)
	one, two := e.browser(), e.browser()
	if !e.signInDirect(t, one, u.Email, userPassword) || !e.signInDirect(t, two, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	// Plain sign-out ends one browser only.
	p := one.form(t, "/account/signout", nil)
	mustContain(t, "sign out", p, http.StatusOK, "You have signed out")
	if p := one.noFollow().get(t, e.issuer+"/account"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed-out browser reaches /account: %d", p.StatusCode)
	}
	mustContain(t, "other browser", two.get(t, e.issuer+"/account"), http.StatusOK, "Your account")
	if _, err := e.refresh(f.cfg, tok.RefreshToken); err != nil {
		t.Fatalf("sign-out of one browser revoked the client's token: %v", err)
	}

	three := e.browser()
	if !e.signInDirect(t, three, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	_, tok2, _ := e.login(t, c, u)
	p = three.form(t, "/account/signout-everywhere", nil)
	mustContain(t, "sign out everywhere", p, http.StatusOK, "You have signed out")
	for i, b := range []*browser{two, three} {
		if p := b.noFollow().get(t, e.issuer+"/account"); p.StatusCode != http.StatusSeeOther {
			t.Fatalf("browser %d still signed in: %d", i, p.StatusCode)
		}
	}
	if _, err := e.refresh(f.cfg, tok2.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("refresh token after sign out everywhere: %v", err)
	}
}

func testSMTPDown(t *testing.T, e *mailEnv) {
	u := e.user(t)
	e.mail.down()
	p := e.browser().form(t, "/forgot", url.Values{"email": {u.Email}})
	mustContain(t, "forgot while SMTP is down", p, http.StatusOK, "Check your email")

	// The worker tries, fails and keeps the message for later.
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs := e.outbox(t)
		if len(msgs) == 1 && msgs[0].Attempts >= 1 && msgs[0].Status == storage.MessagePending && msgs[0].LastError != "" && msgs[0].ClaimedUntil.Before(e.clock.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt recorded: %+v", msgs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(e.mail.all()); n != 0 {
		t.Fatalf("%d messages received while down", n)
	}

	e.mail.up()
	e.clock.Advance(2 * time.Minute) // past the first back-off
	m := e.mail.wait(u.Email, "Reset", 1)
	time.Sleep(300 * time.Millisecond) // a dozen more polls
	if got := e.mail.to(u.Email, ""); len(got) != 1 {
		t.Fatalf("received %d messages, want exactly 1: %v", len(got), subjects(got))
	}
	msgs := e.outbox(t)
	if len(msgs) != 1 || msgs[0].Status != storage.MessageSent || len(msgs[0].Body) != 0 {
		t.Fatalf("outbox after delivery: %+v", msgs)
	}
	// And the link works.
	link := m.link(t, e.issuer, "/reset")
	p = e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "reset", p, http.StatusOK, "Your password has been changed")
}

func testAccountGuards(t *testing.T, e *mailEnv) {
	b := e.browser().noFollow()
	for _, path := range []string{"/account"} {
		if p := b.get(t, e.issuer+path); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
			t.Fatalf("GET %s without a session: %d %s", path, p.StatusCode, p.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/account/password", "/account/email", "/account/signout-everywhere"} {
		if p := b.form(t, path, url.Values{}); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/login" {
			t.Fatalf("POST %s without a session: %d %s", path, p.StatusCode, p.Header.Get("Location"))
		}
	}

	// A signed-in browser at /login goes to its account.
	u := e.user(t)
	in := e.browser()
	if !e.signInDirect(t, in, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	if p := in.noFollow().get(t, e.issuer+"/login"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/account" {
		t.Fatalf("/login with a session: %d %s", p.StatusCode, p.Header.Get("Location"))
	}

	// Cross-site form posts are refused before they do anything.
	for _, path := range []string{"/forgot", "/reset", "/invite", "/invite/resend", "/account/password", "/account/email", "/account/email/confirm", "/account/signout", "/account/signout-everywhere", "/login"} {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(url.Values{"email": {u.Email}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := in.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		p := readPage(t, resp)
		mustContain(t, "cross-site POST "+path, p, http.StatusForbidden, "Request blocked")
	}
	if n := len(e.outbox(t)); n != 0 {
		t.Fatalf("cross-site posts queued %d messages", n)
	}
	mustContain(t, "still signed in", in.get(t, e.issuer+"/account"), http.StatusOK, "Your account")
}

func testForgotThrottled(t *testing.T, e *mailEnv) {
	u := e.user(t)
	for i := range 5 {
		p := e.browser().form(t, "/forgot", url.Values{"email": {u.Email}})
		mustContain(t, "request", p, http.StatusOK, "Check your email")
		_ = i
	}
	for _, addr := range []string{u.Email, strings.ToUpper(u.Email[:1]) + u.Email[1:]} {
		p := e.browser().form(t, "/forgot", url.Values{"email": {addr}})
		mustContain(t, "sixth request", p, http.StatusTooManyRequests, "Too many requests")
	}
	// Unknown addresses are throttled alike, so the limit tells nothing.
	for range 5 {
		e.browser().form(t, "/forgot", url.Values{"email": {"ghost@example.com"}})
	}
	mustContain(t, "unknown sixth", e.browser().form(t, "/forgot", url.Values{"email": {"ghost@example.com"}}), http.StatusTooManyRequests, "Too many requests")
	// Only the newest of the five links works.
	e.mail.wait(u.Email, "Reset", 5)
	links := e.mail.to(u.Email, "Reset")
	for i, m := range links {
		want := http.StatusGone
		if i == len(links)-1 {
			want = http.StatusOK
		}
		if p := e.browser().get(t, m.link(t, e.issuer, "/reset")); p.StatusCode != want {
			t.Fatalf("link %d: status %d, want %d", i+1, p.StatusCode, want)
		}
	}
	// An hour later the address may ask again.
	e.clock.Advance(61 * time.Minute)
	mustContain(t, "after the window", e.browser().form(t, "/forgot", url.Values{"email": {u.Email}}), http.StatusOK, "Check your email")
}

// checkTokenPageHeaders: a page with a token in its URL is neither cached
// nor sent on as a referrer.
func checkTokenPageHeaders(t *testing.T, p page) {
	t.Helper()
	if p.Header.Get("Referrer-Policy") != "no-referrer" || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token page headers: Referrer-Policy %q, Cache-Control %q", p.Header.Get("Referrer-Policy"), p.Header.Get("Cache-Control"))
	}
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// flipChar changes one character in the middle of the link's token.
func flipChar(link string) string {
	i := strings.Index(link, "token=") + len("token=") + 10
	c := byte('A')
	if link[i] == 'A' {
		c = 'B'
	}
	return link[:i] + string(c) + link[i+1:]
}

var sessionCookieRE = regexp.MustCompile(`^(__Host-)?cc_session$`)

func sessionCookie(t *testing.T, b *browser, issuer string) string {
	t.Helper()
	u, _ := url.Parse(issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if sessionCookieRE.MatchString(c.Name) {
			return c.Value
		}
	}
	return ""
}
