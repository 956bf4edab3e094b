package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// adminsSection (super admins) lists who holds which role; a row opens
// the person's record, where roles are changed.
type adminsSection struct {
	u       *UI
	table   *widget.Table
	rows    []adminRow
	info    status
	reload  *widget.Button
	root    fyne.CanvasObject
	loaded  bool
	loading bool
}

type adminRow struct {
	role adminapi.Role
	user adminapi.User
}

var adminColumns = []string{"Role", "Name", "Email", "Type", "Status"}

func newAdminsSection(u *UI) *adminsSection {
	a := &adminsSection{u: u, info: newStatus()}
	a.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(a.rows), len(adminColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row >= len(a.rows) {
				return
			}
			r := a.rows[id.Row]
			o.(*widget.Label).SetText([]string{roleLabel(r.role), r.user.Name(), r.user.Email, string(r.user.Type), statusLabel(r.user.Status)}[id.Col])
		})
	a.table.ShowHeaderColumn = false
	a.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	a.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		if id.Col >= 0 {
			l.SetText(adminColumns[id.Col])
		}
	}
	for i, w := range []float32{150, 180, 240, 90, 80} {
		a.table.SetColumnWidth(i, w)
	}
	a.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < len(a.rows) {
			r := a.rows[id.Row]
			a.table.UnselectAll()
			u.shell.openUser(r.user.Type, r.user.ID)
		}
	}
	a.reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), a.load)
	intro := widget.NewLabel("Everyone who holds an administrative role. Open a person to change their roles.")
	intro.Wrapping = fyne.TextWrapWord
	a.root = padded(container.NewBorder(container.NewBorder(nil, nil, nil, a.reload, intro), a.info.Label, nil, nil, a.table))
	return a
}

func (a *adminsSection) object() fyne.CanvasObject { return a.root }
func (a *adminsSection) focusSearch()              {}
func (a *adminsSection) newRecord()                {}
func (a *adminsSection) escape()                   {}

func (a *adminsSection) show() {
	if !a.loaded {
		a.loaded = true
		a.load()
	}
}

func (a *adminsSection) load() {
	if a.loading {
		return
	}
	a.loading = true
	a.reload.Disable()
	a.info.info("Loading…")
	var lists []userAPI
	for _, k := range []userKind{employees, clinicians} {
		if a.u.can(k.read) {
			lists = append(lists, userAPI{c: a.u.api, k: k})
		}
	}
	run(a.u, func(ctx context.Context) ([]adminRow, error) {
		var rows []adminRow
		for _, role := range adminapi.Roles {
			for _, l := range lists {
				cursor := ""
				for {
					page, err := l.list(ctx, adminapi.ListUsersOptions{Role: role, Cursor: cursor, Limit: 500})
					if err != nil {
						return nil, err
					}
					for _, v := range page.Items {
						rows = append(rows, adminRow{role: role, user: v})
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
			}
		}
		return rows, nil
	}, func(rows []adminRow, err error) {
		a.loading = false
		a.reload.Enable()
		if err != nil {
			a.info.fail(a.u.message(err))
			return
		}
		a.rows = rows
		a.table.Refresh()
		a.info.info(fmt.Sprintf("%d role assignments.", len(rows)))
	})
}
