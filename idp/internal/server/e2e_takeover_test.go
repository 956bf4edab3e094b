package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestE2ETakeoverClosed replays the account-takeover paths of issue 8
// through the real server, the pages, the admin API and SMTP, on every
// backend: each one worked before the links were bound to their address
// and voided with the user's grants.
func TestE2ETakeoverClosed(t *testing.T) {
	cases := []struct {
		name string
		run  func(*testing.T, *mailEnv)
	}{
		{"a phisher's email change link dies when the victim resets", testPhisherEmailChangeAfterReset},
		{"an invitation to a mistyped address dies when an admin fixes it", testTypoInvitation},
		{"a manager changes an email: old links dead, notice to the old address", testManagerEmailChange},
		{"/account/email answers the same for a taken address", testEmailChangeSameAnswer},
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

// The attack as reported: a phisher who has the password signs in, asks
// to change the login email to his own address, the victim resets the
// password by email, and the phisher opens his confirmation link.
func testPhisherEmailChangeAfterReset(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	victim := e.user(t)
	const attackerAddr = "mallory@evil.example"

	phisher := e.browser()
	if !e.signInDirect(t, phisher, victim.Email, userPassword) {
		t.Fatal("the phisher could not sign in with the known password")
	}
	p := phisher.form(t, "/account/email", url.Values{"email": {attackerAddr}, "current_password": {userPassword}})
	mustContain(t, "email change requested", p, http.StatusOK, "We have sent a confirmation link to the new address.")
	link := e.mail.wait(attackerAddr, "", 1).link(t, e.issuer, "/account/email/confirm")

	// The victim takes the account back by email.
	p = e.browser().form(t, "/forgot", url.Values{"email": {victim.Email}})
	mustContain(t, "forgot", p, http.StatusOK, "Check your email")
	reset := e.mail.wait(victim.Email, "Reset", 1).link(t, e.issuer, "/reset")
	p = e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, reset)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "reset", p, http.StatusOK, "Your password has been changed")

	// The phisher's link is dead, on GET and on POST.
	mb := e.browser()
	if p := mb.get(t, link); p.StatusCode == http.StatusOK {
		t.Fatalf("the email change link still works after the reset: %.300s", p.body)
	}
	p = mb.form(t, "/account/email/confirm", url.Values{"token": {tokenOf(t, link)}})
	if p.StatusCode == http.StatusOK {
		t.Fatalf("the email change was confirmed after the reset: %.300s", p.body)
	}
	got, err := e.store.GetUser(ctx, victim.ID)
	if err != nil || got.Email != victim.Email {
		t.Fatalf("the victim's login email is now %q (%v)", got.Email, err)
	}
	if e.canSignIn(t, attackerAddr, newPassword) || !e.canSignIn(t, victim.Email, newPassword) {
		t.Fatal("the account is not the victim's")
	}
}

// An admin invites a mistyped address, notices and fixes it with a PATCH:
// the link at the mistyped address must set no password and verify
// nothing; the corrected address gets its own invitation on request.
func testTypoInvitation(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	super := e.createUser(t, storage.UserTypeEmployee, storage.RoleSuperAdmin)
	sc := e.adminClient(t, super.Email, userPassword)
	typo := "hedy." + randHex(6) + "@exmaple.com"
	right := strings.Replace(typo, "@exmaple.com", "@example.com", 1)

	u, err := sc.CreateEmployee(ctx, api.NewEmployee{GivenName: "Hedy", FamilyName: "Lamarr", Email: typo})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	typoLink := e.mail.wait(typo, "invited", 1).link(t, e.issuer, "/invite")
	fixed, err := sc.UpdateEmployee(ctx, u.ID, u.Version, api.EmployeeUpdate{Email: &right})
	if err != nil || fixed.Email != right || fixed.EmailVerified {
		t.Fatalf("fix the address: %+v %v", fixed, err)
	}

	// Whoever reads the mistyped mailbox cannot use the link.
	const squatterPW = "squatter chooses this passphrase"
	if p := e.browser().get(t, typoLink); p.StatusCode == http.StatusOK {
		t.Fatalf("the invitation to the mistyped address still opens: %.300s", p.body)
	}
	p := e.browser().form(t, "/invite", url.Values{"token": {tokenOf(t, typoLink)}, "password": {squatterPW}, "confirm": {squatterPW}})
	if p.StatusCode == http.StatusOK {
		t.Fatalf("the invitation to the mistyped address set a password: %.300s", p.body)
	}
	got, err := e.store.GetUser(ctx, u.ID)
	if err != nil || got.Status != storage.StatusInvited || got.EmailVerified || got.PasswordHash != "" {
		t.Fatalf("after the mistyped link: %+v %v", got, err)
	}
	if e.canSignIn(t, right, squatterPW) {
		t.Fatal("the squatter signs in")
	}
	// The old address is told of the change.
	notice := e.mail.wait(typo, "login email was changed", 1)
	if !strings.Contains(notice.Text, right) || strings.Contains(notice.Text, "token=") {
		t.Fatalf("notice to the old address:\n%s", notice.Text)
	}

	// A new invitation goes to the corrected address and works; only then
	// is the address verified.
	if err := sc.ResendEmployeeInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	link := e.mail.wait(right, "invited", 1).link(t, e.issuer, "/invite")
	p = e.browser().form(t, "/invite", url.Values{"token": {tokenOf(t, link)}, "password": {newPassword}, "confirm": {newPassword}})
	mustContain(t, "accept", p, http.StatusOK, "Your account is ready")
	if got, _ := e.store.GetUser(ctx, u.ID); got.Email != right || !got.EmailVerified || got.Status != storage.StatusActive {
		t.Fatalf("after accepting: %+v", got)
	}
}

// An assigning manager may edit an employee's email. The employee's open
// links (here a reset they asked for) die with the change, every session
// and token of theirs ends, and the old address is told; a reset the
// manager sends next goes to the new address only.
func testManagerEmailChange(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	manager := e.createUser(t, storage.UserTypeEmployee, storage.RoleAssigningManager)
	mc := e.adminClient(t, manager.Email, userPassword)
	emp := e.user(t)
	c := e.createClient(t)
	f, tok, _ := e.login(t, c, emp)
	here := e.browser()
	if !e.signInDirect(t, here, emp.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	p := e.browser().form(t, "/forgot", url.Values{"email": {emp.Email}})
	mustContain(t, "forgot", p, http.StatusOK, "Check your email")
	oldLink := e.mail.wait(emp.Email, "Reset", 1).link(t, e.issuer, "/reset")

	const newAddr = "mallory.manager@evil.example"
	cur, err := mc.GetEmployee(ctx, emp.ID)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := mc.UpdateEmployee(ctx, emp.ID, cur.Version, api.EmployeeUpdate{Email: ptr(newAddr)})
	if err != nil || changed.Email != newAddr || changed.EmailVerified {
		t.Fatalf("manager changes the email: %+v %v", changed, err)
	}

	if p := e.browser().get(t, oldLink); p.StatusCode == http.StatusOK {
		t.Fatalf("the reset link sent to the old address still works: %.300s", p.body)
	}
	p = e.browser().form(t, "/reset", url.Values{"token": {tokenOf(t, oldLink)}, "password": {newPassword}, "confirm": {newPassword}})
	if p.StatusCode == http.StatusOK {
		t.Fatal("the reset link sent to the old address set a password")
	}
	if p := here.noFollow().get(t, e.issuer+"/account"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("the employee's browser is still signed in: %d", p.StatusCode)
	}
	if _, err := e.refresh(f.cfg, tok.RefreshToken); errorCode(err) != "invalid_grant" {
		t.Fatalf("refresh token after an admin changed the email: %v", err)
	}
	if e.introspect(t, c, tok.AccessToken) {
		t.Fatal("access token still active after an admin changed the email")
	}
	notice := e.mail.wait(emp.Email, "login email was changed", 1)
	if !strings.Contains(notice.Text, newAddr) || strings.Contains(notice.Text, "token=") {
		t.Fatalf("notice to the old address:\n%s", notice.Text)
	}

	// The reset the manager sends next goes to the new address only.
	if err := mc.SendEmployeePasswordReset(ctx, emp.ID); err != nil {
		t.Fatal(err)
	}
	e.mail.wait(newAddr, "Reset", 1)
	if n := len(e.mail.to(emp.Email, "Reset")); n != 1 {
		t.Fatalf("%d reset emails to the old address, want only the employee's own", n)
	}
}

func ptr[T any](v T) *T { return &v }

// Asking to change the login email to an address another account uses
// answers exactly as for a free address: the page, the status and the
// notice to the current address are the same; only the owner of the new
// address learns (by email) that it is taken, and no link is sent.
func testEmailChangeSameAnswer(t *testing.T, e *mailEnv) {
	ctx := context.Background()
	u := e.user(t)
	other := e.user(t)
	free := "ada.free." + randHex(6) + "@example.org"
	b := e.browser()
	if !e.signInDirect(t, b, u.Email, userPassword) {
		t.Fatal("sign-in failed")
	}
	ask := func(addr string) string {
		p := b.form(t, "/account/email", url.Values{"email": {addr}, "current_password": {userPassword}})
		if p.StatusCode != http.StatusOK {
			t.Fatalf("change to %s: status %d: %.400s", addr, p.StatusCode, p.body)
		}
		return strings.ReplaceAll(p.body, addr, "ADDRESS")
	}
	taken := ask(other.Email)
	fresh := ask(free)
	if taken != fresh {
		t.Fatalf("the answer differs for a taken address:\n%s\n---\n%s", taken, fresh)
	}
	if n := len(e.mail.to(u.Email, "login email is being changed")); n > 2 {
		t.Fatalf("%d notices", n)
	}
	e.mail.wait(u.Email, "login email is being changed", 2)
	m := e.mail.wait(other.Email, "", 1)
	if strings.Contains(m.Text, "token=") || !strings.Contains(m.Text, "already") {
		t.Fatalf("email to the taken address:\n%s", m.Text)
	}
	e.mail.wait(free, "", 1).link(t, e.issuer, "/account/email/confirm")
	if got, _ := e.store.GetUser(ctx, u.ID); got.Email != u.Email {
		t.Fatalf("the email changed: %s", got.Email)
	}
	if got, _ := e.store.GetUser(ctx, other.ID); got.Email != other.Email {
		t.Fatalf("the other account changed: %s", got.Email)
	}
}
