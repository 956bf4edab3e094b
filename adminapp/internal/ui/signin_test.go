package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/cliniconnects/identity/adminapp/internal/auth"
	"github.com/cliniconnects/identity/adminapp/internal/idptest"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// A super admin signs in through the provider's real form (the test's
// browser fills it in) and sees every section.
func TestSignInSuperAdminSeesEverySection(t *testing.T) {
	h := signedIn(t, superAdmin)
	got := h.u.shell.sectionNames()
	want := []string{"Employees", "Clinicians", "Admins", "Clients", "Audit"}
	if !slices.Equal(got, want) {
		t.Errorf("sections = %v, want %v", got, want)
	}
	if !strings.Contains(h.u.shell.who.Text, superAdmin.Email) {
		t.Errorf("top bar says %q, want the signed-in email", h.u.shell.who.Text)
	}
	opened := h.browser.Opened()
	if len(opened) != 1 || opened[0].Path != "/authorize" || opened[0].Query().Get("code_challenge_method") != "S256" {
		t.Errorf("browser opened %v, want one authorization request with PKCE S256", opened)
	}
}

// Signed in as an assigning manager, the Clinicians, Admins and Clients
// sections (and Audit) are absent: only Employees is shown.
func TestAssigningManagerSeesOnlyEmployees(t *testing.T) {
	h := signedIn(t, manager)
	got := h.u.shell.sectionNames()
	if !slices.Equal(got, []string{"Employees"}) {
		t.Fatalf("sections = %v, want only Employees", got)
	}
	if h.u.shell.clinicians != nil || h.u.shell.admins != nil || h.u.shell.clients != nil || h.u.shell.audit != nil {
		t.Error("a section the assigning manager may not use was built")
	}
	// No role they may not grant is offered on a new employee.
	s := h.employees()
	test.Tap(s.newBtn)
	if opts := s.detail.roles.Options; len(opts) != 0 {
		t.Errorf("an assigning manager is offered roles %v", opts)
	}
}

// A user without a role is refused by the provider; the app says why.
func TestEmployeeWithoutRoleCannotSignIn(t *testing.T) {
	u := seeded[0]
	h := newHarness(t, idp.Issuer, u)
	h.pump("the sign-in screen", func() bool { return h.u.signIn != nil })
	test.Tap(h.u.signIn.signIn)
	h.pump("the refusal", func() bool {
		return !h.u.signIn.inFlight && h.u.signIn.status.Text != "" && !strings.HasPrefix(h.u.signIn.status.Text, "Waiting")
	})
	if h.u.shell != nil {
		t.Fatal("an employee without a role reached the main screen")
	}
	if msg := h.u.signIn.status.Text; !strings.Contains(msg, "Only administrators") {
		t.Errorf("message = %q", msg)
	}
}

// Sign out forgets the tokens, ends the provider's browser session and
// returns to the sign-in screen.
func TestSignOut(t *testing.T) {
	h := signedIn(t, superAdmin)
	sess := h.u.session
	test.Tap(h.u.shell.signOut)
	h.pump("signed out", func() bool {
		return h.u.signIn != nil && strings.Contains(h.u.signIn.status.Text, "signed out")
	})
	if h.u.session != nil || h.u.api != nil || sess.SignedIn() {
		t.Error("tokens kept after sign-out")
	}
	opened := h.browser.Opened()
	if last := opened[len(opened)-1]; last.Path != "/end_session" {
		t.Errorf("sign-out opened %s, want end_session", last)
	}
	// The provider's session is gone: signing in again shows the form
	// (here refused, as the browser no longer has the password).
	h.browser.Password = ""
	test.Tap(h.u.signIn.signIn)
	h.pump("the second sign-in to end", func() bool { return !h.u.signIn.inFlight })
	if h.u.shell != nil {
		t.Error("signed in again without a password after sign-out: the provider session survived")
	}
}

// First run: the app asks for the provider URL and checks its discovery
// document before keeping it.
func TestFirstRunAsksForProvider(t *testing.T) {
	h := newHarness(t, "", superAdmin)
	s := h.u.setup
	if s == nil {
		t.Fatal("no first-run screen without a provider URL")
	}
	typeInto(s.url, "http://not a url")
	test.Tap(s.check)
	if !strings.Contains(s.status.Text, "must be an absolute https URL") {
		t.Errorf("bad URL: status %q", s.status.Text)
	}
	// Something answers, but it is no provider.
	typeInto(s.url, idp.Issuer+"/nothing-here")
	test.Tap(s.check)
	h.pump("the check", func() bool { return !s.check.Disabled() })
	if !strings.Contains(s.status.Text, "No CliniConnects Identity provider answers") {
		t.Errorf("not a provider: status %q", s.status.Text)
	}
	typeInto(s.url, idp.Issuer+"/")
	s.url.TypedKey(enterKey) // Enter submits
	h.pump("the sign-in screen", func() bool { return h.u.signIn != nil })
	if got := h.prefs.String(prefIssuer); got != idp.Issuer {
		t.Errorf("remembered provider = %q, want %q", got, idp.Issuer)
	}
	h.signIn()
}

// An admin disabled while signed in is sent back to sign-in at their next
// request: the provider answers 401 and the app drops the session.
func TestDisabledAdminIsSentBackToSignIn(t *testing.T) {
	h := signedIn(t, doomedAdmin)
	if got := h.u.shell.sectionNames(); !slices.Equal(got, []string{"Employees", "Clinicians", "Audit"}) {
		t.Errorf("admin sections = %v", got)
	}
	super := superClient(t)
	ctx := h.ctx()
	l, err := super.ListEmployees(ctx, adminapi.ListUsersOptions{Search: doomedAdmin.Email})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("finding the admin: %v %v", l.Items, err)
	}
	if _, err := super.DisableEmployee(ctx, l.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	s := h.employees()
	s.reload()
	h.pump("the sign-in screen", func() bool { return h.u.signIn != nil })
	if h.u.session != nil || h.u.shell != nil {
		t.Error("the session was kept")
	}
	if msg := h.u.signIn.status.Text; !strings.Contains(msg, "session has ended") {
		t.Errorf("message %q", msg)
	}
}

// superClient is an admin API client signed in as the super admin,
// outside the app.
func superClient(t *testing.T) *adminapi.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := auth.Discover(ctx, idp.Issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.SignIn(ctx, auth.Options{OpenBrowser: idptest.NewBrowser(superAdmin.Email, superAdmin.Password).Open})
	if err != nil {
		t.Fatal(err)
	}
	return adminapi.NewClient(idp.Issuer, nil, s.AccessToken)
}
