package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// placeholderText is shown until sign-in is implemented.
const placeholderText = "Sign-in to the admin API comes in a later version."

// newContent builds the main window's content.
func newContent() fyne.CanvasObject {
	label := widget.NewLabel(placeholderText)
	label.Alignment = fyne.TextAlignCenter
	// No word wrapping: a wrapping label inside a centre container gets a
	// zero minimum width and would render one character per line.
	return container.NewCenter(label)
}
