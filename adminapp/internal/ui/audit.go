package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/bulk"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// auditActions are offered in the action filter.
var auditActions = []string{
	adminapi.ActionEmployeeCreate, adminapi.ActionEmployeeUpdate, adminapi.ActionEmployeeSetRoles,
	adminapi.ActionEmployeeDisable, adminapi.ActionEmployeeEnable, adminapi.ActionEmployeePasswordReset,
	adminapi.ActionEmployeeInvitation,
	adminapi.ActionClinicianCreate, adminapi.ActionClinicianUpdate, adminapi.ActionClinicianSetRoles,
	adminapi.ActionClinicianDisable, adminapi.ActionClinicianEnable, adminapi.ActionClinicianPasswordReset,
	adminapi.ActionClinicianInvitation,
	adminapi.ActionClientCreate, adminapi.ActionClientUpdate, adminapi.ActionClientRotateSecret, adminapi.ActionClientDelete,
}

var auditColumns = []string{"Time", "Action", "Actor", "Target", "Source"}

// auditSection filters the audit log by actor, target, action and date
// range, shows an entry's changes, and opens the record it names.
type auditSection struct {
	u       *UI
	actor   *entry
	target  *entry
	action  *widget.SelectEntry
	from    *widget.DateEntry
	to      *widget.DateEntry
	apply   *widget.Button
	export  *widget.Button
	table   *widget.Table
	list    *pager[adminapi.AuditEntry]
	info    status
	changes *widget.Label
	openRec *widget.Button
	chosen  *adminapi.AuditEntry
	root    fyne.CanvasObject
	opts    adminapi.AuditOptions
	loaded  bool
}

func newAuditSection(u *UI) *auditSection {
	a := &auditSection{u: u, info: newStatus()}
	a.actor, a.target = newEntry(u), newEntry(u)
	a.actor.SetPlaceHolder("actor user id")
	a.target.SetPlaceHolder("record id")
	a.action = widget.NewSelectEntry(auditActions)
	a.action.SetPlaceHolder("any action")
	a.from, a.to = widget.NewDateEntry(), widget.NewDateEntry()
	for _, e := range []*entry{a.actor, a.target} {
		e.OnSubmitted = func(string) { a.search() }
	}
	a.action.OnSubmitted = func(string) { a.search() }
	a.apply = widget.NewButtonWithIcon("Search", theme.SearchIcon(), a.search)
	a.export = widget.NewButtonWithIcon("Export CSV…", theme.DownloadIcon(), a.exportCSV)

	a.list = &pager[adminapi.AuditEntry]{u: u}
	a.list.onChange = func() { a.table.Refresh(); a.count() }
	a.list.onState = func(msg string, isErr bool) {
		switch {
		case isErr:
			a.info.fail(msg)
		case msg != "":
			a.info.info(msg)
		default:
			a.count()
		}
	}
	a.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(a.list.items), len(auditColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			a.list.near(id.Row)
			if id.Row < len(a.list.items) {
				o.(*widget.Label).SetText(a.cell(a.list.items[id.Row], id.Col))
			}
		})
	a.table.ShowHeaderColumn = false
	a.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	a.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		if id.Col >= 0 {
			l.SetText(auditColumns[id.Col])
		}
	}
	for i, w := range []float32{170, 190, 200, 260, 110} {
		a.table.SetColumnWidth(i, w)
	}
	a.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < len(a.list.items) {
			a.choose(a.list.items[id.Row])
		}
	}
	a.changes = widget.NewLabel("Select an entry to see what changed.")
	a.changes.Wrapping = fyne.TextWrapWord
	a.changes.TextStyle = fyne.TextStyle{Monospace: true}
	a.openRec = widget.NewButton("Open record", a.openRecord)
	a.openRec.Hide()

	grid := container.New(layout.NewGridLayout(5),
		widget.NewLabel("Actor"), widget.NewLabel("Target"), widget.NewLabel("Action"), widget.NewLabel("From"), widget.NewLabel("Before"),
		a.actor, a.target, a.action, a.from, a.to)
	top := container.NewVBox(grid, container.NewHBox(a.apply, a.export))
	detail := container.NewBorder(nil, nil, nil, container.NewVBox(a.openRec), container.NewVScroll(a.changes))
	split := container.NewVSplit(container.NewBorder(nil, a.info.Label, nil, nil, a.table), detail)
	split.Offset = 0.7
	a.root = padded(container.NewBorder(top, nil, nil, nil, split))
	return a
}

func (a *auditSection) cell(e adminapi.AuditEntry, col int) string {
	switch col {
	case 0:
		return e.At.Local().Format("2006-01-02 15:04:05")
	case 1:
		return e.Action
	case 2:
		if e.ActorID == "" {
			return "system"
		}
		if e.ActorID == a.u.me.User.ID {
			return "you"
		}
		return e.ActorID
	case 3:
		return e.TargetType + " " + e.TargetID
	}
	return e.SourceAddr
}

func (a *auditSection) object() fyne.CanvasObject { return a.root }
func (a *auditSection) focusSearch()              { a.u.w.Canvas().Focus(a.actor) }
func (a *auditSection) newRecord()                {}
func (a *auditSection) escape() {
	a.table.UnselectAll()
	a.chosen = nil
	a.changes.SetText("Select an entry to see what changed.")
	a.openRec.Hide()
}

func (a *auditSection) show() {
	if !a.loaded {
		a.search()
	}
}

func (a *auditSection) count() {
	n := len(a.list.items)
	switch {
	case a.list.busy():
	case n == 0:
		a.info.info("No entries match.")
	case a.list.more:
		a.info.info(fmt.Sprintf("%d entries shown; scroll for more.", n))
	default:
		a.info.info(fmt.Sprintf("%d entries.", n))
	}
}

// options reads the filters.
func (a *auditSection) options() adminapi.AuditOptions {
	o := adminapi.AuditOptions{Actor: strings.TrimSpace(a.actor.Text), Target: strings.TrimSpace(a.target.Text),
		Action: strings.TrimSpace(a.action.Text)}
	if a.from.Date != nil {
		o.From = day(*a.from.Date)
	}
	if a.to.Date != nil {
		o.To = day(*a.to.Date).AddDate(0, 0, 1) // through the end of that day
	}
	return o
}

// day is midnight of t's date in the local zone.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.Local)
}

func (a *auditSection) search() {
	a.loaded = true
	o := a.options()
	a.opts = o
	a.escape()
	a.list.reset(func(ctx context.Context, cursor string) ([]adminapi.AuditEntry, string, error) {
		q := o
		q.Cursor, q.Limit = cursor, pageSize
		l, err := a.u.api.ListAudit(ctx, q)
		return l.Items, l.NextCursor, err
	})
}

func (a *auditSection) choose(e adminapi.AuditEntry) {
	a.chosen = &e
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\nby %s from %s\n%s %s\n", e.At.Local().Format(time.RFC3339), e.Action,
		a.cell(e, 2), e.SourceAddr, e.TargetType, e.TargetID)
	keys := make([]string, 0, len(e.Changes))
	for k := range e.Changes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := e.Changes[k]
		fmt.Fprintf(&b, "\n%s: %s → %s", k, jsonText(c.Old), jsonText(c.New))
	}
	a.changes.SetText(b.String())
	if _, ok := a.recordOf(e); ok && !strings.HasSuffix(e.Action, ".delete") {
		a.openRec.Show()
	} else {
		a.openRec.Hide()
	}
}

func jsonText(v any) string {
	if v == nil {
		return "—"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// recordOf is the section an entry's record is in.
func (a *auditSection) recordOf(e adminapi.AuditEntry) (string, bool) {
	switch {
	case strings.HasPrefix(e.Action, "employee."):
		return "Employees", a.u.shell.employees != nil
	case strings.HasPrefix(e.Action, "clinician."):
		return "Clinicians", a.u.shell.clinicians != nil
	case e.TargetType == "client":
		return "Clients", a.u.shell.clients != nil
	}
	return "", false
}

// openRecord shows the record the chosen entry names.
func (a *auditSection) openRecord() {
	if a.chosen == nil {
		return
	}
	e := *a.chosen
	switch sec, _ := a.recordOf(e); sec {
	case "Employees":
		a.u.shell.openUser(adminapi.UserTypeEmployee, e.TargetID)
	case "Clinicians":
		a.u.shell.openUser(adminapi.UserTypeClinician, e.TargetID)
	case "Clients":
		a.u.shell.openClient(e.TargetID)
	}
}

// maxExport bounds an audit export.
const maxExport = 100000

func (a *auditSection) exportCSV() {
	o := a.opts
	a.u.d.Files.Save("audit.csv", func(path string) {
		a.export.Disable()
		a.info.info("Exporting…")
		run(a.u, func(ctx context.Context) (int, error) {
			var all []adminapi.AuditEntry
			q := o
			q.Limit = 500
			for len(all) < maxExport {
				l, err := a.u.api.ListAudit(ctx, q)
				if err != nil {
					return 0, err
				}
				all = append(all, l.Items...)
				if q.Cursor = l.NextCursor; q.Cursor == "" {
					break
				}
			}
			return len(all), writeFile(path, func(f *os.File) error { return bulk.WriteAudit(f, all) })
		}, func(n int, err error) {
			a.export.Enable()
			if err != nil {
				a.info.fail("Export failed: " + a.u.fileMessage(err))
				return
			}
			a.info.success(fmt.Sprintf("Exported %d entries to %s.", n, path))
		})
	})
}
