package ui

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// Clients: create a confidential client (its secret shown once, with a
// copy button), edit its redirect URIs, and see the server's message next
// to a bad one.
func TestClientsCreateEditRotate(t *testing.T) {
	h := signedIn(t, superAdmin)
	if !h.u.ShowSection("Clients") {
		t.Fatal("no Clients section")
	}
	h.idle()
	c := h.u.shell.clients
	if !slices.ContainsFunc(c.items, func(x adminapi.OIDCClient) bool { return x.ID == adminapi.DesktopClientID }) {
		t.Fatalf("the desktop app's client is not listed: %v", c.items)
	}
	test.Tap(c.newBtn)
	d := c.detail
	id := fmt.Sprintf("scheduling-%d", time.Now().UnixNano())
	test.Type(d.id, id)
	test.Type(d.name, "Scheduling")
	test.Type(d.redirects, "ftp://scheduling.example.test/cb")
	test.Tap(d.save)
	h.idle()
	if !strings.Contains(d.fields[3].err.Text, "ftp://") || d.client != nil {
		t.Fatalf("redirect URI error %q; created %v", d.fields[3].err.Text, d.client)
	}
	typeInto(d.redirects, "https://scheduling.example.test/cb")
	test.Tap(d.save)
	h.idle()
	if d.client == nil || d.secret == nil || h.u.modal != d.secret {
		t.Fatalf("not created or no secret shown: %q", d.msg.Text)
	}
	secret := secretIn(t, d.secret)
	copyBtn := findButton(d.secret.content, "Copy")
	test.Tap(copyBtn)
	if got := fyne.CurrentApp().Clipboard().Content(); got != secret {
		t.Errorf("clipboard %q, want the secret", got)
	}
	test.Tap(d.secret.cancel) // Done
	if h.u.modal != nil {
		t.Fatal("secret dialog still open")
	}

	// Edit: a second redirect URI and an admitted type.
	typeInto(d.redirects, "https://scheduling.example.test/cb\nhttps://scheduling.example.test/cb2")
	d.admitTypes.SetSelected([]string{"clinician"})
	test.Tap(d.save)
	h.idle()
	got, err := h.api().GetClient(h.ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RedirectURIs) != 2 || !slices.Equal(got.AdmitTypes, []adminapi.UserType{adminapi.UserTypeClinician}) {
		t.Errorf("saved %+v (%s)", got, d.msg.Text)
	}

	// Rotate: a new secret, shown once.
	test.Tap(d.rotate)
	test.Tap(h.u.modal.ok)
	h.idle()
	if d.secret == nil || secretIn(t, d.secret) == secret {
		t.Error("rotation showed no new secret")
	}
}

// secretIn is the monospace label of a secret dialog.
func secretIn(t *testing.T, m *modal) string {
	t.Helper()
	var s string
	walkObjects(m.content, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.TextStyle.Monospace {
			s = l.Text
		}
	})
	if len(s) < 32 {
		t.Fatalf("secret %q too short or missing", s)
	}
	return s
}

// Admins lists who holds which role; a row opens that person's record.
func TestAdminsListsRoleHolders(t *testing.T) {
	h := signedIn(t, superAdmin)
	if !h.u.ShowSection("Admins") {
		t.Fatal("no Admins section")
	}
	h.idle()
	a := h.u.shell.admins
	var rows []string
	row := -1
	for i, r := range a.rows {
		rows = append(rows, string(r.role)+" "+r.user.Email)
		if r.user.Email == manager.Email {
			row = i
		}
	}
	if !slices.Contains(rows, "super_admin "+superAdmin.Email) || row < 0 || a.rows[row].role != adminapi.RoleAssigningManager {
		t.Fatalf("admins rows %v", rows)
	}
	a.table.Select(widget.TableCellID{Row: row})
	h.idle()
	d := h.u.shell.employees.detail
	if h.u.shell.current() != h.u.shell.employees || d == nil || d.user == nil || d.user.Email != manager.Email {
		t.Fatal("selecting a role holder did not open their record")
	}
}

// Audit: filter by action and target, see the change, open the record it
// names.
func TestAuditFilterAndOpenRecord(t *testing.T) {
	h := signedIn(t, superAdmin)
	v, err := h.api().CreateEmployee(h.ctx(), adminapi.NewEmployee{GivenName: "Annie", FamilyName: "Easley", Email: unique("annie")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.api().DisableEmployee(h.ctx(), v.ID); err != nil {
		t.Fatal(err)
	}
	if !h.u.ShowSection("Audit") {
		t.Fatal("no Audit section")
	}
	h.idle()
	a := h.u.shell.audit
	a.action.SetText(adminapi.ActionEmployeeDisable)
	test.Type(a.target, v.ID)
	a.target.TypedKey(enterKey)
	h.idle()
	if len(a.list.items) != 1 || a.list.items[0].Action != adminapi.ActionEmployeeDisable || a.list.items[0].TargetID != v.ID {
		t.Fatalf("audit rows %+v", a.list.items)
	}
	if got := a.cell(a.list.items[0], 2); got != "you" {
		t.Errorf("actor shown as %q, want you", got)
	}
	// Export writes the filtered view.
	h.files.save = tempPath(t, "audit.csv")
	test.Tap(a.export)
	h.idle()
	b, err := os.ReadFile(h.files.save)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 2 || !strings.Contains(lines[1], v.ID) {
		t.Errorf("audit export:\n%s", b)
	}
	a.table.Select(widget.TableCellID{Row: 0})
	if !strings.Contains(a.changes.Text, "status") || a.openRec.Hidden {
		t.Fatalf("changes %q, open record hidden %v", a.changes.Text, a.openRec.Hidden)
	}
	test.Tap(a.openRec)
	h.idle()
	d := h.u.shell.employees.detail
	if h.u.shell.current() != h.u.shell.employees || d == nil || d.user == nil || d.user.ID != v.ID {
		t.Fatal("Open record did not show the employee")
	}
	if d.user.Status != adminapi.StatusDisabled {
		t.Errorf("record status %s", d.user.Status)
	}
}

// Clinicians show phone and discipline; a new clinician without them gets
// the server's messages next to those fields.
func TestCliniciansPhoneAndDiscipline(t *testing.T) {
	h := signedIn(t, superAdmin)
	if !h.u.ShowSection("Clinicians") {
		t.Fatal("no Clinicians section")
	}
	h.idle()
	s := h.u.shell.clinicians
	d := h.openRow(s, "florence.n@example.test")
	if d.phone.Text != "+14155550101" || d.discipline == nil {
		t.Fatalf("phone %q, discipline field %v", d.phone.Text, d.discipline)
	}
	test.Tap(s.newBtn)
	d = s.detail
	test.Type(d.given, "Clara")
	test.Type(d.family, "Barton")
	test.Type(d.email, unique("clara"))
	test.Tap(d.save)
	h.idle()
	errs := map[string]string{}
	for _, f := range d.fields {
		errs[f.name] = f.err.Text
	}
	if !strings.Contains(errs["phone"], "required") || !strings.Contains(errs["discipline"], "required") {
		t.Fatalf("field errors %v", errs)
	}
	test.Type(d.phone, "+14155550177")
	d.discipline.SetSelected("RN")
	test.Tap(d.save)
	h.idle()
	if d.user == nil || d.user.Discipline != "RN" || d.user.Type != adminapi.UserTypeClinician {
		t.Fatalf("not created: %q", d.msg.Text)
	}
}
