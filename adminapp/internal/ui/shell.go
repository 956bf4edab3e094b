package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// section is one tab of the main screen.
type section interface {
	object() fyne.CanvasObject
	show()        // the tab was selected (the first time loads it)
	focusSearch() // Ctrl+F
	newRecord()   // Ctrl+N
	escape()      // Esc with no dialog open
}

// shell is the main screen: who is signed in, Sign out, and a tab per
// section the signed-in user may use.
type shell struct {
	u        *UI
	tabs     *container.AppTabs
	sections []section
	names    []string

	employees  *usersSection
	clinicians *usersSection
	admins     *adminsSection
	clients    *clientsSection
	audit      *auditSection

	who     *widget.Label
	signOut *widget.Button
}

func (u *UI) showShell() {
	sh := &shell{u: u, tabs: container.NewAppTabs()}
	u.shell = sh
	add := func(name string, s section) {
		sh.names = append(sh.names, name)
		sh.sections = append(sh.sections, s)
		sh.tabs.Append(container.NewTabItem(name, s.object()))
	}
	if u.can(adminapi.PermEmployeesRead) {
		sh.employees = newUsersSection(u, employees)
		add("Employees", sh.employees)
	}
	if u.can(adminapi.PermCliniciansRead) {
		sh.clinicians = newUsersSection(u, clinicians)
		add("Clinicians", sh.clinicians)
	}
	if u.can(adminapi.PermAdminsManage) {
		sh.admins = newAdminsSection(u)
		add("Admins", sh.admins)
	}
	if u.can(adminapi.PermClientsRead) {
		sh.clients = newClientsSection(u)
		add("Clients", sh.clients)
	}
	if u.can(adminapi.PermAuditAll) || u.can(adminapi.PermAuditRecords) {
		sh.audit = newAuditSection(u)
		add("Audit", sh.audit)
	}
	sh.tabs.OnSelected = func(*container.TabItem) {
		if s := sh.current(); s != nil {
			s.show()
		}
	}

	me := u.me.User
	sh.who = widget.NewLabel("Signed in as " + me.Name() + " (" + me.Email + ") · " + rolesText(me.Roles))
	sh.who.Truncation = fyne.TextTruncateEllipsis
	sh.signOut = widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), u.signOut)
	top := container.NewBorder(nil, nil, nil, sh.signOut, sh.who)
	var body fyne.CanvasObject = sh.tabs
	if len(sh.sections) == 0 {
		body = container.NewCenter(widget.NewLabel("Your roles give you no section of this app."))
	}
	u.setContent(container.NewBorder(padded(top), nil, nil, nil, body), func() {
		if s := sh.current(); s != nil {
			s.escape()
		}
	})
	if s := sh.current(); s != nil {
		s.show()
	}
}

// current is the selected section.
func (sh *shell) current() section {
	i := sh.tabs.SelectedIndex()
	if i < 0 || i >= len(sh.sections) {
		return nil
	}
	return sh.sections[i]
}

// sectionNames lists the tabs shown.
func (sh *shell) sectionNames() []string { return append([]string(nil), sh.names...) }

func (sh *shell) selectIndex(i int) {
	if i >= 0 && i < len(sh.sections) {
		sh.tabs.SelectIndex(i)
	}
}

// selectSection selects the tab named name; false when it is not shown.
func (sh *shell) selectSection(name string) bool {
	for i, n := range sh.names {
		if n == name {
			sh.tabs.SelectIndex(i)
			sh.sections[i].show()
			return true
		}
	}
	return false
}

func (sh *shell) focusSearch() {
	if s := sh.current(); s != nil {
		s.focusSearch()
	}
}

func (sh *shell) newRecord() {
	if s := sh.current(); s != nil {
		s.newRecord()
	}
}

// openUser shows a user's record in its section.
func (sh *shell) openUser(typ adminapi.UserType, id string) bool {
	s := sh.employees
	name := "Employees"
	if typ == adminapi.UserTypeClinician {
		s, name = sh.clinicians, "Clinicians"
	}
	if s == nil || !sh.selectSection(name) {
		return false
	}
	s.open(id)
	return true
}

// openClient shows a client in the Clients section.
func (sh *shell) openClient(id string) bool {
	if sh.clients == nil || !sh.selectSection("Clients") {
		return false
	}
	sh.clients.open(id)
	return true
}

// section interface of usersSection.

func (s *usersSection) object() fyne.CanvasObject { return s.root }
func (s *usersSection) newRecord()                { s.create() }
func (s *usersSection) escape() {
	switch {
	case s.detail != nil:
		s.detail.cancel()
	case s.imports != nil:
		s.imports.cancel()
	}
}
