package ui

import (
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// The methods below let a script drive the app the way a user would, for
// the documentation's screenshots (make screenshots). Call them on the UI
// goroutine.

// StartSignIn presses "Sign in" on the sign-in screen.
func (u *UI) StartSignIn() {
	if u.signIn != nil {
		u.startSignIn(u.signIn)
	}
}

// ShowSection selects the section tab named name ("Employees", "Clients",
// …); false when the signed-in user has no such section.
func (u *UI) ShowSection(name string) bool {
	return u.shell != nil && u.shell.selectSection(name)
}

// OpenFirstRecord selects the first row of the current section's table.
func (u *UI) OpenFirstRecord() {
	if u.shell == nil {
		return
	}
	first := widget.TableCellID{Row: 0, Col: 0}
	switch s := u.shell.current().(type) {
	case *usersSection:
		if len(s.list.items) > 0 {
			s.table.Select(first)
		}
	case *clientsSection:
		if len(s.items) > 0 {
			s.table.Select(first)
		}
	case *auditSection:
		if len(s.list.items) > 0 {
			s.table.Select(first)
		}
	}
}

// Busy reports whether a request of the UI is in flight.
func (u *UI) Busy() bool { return u.pending.Load() > 0 }

// Search shows the records of the current Employees or Clinicians section
// that match q, as typing q in the search box and pressing Enter does.
func (u *UI) Search(q string) {
	if u.shell == nil {
		return
	}
	if s, ok := u.shell.current().(*usersSection); ok {
		s.search.SetText(q)
		s.searchNow()
	}
}

// ScrollRecordToEnd scrolls the open employee or clinician record down to
// its last panel.
func (u *UI) ScrollRecordToEnd() {
	if u.shell == nil {
		return
	}
	if s, ok := u.shell.current().(*usersSection); ok && s.detail != nil {
		if sc, ok := s.detail.root.(*container.Scroll); ok {
			sc.ScrollToBottom()
		}
	}
}
