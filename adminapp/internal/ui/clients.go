package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// clientsSection (super admins) lists the OIDC clients — the CliniConnects
// modules — and edits one: redirect URIs, admitted roles and user types,
// grants, scopes, sign-in method and two factors; creates one (its secret
// shown once), rotates a secret and deletes a client.
type clientsSection struct {
	u       *UI
	table   *widget.Table
	items   []adminapi.OIDCClient
	info    status
	newBtn  *widget.Button
	reload  *widget.Button
	right   *fyne.Container
	root    fyne.CanvasObject
	detail  *clientDetail
	loaded  bool
	loading bool
}

var clientColumns = []string{"ID", "Name", "Kind", "Admits"}

func newClientsSection(u *UI) *clientsSection {
	c := &clientsSection{u: u, info: newStatus()}
	c.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(c.items), len(clientColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(c.items) {
				o.(*widget.Label).SetText(clientCell(c.items[id.Row], id.Col))
			}
		})
	c.table.ShowHeaderColumn = false
	c.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	c.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		if id.Col >= 0 {
			l.SetText(clientColumns[id.Col])
		}
	}
	for i, w := range []float32{150, 180, 100, 170} {
		c.table.SetColumnWidth(i, w)
	}
	c.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < len(c.items) {
			c.open(c.items[id.Row].ID)
		}
	}
	c.reload = widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), c.load)
	tools := []fyne.CanvasObject{c.reload}
	if u.can(adminapi.PermClientsWrite) {
		c.newBtn = widget.NewButtonWithIcon("New client", theme.ContentAddIcon(), c.create)
		tools = append([]fyne.CanvasObject{c.newBtn}, tools...)
	}
	left := container.NewBorder(container.NewHBox(tools...), c.info.Label, nil, nil, c.table)
	c.right = container.NewStack(c.placeholder())
	split := container.NewHSplit(left, c.right)
	split.Offset = 0.52
	c.root = split
	return c
}

func clientCell(c adminapi.OIDCClient, col int) string {
	switch col {
	case 0:
		return c.ID
	case 1:
		return c.Name
	case 2:
		if c.Public {
			return "Public"
		}
		return "Confidential"
	}
	var admits []string
	for _, r := range c.AdmitRoles {
		admits = append(admits, roleLabel(r))
	}
	for _, t := range c.AdmitTypes {
		admits = append(admits, string(t)+"s")
	}
	s := strings.Join(admits, ", ")
	if len(admits) == 0 {
		s = "everyone"
	}
	// How they sign in belongs with whom: "clinicians by phone".
	if c.SignInMethod == adminapi.SignInPhone {
		s += " by phone"
	}
	if c.RequireMFA {
		s += " with two factors"
	}
	return s
}

func (c *clientsSection) placeholder() fyne.CanvasObject {
	l := widget.NewLabel("Select a client to see its settings.")
	l.Importance = widget.LowImportance
	return container.NewCenter(l)
}

func (c *clientsSection) object() fyne.CanvasObject { return c.root }
func (c *clientsSection) focusSearch()              {}
func (c *clientsSection) newRecord()                { c.create() }
func (c *clientsSection) escape() {
	if c.detail != nil {
		c.detail.cancel()
	}
}

func (c *clientsSection) show() {
	if !c.loaded {
		c.loaded = true
		c.load()
	}
}

func (c *clientsSection) load() {
	if c.loading {
		return
	}
	c.loading = true
	c.reload.Disable()
	c.info.info("Loading…")
	run(c.u, func(ctx context.Context) (adminapi.OIDCClientList, error) {
		return c.u.api.ListClients(ctx)
	}, func(l adminapi.OIDCClientList, err error) {
		c.loading = false
		c.reload.Enable()
		if err != nil {
			c.info.fail(c.u.message(err))
			return
		}
		c.items = l.Items
		c.table.Refresh()
		c.info.info(fmt.Sprintf("%d clients.", len(c.items)))
	})
}

func (c *clientsSection) setRight(o fyne.CanvasObject) {
	c.right.Objects = []fyne.CanvasObject{o}
	c.right.Refresh()
}

func (c *clientsSection) closeRight() {
	c.detail = nil
	c.table.UnselectAll()
	c.setRight(c.placeholder())
}

func (c *clientsSection) open(id string) {
	c.detail = newClientDetail(c)
	c.setRight(c.detail.root)
	c.detail.load(id)
}

func (c *clientsSection) create() {
	if !c.u.can(adminapi.PermClientsWrite) {
		return
	}
	c.table.UnselectAll()
	c.detail = newClientDetail(c)
	c.setRight(c.detail.root)
	c.u.w.Canvas().Focus(c.detail.id)
}
