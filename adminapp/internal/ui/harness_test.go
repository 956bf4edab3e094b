package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/idptest"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// harness is the app in Fyne's headless test driver, talking to the real
// provider. Widgets are only touched on the test goroutine: the UI's Do
// queues results here and the test applies them while it waits (pump),
// as the app's event loop does with fyne.Do. (The test driver's fyne.Do
// runs the function at once on the calling goroutine, which would let
// network goroutines touch widgets the test is reading.)
type harness struct {
	t       *testing.T
	w       fyne.Window
	u       *UI
	browser *idptest.Browser
	files   *testFiles
	queue   chan func()
	prefs   fyne.Preferences
}

type testFiles struct {
	open, save string // the path each dialog "chooses"
}

func (f *testFiles) Open(cb func(string))           { cb(f.open) }
func (f *testFiles) Save(_ string, cb func(string)) { cb(f.save) }

// newHarness shows the app signed out; issuer "" starts at the first-run
// screen.
func newHarness(t *testing.T, issuer string, user idptest.User) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{t: t, browser: idptest.NewBrowser(user.Email, user.Password), queue: make(chan func(), 1024),
		files: &testFiles{}, prefs: a.Preferences()}
	h.w = test.NewTempWindow(t, widget.NewLabel(""))
	h.w.Resize(fyne.NewSize(1280, 860))
	h.u = New(Deps{
		Window:  h.w,
		Prefs:   h.prefs,
		OpenURL: h.browser.Open,
		Do:      func(f func()) { h.queue <- f },
		Issuer:  issuer,
		Files:   h.files,
	})
	h.u.Start()
	t.Cleanup(func() {
		if h.u.sessionCancel != nil {
			h.u.sessionCancel()
		}
	})
	return h
}

// pump applies queued UI work until cond holds (checked on the test
// goroutine), failing after 30 s.
func (h *harness) pump(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case f := <-h.queue:
			f()
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// idle pumps until no request is in flight.
func (h *harness) idle() {
	h.t.Helper()
	h.pump("requests to finish", func() bool { return !h.u.Busy() && len(h.queue) == 0 })
}

// signIn taps Sign in and waits for the main screen.
func (h *harness) signIn() {
	h.t.Helper()
	h.pump("the sign-in screen", func() bool { return h.u.signIn != nil })
	test.Tap(h.u.signIn.signIn)
	h.pump("the main screen", func() bool {
		if s := h.u.signIn; s != nil && s.status.Importance == widget.DangerImportance {
			h.t.Fatalf("sign-in failed: %s", s.status.Text)
		}
		return h.u.shell != nil
	})
	h.idle()
}

// signedIn is a harness signed in as user.
func signedIn(t *testing.T, user idptest.User) *harness {
	t.Helper()
	h := newHarness(t, idp.Issuer, user)
	h.signIn()
	return h
}

// api is a client of the admin API as the harness's user.
func (h *harness) api() *adminapi.Client { return h.u.api }

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// employeesSection returns the Employees section, selected.
func (h *harness) employees() *usersSection {
	h.t.Helper()
	if !h.u.shell.selectSection("Employees") {
		h.t.Fatal("no Employees section")
	}
	h.idle()
	return h.u.shell.employees
}

// typeInto replaces an entry's text as a user would: select all, type.
func typeInto(e *entry, s string) {
	e.SetText("")
	test.Type(e, s)
}

// rowOf is the table row showing email, or -1.
func rowOf(s *usersSection, email string) int {
	for i, v := range s.list.items {
		if v.Email == email {
			return i
		}
	}
	return -1
}

// openRow finds email as a user would (typing it in the search box and
// pressing Enter), selects its row and waits for the record.
func (h *harness) openRow(s *usersSection, email string) *userDetail {
	h.t.Helper()
	typeInto(s.search, email)
	s.search.TypedKey(enterKey)
	h.pump(email+" in the list", func() bool { return s.query == email && !s.list.busy() })
	r := rowOf(s, email)
	if r < 0 {
		h.t.Fatalf("%s is not in the %s list", email, s.kind.title)
	}
	s.table.Select(widget.TableCellID{Row: r, Col: 0})
	h.pump("the record of "+email, func() bool { return s.detail != nil && s.detail.user != nil && !s.detail.loading })
	return s.detail
}

// scrollAll scrolls the table to the end until every page is loaded.
func (h *harness) scrollAll(s *usersSection) {
	h.t.Helper()
	h.pump("every page", func() bool {
		s.table.ScrollToBottom()
		return !s.list.more && !s.list.busy()
	})
}

// unique makes an address no other test uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s.%d@example.test", prefix, time.Now().UnixNano())
}

func tempPath(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }

// walkObjects calls f on o and every object inside it.
func walkObjects(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	if c, ok := o.(*fyne.Container); ok {
		for _, x := range c.Objects {
			walkObjects(x, f)
		}
	}
}

// labelsIn collects the text of every label under o.
func labelsIn(o fyne.CanvasObject) []string {
	var out []string
	walkObjects(o, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
	})
	return out
}

// findButton is the button under o labelled text.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	var b *widget.Button
	walkObjects(o, func(o fyne.CanvasObject) {
		if x, ok := o.(*widget.Button); ok && x.Text == text {
			b = x
		}
	})
	return b
}

func containsText(list []string, s string) bool {
	for _, v := range list {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}
