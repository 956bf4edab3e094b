package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/cliniconnects/identity/shared/adminapi"
)

var (
	enterKey  = &fyne.KeyEvent{Name: fyne.KeyReturn}
	escapeKey = &fyne.KeyEvent{Name: fyne.KeyEscape}
)

// The Employees table lists the seeded employees; typing in the search
// box narrows it to the match.
func TestListAndSearchEmployees(t *testing.T) {
	h := signedIn(t, superAdmin)
	s := h.employees()
	// Scrolling to the end fetches the next pages.
	h.scrollAll(s)
	for _, e := range []string{"ada.lovelace@example.test", "grace.hopper@example.test", "alan.turing@example.test"} {
		if rowOf(s, e) < 0 {
			t.Errorf("%s not listed", e)
		}
	}
	if rowOf(s, "florence.n@example.test") >= 0 {
		t.Error("a clinician is listed under Employees")
	}
	test.Type(s.search, "Lovelace")
	h.pump("the search result", func() bool { return s.query == "Lovelace" && !s.list.busy() })
	if len(s.list.items) != 1 || s.list.items[0].Email != "ada.lovelace@example.test" {
		t.Fatalf("search Lovelace lists %v", emails(s.list.items))
	}
	// The table shows the row.
	if got := s.table.Length; got == nil {
		t.Fatal("table has no Length")
	}
	rows, _ := s.table.Length()
	if rows != 1 {
		t.Errorf("table has %d rows, want 1", rows)
	}
	typeInto(s.search, "nobody-matches-this")
	s.search.TypedKey(enterKey)
	h.pump("the empty result", func() bool { return !s.list.busy() && s.query == "nobody-matches-this" })
	if len(s.list.items) != 0 || !strings.Contains(s.info.Text, "No employee matches") {
		t.Errorf("no-match search: %d items, info %q", len(s.list.items), s.info.Text)
	}
}

func emails(us []adminapi.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Email)
	}
	return out
}

// Create: the server's validation message appears next to the field;
// once fixed (Enter submits), the employee is created and the invitation
// reaches the SMTP server.
func TestCreateEmployeeSendsInvitation(t *testing.T) {
	h := signedIn(t, superAdmin)
	s := h.employees()
	test.Tap(s.newBtn)
	d := s.detail
	test.Type(d.given, "Katherine")
	test.Type(d.family, "Johnson")
	test.Type(d.email, "katherine.johnson-at-example")
	test.Type(d.department, "Flight Research")
	test.Tap(d.save)
	h.idle()
	emailField := d.fields[2]
	if emailField.name != "email" || !strings.Contains(emailField.err.Text, "not a valid email address") || emailField.err.Hidden {
		t.Fatalf("email field error = %q (hidden %v), want the server's message", emailField.err.Text, emailField.err.Hidden)
	}
	if d.user != nil {
		t.Fatal("created despite the invalid email")
	}
	addr := unique("katherine.johnson")
	typeInto(d.email, addr)
	d.email.TypedKey(enterKey)
	h.idle()
	if d.user == nil {
		t.Fatalf("not created: %s", d.msg.Text)
	}
	if !strings.Contains(d.msg.Text, "invitation was sent to "+addr) {
		t.Errorf("message = %q", d.msg.Text)
	}
	if !emailField.err.Hidden {
		t.Error("the email error is still shown after success")
	}
	if d.user.Status != adminapi.StatusInvited || d.user.Department != "Flight Research" {
		t.Errorf("created %+v", *d.user)
	}
	msg, err := idp.Mail.Wait(addr, "invited", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Text, "/invite?token=") {
		t.Errorf("invitation text has no invitation link:\n%s", msg.Text)
	}
	h.idle()
	h.scrollAll(s)
	if rowOf(s, addr) < 0 {
		t.Error("the new employee is not in the list")
	}
}

// Someone else changes the record while it is open: saving shows
// "changed by someone else", and Reload shows their change.
func TestEditWithStaleVersionShowsConflict(t *testing.T) {
	h := signedIn(t, superAdmin)
	v, err := h.api().CreateEmployee(h.ctx(), adminapi.NewEmployee{GivenName: "Dorothy", FamilyName: "Vaughan", Email: unique("dorothy")})
	if err != nil {
		t.Fatal(err)
	}
	s := h.employees()
	d := h.openRow(s, v.Email)

	// Meanwhile, another administrator edits the same record.
	other := "Programmer"
	if _, err := h.api().UpdateEmployee(h.ctx(), v.ID, v.Version, adminapi.EmployeeUpdate{JobTitle: &other}); err != nil {
		t.Fatal(err)
	}
	typeInto(d.jobTitle, "Mathematician")
	test.Tap(d.save)
	h.idle()
	if d.conflict == nil || h.u.modal != d.conflict {
		t.Fatalf("no conflict dialog; message %q", d.msg.Text)
	}
	if !containsText(labelsIn(d.conflict.content), "changed by someone else") {
		t.Errorf("dialog text: %v", labelsIn(d.conflict.content))
	}
	test.Tap(d.conflict.ok) // Reload
	h.idle()
	if d.jobTitle.Text != other {
		t.Errorf("after reload the job title is %q, want the other change %q", d.jobTitle.Text, other)
	}
	got, err := h.api().GetEmployee(h.ctx(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.JobTitle != other {
		t.Fatalf("the stale save overwrote the record: job title %q", got.JobTitle)
	}
	// Now the edit goes through.
	typeInto(d.jobTitle, "Mathematician")
	test.Tap(d.save)
	h.idle()
	if d.msg.Text != "Saved." || d.user.JobTitle != "Mathematician" {
		t.Errorf("save after reload: %q, job title %q", d.msg.Text, d.user.JobTitle)
	}
}

// Disable asks first, then the record shows Disabled and Enable.
func TestDisableEmployee(t *testing.T) {
	h := signedIn(t, superAdmin)
	v, err := h.api().CreateEmployee(h.ctx(), adminapi.NewEmployee{GivenName: "Mary", FamilyName: "Jackson", Email: unique("mary")})
	if err != nil {
		t.Fatal(err)
	}
	s := h.employees()
	d := h.openRow(s, v.Email)
	acct := d.panels[0].(*accountPanel)
	if acct.disable.Hidden || !acct.enable.Hidden {
		t.Fatal("an invited employee should offer Disable, not Enable")
	}
	test.Tap(acct.disable)
	if h.u.modal == nil {
		t.Fatal("Disable did not ask for confirmation")
	}
	// Esc cancels the confirmation.
	h.w.Canvas().OnTypedKey()(escapeKey)
	if h.u.modal != nil {
		t.Fatal("Esc did not close the confirmation")
	}
	test.Tap(acct.disable)
	test.Tap(h.u.modal.ok)
	h.idle()
	if d.user.Status != adminapi.StatusDisabled || !acct.disable.Hidden || acct.enable.Hidden {
		t.Fatalf("after disable: status %s, %q", d.user.Status, acct.msg.Text)
	}
	got, err := h.api().GetEmployee(h.ctx(), v.ID)
	if err != nil || got.Status != adminapi.StatusDisabled {
		t.Fatalf("server says %v, %v", got.Status, err)
	}
	if row := rowOf(s, v.Email); row < 0 || s.list.items[row].Status != adminapi.StatusDisabled {
		t.Error("the list row does not show Disabled")
	}
	test.Tap(acct.enable)
	h.idle()
	if d.user.Status == adminapi.StatusDisabled {
		t.Error("Enable did not enable")
	}
}

// Roles: a super admin may grant every role; the roles saved are the
// ones checked.
func TestGrantRole(t *testing.T) {
	h := signedIn(t, superAdmin)
	v, err := h.api().CreateEmployee(h.ctx(), adminapi.NewEmployee{GivenName: "Edith", FamilyName: "Clarke", Email: unique("edith")})
	if err != nil {
		t.Fatal(err)
	}
	s := h.employees()
	d := h.openRow(s, v.Email)
	if want := []string{"Super admin", "Admin", "Assigning manager"}; !slices.Equal(d.roles.Options, want) {
		t.Fatalf("role options %v, want %v", d.roles.Options, want)
	}
	d.roles.SetSelected([]string{"Assigning manager"})
	test.Tap(d.save)
	h.idle()
	got, err := h.api().GetEmployee(h.ctx(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Roles, []adminapi.Role{adminapi.RoleAssigningManager}) {
		t.Errorf("roles = %v (%s)", got.Roles, d.msg.Text)
	}
}

// Esc reverts unsaved edits.
func TestEscapeRevertsEdits(t *testing.T) {
	h := signedIn(t, superAdmin)
	s := h.employees()
	d := h.openRow(s, "grace.hopper@example.test")
	typeInto(d.department, "Navy")
	d.department.TypedKey(escapeKey)
	if d.department.Text != d.user.Department {
		t.Errorf("Esc left %q, want %q", d.department.Text, d.user.Department)
	}
}
