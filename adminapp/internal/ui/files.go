package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
)

// FilePicker chooses a file to read or write. The callbacks run on the UI
// goroutine and are not called when the user cancels.
type FilePicker interface {
	Open(onChosen func(path string))
	Save(defaultName string, onChosen func(path string))
}

// dialogFiles is FilePicker with Fyne's file dialogs.
type dialogFiles struct{ w fyne.Window }

func (f dialogFiles) Open(onChosen func(string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		onChosen(r.URI().Path())
	}, f.w)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
	d.Show()
}

func (f dialogFiles) Save(name string, onChosen func(string)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		wc.Close()
		onChosen(wc.URI().Path())
	}, f.w)
	d.SetFileName(name)
	d.Show()
}
