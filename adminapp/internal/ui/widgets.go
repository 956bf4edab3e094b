package ui

import (
	"image/color"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// entry is a widget.Entry on which Esc does what Esc does on the screen
// (a focused entry otherwise swallows the key).
type entry struct {
	widget.Entry
	onEscape func()
}

func newEntry(u *UI) *entry {
	e := &entry{onEscape: u.escape}
	e.ExtendBaseWidget(e)
	return e
}

func newMultiLineEntry(u *UI) *entry {
	e := newEntry(u)
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapOff
	return e
}

// TypedKey handles Esc, and passes every other key to the entry.
func (e *entry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// field is one input of a form with the server's message for it beneath.
type field struct {
	name  string // the API's member name, as in Error.Fields
	label *widget.Label
	input fyne.CanvasObject
	err   *widget.Label
}

func newField(name, label string, input fyne.CanvasObject) *field {
	e := widget.NewLabel("")
	e.Importance = widget.DangerImportance
	e.Wrapping = fyne.TextWrapWord
	e.Hide()
	return &field{name: name, label: widget.NewLabel(label), input: input, err: e}
}

func (f *field) setError(msg string) {
	f.err.SetText(msg)
	if msg == "" {
		f.err.Hide()
	} else {
		f.err.Show()
	}
}

// form lays fields out in two columns: label, input with its error.
func formGrid(fields ...*field) *fyne.Container {
	var objs []fyne.CanvasObject
	for _, f := range fields {
		objs = append(objs, f.label, container.NewVBox(f.input, f.err))
	}
	return container.New(layout.NewFormLayout(), objs...)
}

// setFieldErrors shows each message next to its field; messages for
// fields not on the form are returned joined.
func setFieldErrors(fields []*field, msgs map[string]string) (rest string) {
	seen := map[string]bool{}
	for _, f := range fields {
		f.setError(msgs[f.name])
		seen[f.name] = true
	}
	for k, v := range msgs {
		if !seen[k] {
			if rest != "" {
				rest += "; "
			}
			rest += k + ": " + v
		}
	}
	return rest
}

// status is a one-line message under a form or list: info or error.
type status struct {
	*widget.Label
}

func newStatus() status {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	return status{l}
}

func (s status) info(msg string) {
	s.Importance = widget.MediumImportance
	s.SetText(msg)
}

func (s status) fail(msg string) {
	s.Importance = widget.DangerImportance
	s.SetText(msg)
}

func (s status) success(msg string) {
	s.Importance = widget.SuccessImportance
	s.SetText(msg)
}

// modal is the app's dialog: its own buttons (so Enter, Esc and the tests
// can reach them), at most one at a time.
type modal struct {
	u       *UI
	d       *dialog.CustomDialog
	content fyne.CanvasObject
	ok      *widget.Button // nil for a dialog with only a close button
	cancel  *widget.Button
	onClose func()
}

// showModal shows content with an OK button (okLabel; "" for none) and a
// cancel button (cancelLabel). onOK runs after the dialog closes.
func (u *UI) showModal(title string, content fyne.CanvasObject, okLabel, cancelLabel string, onOK func()) *modal {
	u.closeModal()
	m := &modal{u: u, content: content}
	m.cancel = widget.NewButton(cancelLabel, m.dismiss)
	buttons := []fyne.CanvasObject{m.cancel}
	if okLabel != "" {
		m.ok = widget.NewButton(okLabel, func() {
			m.dismiss()
			if onOK != nil {
				onOK()
			}
		})
		m.ok.Importance = widget.HighImportance
		buttons = append(buttons, m.ok)
	}
	m.d = dialog.NewCustomWithoutButtons(title, content, u.w)
	m.d.SetButtons(buttons)
	u.modal = m
	m.d.Show()
	return m
}

// confirm asks before a consequential action.
func (u *UI) confirm(title, msg, okLabel string, onOK func()) *modal {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	return u.showModal(title, sized(l, 420), okLabel, "Cancel", onOK)
}

// inform shows a message with a Close button.
func (u *UI) inform(title, msg string) *modal {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	return u.showModal(title, sized(l, 420), "", "Close", nil)
}

// showSecret shows a secret once, with a copy button.
func (u *UI) showSecret(title, intro, secret string) *modal {
	l := widget.NewLabel(intro)
	l.Wrapping = fyne.TextWrapWord
	v := widget.NewLabel(secret)
	v.TextStyle = fyne.TextStyle{Monospace: true}
	v.Selectable = true
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		u.copyText(secret)
	})
	return u.showModal(title, sized(container.NewVBox(l, container.NewBorder(nil, nil, nil, copyBtn, v)), 460), "", "Done", nil)
}

func (m *modal) dismiss() {
	if m.u.modal == m {
		m.u.modal = nil
	}
	m.d.Hide()
	if m.onClose != nil {
		m.onClose()
	}
}

func (u *UI) closeModal() {
	if u.modal != nil {
		u.modal.dismiss()
	}
}

func (u *UI) copyText(s string) {
	if app := fyne.CurrentApp(); app != nil {
		app.Clipboard().SetContent(s)
	}
}

// sized gives o at least width w (wrapping labels in dialogs otherwise
// collapse).
func sized(o fyne.CanvasObject, w float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(w, 0))
	return container.NewStack(r, o)
}

// heading is a section title.
func heading(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle = fyne.TextStyle{Bold: true}
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// urlRow shows a URL the user may need to open by hand, with a copy
// button.
type urlRow struct {
	box  *fyne.Container
	text *widget.Label
	copy *widget.Button
}

func newURLRow(u *UI) *urlRow {
	r := &urlRow{text: widget.NewLabel("")}
	r.text.Wrapping = fyne.TextWrapBreak
	r.text.Selectable = true
	r.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() { u.copyText(r.text.Text) })
	r.box = container.NewBorder(nil, nil, nil, r.copy, r.text)
	r.box.Hide()
	return r
}

func (r *urlRow) set(v *url.URL) {
	if v == nil {
		r.text.SetText("")
		r.box.Hide()
		return
	}
	r.text.SetText(v.String())
	r.box.Show()
}
