package main

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

func TestNewContentShowsPlaceholderLabel(t *testing.T) {
	test.NewTempApp(t)

	content := newContent()
	w := test.NewTempWindow(t, content)
	w.Resize(fyne.NewSize(480, 240))

	var labels []*widget.Label
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			labels = append(labels, v)
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(content)

	if _, ok := content.(*fyne.Container); !ok {
		t.Fatalf("content is %T, want *fyne.Container", content)
	}
	if len(labels) != 1 {
		t.Fatalf("found %d labels, want 1", len(labels))
	}
	got := labels[0].Text
	if got != placeholderText {
		t.Errorf("label text = %q, want %q", got, placeholderText)
	}
	if !strings.Contains(strings.ToLower(got), "later version") {
		t.Errorf("label text %q does not mention a later version", got)
	}

	// The label is wide enough to show its text on one line (a wrapping
	// label in a centre container collapses to one character per line).
	textSize := fyne.MeasureText(placeholderText, theme.TextSize(), labels[0].TextStyle)
	if got := labels[0].Size(); got.Width < textSize.Width {
		t.Errorf("label is %v wide, want at least %v (one line of text)", got.Width, textSize.Width)
	}
}
