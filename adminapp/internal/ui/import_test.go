package ui

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/cliniconnects/identity/adminapp/internal/bulk"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// importFile writes n employee rows; bad maps a 0-based row index to a
// change that makes it invalid. It returns the file and the unique tag in
// every address.
func importFile(t *testing.T, n int, bad map[int]func(rec []string)) (string, string) {
	t.Helper()
	tag := fmt.Sprintf("imp%d", time.Now().UnixNano())
	path := tempPath(t, "employees.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"Given name", "family_name", "email", "job_title", "department", "roles"})
	for i := range n {
		rec := []string{"Imp", fmt.Sprintf("Row%03d", i), fmt.Sprintf("%s-%03d@example.test", tag, i), "Nurse aide", "Home care", ""}
		if change := bad[i]; change != nil {
			change(rec)
		}
		w.Write(rec)
	}
	w.Flush()
	if err := f.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
	return path, tag
}

// countTagged counts the employees whose address carries tag.
func countTagged(t *testing.T, h *harness, tag string) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		l, err := h.api().ListEmployees(h.ctx(), adminapi.ListUsersOptions{Search: tag, Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		n += len(l.Items)
		if cursor = l.NextCursor; cursor == "" {
			return n
		}
	}
}

// createAudits counts the audit log's employee.create entries.
func createAudits(t *testing.T, h *harness) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		l, err := h.api().ListAudit(h.ctx(), adminapi.AuditOptions{Action: adminapi.ActionEmployeeCreate, Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		n += len(l.Items)
		if cursor = l.NextCursor; cursor == "" {
			return n
		}
	}
}

// 200 rows, 3 of them bad: the dry run — each row through the provider's
// own checks of a create — lists exactly those 3 by row, in the
// provider's words, before anything is created; the run creates the other
// 197, each of whom is sent an invitation; the failed rows can be saved
// as CSV.
func TestImportCSV200RowsWith3Bad(t *testing.T) {
	h := signedIn(t, superAdmin)
	audits := createAudits(t, h)
	path, tag := importFile(t, 200, map[int]func([]string){
		16:  func(r []string) { r[2] = "not-an-email" },              // row 18
		87:  func(r []string) { r[1] = "" },                          // row 89
		149: func(r []string) { r[2] = "grace.hopper@example.test" }, // row 151: has an account
	})
	s := h.employees()
	h.files.open = path
	test.Tap(s.importB)
	p := s.imports
	h.pump("the dry run", func() bool { return !p.chooseB.Disabled() })

	var lines []int
	for _, pr := range p.found {
		lines = append(lines, pr.Line)
	}
	if !slices.Equal(lines, []int{18, 89, 151}) {
		t.Fatalf("dry run problems on rows %v, want [18 89 151]:\n%v", lines, p.found)
	}
	for i, want := range []string{`Row 18: email "not-an-email" is not a valid email address`, "Row 89: family_name is required",
		"Row 151: email is in use by another user"} {
		if !strings.Contains(p.found[i].String(), want) {
			t.Errorf("problem %d = %q, want it to say %q", i, p.found[i], want)
		}
	}
	if got := p.problems.Length(); got != 3 {
		t.Errorf("the problems list shows %d rows, want 3", got)
	}
	if n := countTagged(t, h, tag); n != 0 {
		t.Fatalf("the dry run created %d employees", n)
	}
	if n := createAudits(t, h); n != audits {
		t.Fatalf("the dry run wrote %d employee.create audit entries", n-audits)
	}
	if p.start.Disabled() || p.start.Text != "Import 197 employees" {
		t.Fatalf("import button %q (disabled %v)", p.start.Text, p.start.Disabled())
	}

	test.Tap(p.start)
	h.pump("the import", func() bool { return p.result != nil })
	if p.result.Created != 197 || len(p.result.Failed) != 0 || len(p.result.NotRun) != 0 {
		t.Fatalf("result: created %d, failed %v, not run %d", p.result.Created, p.result.Failed, len(p.result.NotRun))
	}
	if !strings.Contains(p.summary.Text, "Created 197 employees") {
		t.Errorf("summary %q", p.summary.Text)
	}
	if n := countTagged(t, h, tag); n != 197 {
		t.Errorf("%d employees with the import's addresses exist, want 197", n)
	}

	// The failed rows, as CSV with the reason.
	h.files.save = tempPath(t, "failed.csv")
	test.Tap(p.saveFail)
	f, err := os.Open(h.files.save)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][len(recs[0])-1] != "error" || recs[1][2] != "not-an-email" || !strings.HasPrefix(recs[3][6], "row 151:") {
		t.Errorf("failed rows CSV:\n%v", recs)
	}

	// Each created employee gets the invitation, as for a single create.
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := 0
		for _, m := range idp.Mail.Messages() {
			if strings.HasPrefix(m.To, tag+"-") && strings.Contains(m.Subject, "invited") {
				n++
			}
		}
		if n == 197 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d invitations arrived, want 197", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Cancelling stops sending rows: every row ends created or not run, and
// what was created exists.
func TestImportCanBeCancelled(t *testing.T) {
	h := signedIn(t, superAdmin)
	path, tag := importFile(t, 120, nil)
	s := h.employees()
	h.files.open = path
	test.Tap(s.importB)
	p := s.imports
	h.pump("the dry run", func() bool { return !p.chooseB.Disabled() })
	test.Tap(p.start)
	test.Tap(p.cancelB)
	h.pump("the cancelled import", func() bool { return p.result != nil })
	r := p.result
	if len(r.NotRun) == 0 {
		t.Fatalf("cancel did not stop the import: created %d", r.Created)
	}
	if r.Created+len(r.Failed)+len(r.NotRun) != 120 {
		t.Errorf("created %d + failed %d + not run %d != 120", r.Created, len(r.Failed), len(r.NotRun))
	}
	if n := countTagged(t, h, tag); n != r.Created {
		t.Errorf("%d exist, the summary says %d created", n, r.Created)
	}
	if !strings.Contains(p.summary.Text, "not imported (cancelled)") {
		t.Errorf("summary %q", p.summary.Text)
	}
}

// A file without the required columns is refused as a whole.
func TestImportRefusesFileWithoutHeader(t *testing.T) {
	h := signedIn(t, superAdmin)
	path := tempPath(t, "bad.csv")
	os.WriteFile(path, []byte("Ada,Lovelace,ada2@example.test\n"), 0o600)
	s := h.employees()
	h.files.open = path
	test.Tap(s.importB)
	p := s.imports
	h.pump("the dry run", func() bool { return !p.chooseB.Disabled() })
	if !strings.Contains(p.summary.Text, "cannot be imported") || !p.start.Disabled() {
		t.Errorf("summary %q, import enabled %v", p.summary.Text, !p.start.Disabled())
	}
	var _ = bulk.ErrFile
}

// Export writes every record of the current search as CSV, in the import
// columns.
func TestExportEmployees(t *testing.T) {
	h := signedIn(t, superAdmin)
	s := h.employees()
	h.files.save = tempPath(t, "employees.csv")
	test.Tap(s.export)
	h.idle()
	b, err := os.ReadFile(h.files.save)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasPrefix(text, "given_name,family_name,email,phone,job_title,department,roles,id,status") ||
		!strings.Contains(text, "ada.lovelace@example.test") || strings.Contains(text, "florence.n@example.test") {
		t.Errorf("export:\n%s", text)
	}
}
