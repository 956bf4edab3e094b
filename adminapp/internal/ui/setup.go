package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/auth"
)

// setupScreen asks for the provider URL (first run, or "Change
// provider") and checks its discovery document before keeping it.
type setupScreen struct {
	url    *entry
	check  *widget.Button
	status status
	busy   *widget.ProgressBarInfinite
}

func (u *UI) showSetup(current string) {
	s := &setupScreen{url: newEntry(u), status: newStatus(), busy: widget.NewProgressBarInfinite()}
	s.url.SetPlaceHolder("https://id.example.com")
	s.url.SetText(current)
	s.busy.Hide()
	s.check = widget.NewButton("Continue", func() { u.checkProvider(s) })
	s.check.Importance = widget.HighImportance
	s.url.OnSubmitted = func(string) { u.checkProvider(s) }
	u.setup = s

	intro := widget.NewLabel("Enter the address of your CliniConnects Identity provider. Your IT team can tell you what it is.")
	intro.Wrapping = fyne.TextWrapWord
	var cancel func()
	if current != "" {
		cancel = func() { u.showSignIn(current, "") }
	}
	content := container.NewVBox(
		heading("Welcome to CliniConnects Admin"),
		intro,
		widget.NewLabel("Provider URL"),
		s.url,
		s.check,
		s.busy,
		s.status.Label,
	)
	u.setContent(container.NewCenter(sized(padded(content), 480)), cancel)
	u.w.Canvas().Focus(s.url)
}

func (u *UI) checkProvider(s *setupScreen) {
	if s.check.Disabled() {
		return
	}
	iss, err := auth.NormalizeIssuer(s.url.Text)
	if err != nil {
		s.status.fail(err.Error())
		return
	}
	s.check.Disable()
	s.busy.Show()
	s.status.info("Checking " + iss + " …")
	run(u, func(ctx context.Context) (*auth.Provider, error) {
		return auth.Discover(ctx, iss, u.d.HTTPClient)
	}, func(p *auth.Provider, err error) {
		s.check.Enable()
		s.busy.Hide()
		if err != nil {
			u.d.Logger.Warn("provider discovery failed", "issuer", iss, "err", err)
			s.status.fail("No CliniConnects Identity provider answers at " + iss + ". Check the address.")
			return
		}
		if u.d.Prefs != nil {
			u.d.Prefs.SetString(prefIssuer, p.Issuer)
		}
		u.provider = p
		u.showSignIn(p.Issuer, "")
	})
}
