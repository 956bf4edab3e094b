// Command adminapp is the CliniConnects Identity desktop admin application.
//
// This is a placeholder: it opens a window that says sign-in arrives in a
// later version.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
)

// windowTitle is the title of the main window.
const windowTitle = "CliniConnects Identity — Admin"

func main() {
	a := app.NewWithID("com.cliniconnects.identity.admin")
	w := a.NewWindow(windowTitle)
	w.SetContent(newContent())
	w.Resize(fyne.NewSize(480, 240))
	w.ShowAndRun()
}
