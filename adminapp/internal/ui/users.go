package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/bulk"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// searchDelay is how long typing must pause before the list is searched.
const searchDelay = 300 * time.Millisecond

// usersSection is the Employees or Clinicians section: a searchable,
// paginated table on the left, the selected record (or a new one, or an
// import) on the right.
type usersSection struct {
	u    *UI
	kind userKind
	api  userAPI

	search  *entry
	status  *widget.Select
	newBtn  *widget.Button
	importB *widget.Button
	export  *widget.Button
	table   *widget.Table
	info    status
	list    *pager[adminapi.User]
	right   *fyne.Container // the detail pane
	root    fyne.CanvasObject
	detail  *userDetail // shown record or form, if any
	imports *importPane // shown import, if any
	timer   *time.Timer // search debounce
	query   string      // the search the list shows
	filter  adminapi.UserStatus
	loaded  bool
}

var statusFilters = []string{"All statuses", "Active", "Invited", "Disabled"}

func newUsersSection(u *UI, k userKind) *usersSection {
	s := &usersSection{u: u, kind: k, api: userAPI{c: u.api, k: k}, info: newStatus()}
	s.search = newEntry(u)
	s.search.SetPlaceHolder("Search name, email or phone")
	s.search.OnChanged = func(string) { s.searchSoon() }
	s.search.OnSubmitted = func(string) { s.searchNow() }
	s.status = widget.NewSelect(statusFilters, func(v string) {
		switch v {
		case "Active":
			s.filter = adminapi.StatusActive
		case "Invited":
			s.filter = adminapi.StatusInvited
		case "Disabled":
			s.filter = adminapi.StatusDisabled
		default:
			s.filter = ""
		}
		if s.loaded {
			s.reload()
		}
	})
	s.status.SetSelectedIndex(0)

	s.list = &pager[adminapi.User]{u: u}
	s.list.onChange = func() { s.table.Refresh(); s.count() }
	s.list.onState = func(msg string, isErr bool) {
		if isErr {
			s.info.fail(msg)
		} else if msg != "" {
			s.info.info(msg)
		} else {
			s.count()
		}
	}
	s.table = s.newTable()

	var tools []fyne.CanvasObject
	if u.can(k.write) {
		s.newBtn = widget.NewButtonWithIcon("New "+k.singular, theme.ContentAddIcon(), s.create)
		s.importB = widget.NewButtonWithIcon("Import CSV…", theme.UploadIcon(), s.startImport)
		tools = append(tools, s.newBtn, s.importB)
	}
	s.export = widget.NewButtonWithIcon("Export CSV…", theme.DownloadIcon(), s.exportCSV)
	tools = append(tools, s.export)

	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, s.status, s.search),
		container.NewHBox(tools...),
	)
	left := container.NewBorder(top, s.info.Label, nil, nil, s.table)
	s.right = container.NewStack(s.placeholder())
	split := container.NewHSplit(left, s.right)
	split.Offset = 0.58
	s.root = split
	return s
}

func (s *usersSection) placeholder() fyne.CanvasObject {
	l := widget.NewLabel("Select a " + s.kind.singular + " to see their record.")
	l.Importance = widget.LowImportance
	return container.NewCenter(l)
}

// columns of the table.
func (s *usersSection) columns() []string {
	if s.kind.clinician() {
		return []string{"Name", "Email", "Phone", "Discipline", "Status", "Roles"}
	}
	return []string{"Name", "Email", "Department", "Status", "Roles"}
}

func (s *usersSection) cell(u adminapi.User, col int) string {
	vals := []string{u.Name(), u.Email}
	if s.kind.clinician() {
		vals = append(vals, u.Phone, u.Discipline)
	} else {
		vals = append(vals, u.Department)
	}
	vals = append(vals, statusLabel(u.Status), rolesText(u.Roles))
	return vals[col]
}

func (s *usersSection) newTable() *widget.Table {
	cols := s.columns()
	t := widget.NewTableWithHeaders(
		func() (int, int) { return len(s.list.items), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			s.list.near(id.Row)
			if id.Row < len(s.list.items) {
				o.(*widget.Label).SetText(s.cell(s.list.items[id.Row], id.Col))
			}
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		if id.Col >= 0 && id.Col < len(cols) {
			l.SetText(cols[id.Col])
		}
	}
	widths := []float32{150, 210, 120, 80, 70, 130}
	if !s.kind.clinician() {
		widths = []float32{150, 220, 130, 70, 130}
	}
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(s.list.items) {
			s.open(s.list.items[id.Row].ID)
		}
	}
	return t
}

func (s *usersSection) count() {
	n := len(s.list.items)
	switch {
	case s.list.busy():
	case n == 0 && s.query != "":
		s.info.info("No " + s.kind.singular + " matches “" + s.query + "”.")
	case n == 0:
		s.info.info("No " + s.kind.singular + "s yet.")
	case s.list.more:
		s.info.info(fmt.Sprintf("%d shown; scroll for more.", n))
	case n == 1:
		s.info.info("1 " + s.kind.singular + ".")
	default:
		s.info.info(fmt.Sprintf("%d %ss.", n, s.kind.singular))
	}
}

// show loads the list the first time the section is shown.
func (s *usersSection) show() {
	if !s.loaded {
		s.loaded = true
		s.reload()
	}
}

func (s *usersSection) reload() {
	q, st := s.query, s.filter
	s.table.UnselectAll()
	s.list.reset(func(ctx context.Context, cursor string) ([]adminapi.User, string, error) {
		l, err := s.api.list(ctx, adminapi.ListUsersOptions{Search: q, Status: st, Cursor: cursor, Limit: pageSize})
		return l.Items, l.NextCursor, err
	})
}

func (s *usersSection) searchSoon() {
	if s.timer != nil {
		s.timer.Stop()
	}
	text := s.search.Text
	s.timer = time.AfterFunc(searchDelay, func() {
		s.u.d.Do(func() {
			if s.search.Text == text {
				s.searchNow()
			}
		})
	})
}

func (s *usersSection) searchNow() {
	if s.timer != nil {
		s.timer.Stop()
	}
	q := strings.TrimSpace(s.search.Text)
	if q == s.query && s.loaded {
		return
	}
	s.query = q
	s.loaded = true
	s.reload()
}

func (s *usersSection) focusSearch() { s.u.w.Canvas().Focus(s.search) }

// setRight shows o in the detail pane.
func (s *usersSection) setRight(o fyne.CanvasObject) {
	s.right.Objects = []fyne.CanvasObject{o}
	s.right.Refresh()
}

// closeRight empties the detail pane (Esc).
func (s *usersSection) closeRight() {
	s.detail, s.imports = nil, nil
	s.table.UnselectAll()
	s.setRight(s.placeholder())
}

// open shows the record with id.
func (s *usersSection) open(id string) {
	s.imports = nil
	s.detail = newUserDetail(s, nil)
	s.setRight(s.detail.root)
	s.detail.load(id)
}

// create shows an empty form for a new record.
func (s *usersSection) create() {
	if !s.u.can(s.kind.write) {
		return
	}
	s.imports = nil
	s.table.UnselectAll()
	s.detail = newUserDetail(s, nil)
	s.setRight(s.detail.root)
	s.u.w.Canvas().Focus(s.detail.given)
}

// updated puts a changed record into the list.
func (s *usersSection) updated(v adminapi.User) {
	s.list.replace(func(x adminapi.User) bool { return x.ID == v.ID }, v)
}

func (s *usersSection) startImport() {
	s.detail = nil
	s.table.UnselectAll()
	s.imports = newImportPane(s)
	s.setRight(s.imports.root)
	s.imports.choose()
}

// exportCSV writes every record of the current search and filter.
func (s *usersSection) exportCSV() {
	q, st := s.query, s.filter
	name := strings.ToLower(s.kind.title) + ".csv"
	s.u.d.Files.Save(name, func(path string) {
		s.export.Disable()
		s.info.info("Exporting…")
		run(s.u, func(ctx context.Context) (int, error) {
			var all []adminapi.User
			cursor := ""
			for {
				l, err := s.api.list(ctx, adminapi.ListUsersOptions{Search: q, Status: st, Cursor: cursor, Limit: 500})
				if err != nil {
					return 0, err
				}
				all = append(all, l.Items...)
				if cursor = l.NextCursor; cursor == "" {
					break
				}
			}
			return len(all), writeFile(path, func(f *os.File) error { return bulk.WriteUsers(f, s.kind.typ, all) })
		}, func(n int, err error) {
			s.export.Enable()
			if err != nil {
				s.info.fail("Export failed: " + s.u.fileMessage(err))
				return
			}
			s.info.success(fmt.Sprintf("Exported %d %ss to %s.", n, s.kind.singular, path))
		})
	})
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(f *os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fileMessage words a file or API error.
func (u *UI) fileMessage(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "cannot write " + pe.Path + " (" + pe.Err.Error() + ")"
	}
	return u.message(err)
}
