package ui

import (
	"context"
	"errors"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/auth"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// signInTimeout is how long the app waits for the browser.
const signInTimeout = 10 * time.Minute

// signInScreen starts the browser sign-in and shows where it stands.
type signInScreen struct {
	issuer   string
	signIn   *widget.Button
	cancel   *widget.Button
	change   *widget.Button
	status   status
	busy     *widget.ProgressBarInfinite
	link     *urlRow
	stop     context.CancelFunc // cancels the sign-in in flight
	inFlight bool
}

func (u *UI) showSignIn(issuer, msg string) {
	s := &signInScreen{issuer: issuer, status: newStatus(), busy: widget.NewProgressBarInfinite(), link: newURLRow(u)}
	s.signIn = widget.NewButton("Sign in", func() { u.startSignIn(s) })
	s.signIn.Importance = widget.HighImportance
	s.cancel = widget.NewButton("Cancel", func() { u.cancelSignIn(s) })
	s.cancel.Hide()
	s.change = widget.NewButton("Change provider…", func() {
		u.cancelSignIn(s)
		u.showSetup(issuer)
	})
	s.busy.Hide()
	if msg != "" {
		s.status.info(msg)
	}
	u.signIn = s

	intro := widget.NewLabel("Sign in with your CliniConnects account. Your browser opens the provider's sign-in page; come back here when it says so.")
	intro.Wrapping = fyne.TextWrapWord
	provider := widget.NewLabel("Provider: " + issuer)
	provider.Truncation = fyne.TextTruncateEllipsis
	content := container.NewVBox(
		heading("CliniConnects Admin"),
		intro,
		container.NewBorder(nil, nil, nil, s.change, provider),
		s.signIn,
		s.busy,
		s.status.Label,
		s.link.box,
		s.cancel,
	)
	u.setContent(container.NewCenter(sized(padded(content), 520)), func() { u.cancelSignIn(s) })
	u.w.Canvas().Focus(s.signIn)
	// Enter signs in (the focused button takes Space).
	u.w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		switch k.Name {
		case fyne.KeyEscape:
			u.escape()
		case fyne.KeyReturn, fyne.KeyEnter:
			if u.signIn == s && !s.inFlight {
				u.startSignIn(s)
			}
		}
	})
}

func (u *UI) startSignIn(s *signInScreen) {
	if s.inFlight {
		return
	}
	s.inFlight = true
	s.signIn.Disable()
	s.cancel.Show()
	s.busy.Show()
	s.status.info("Waiting for you to sign in in the browser…")
	ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
	s.stop = cancel
	prov := u.provider
	type result struct {
		prov    *auth.Provider
		session *auth.Session
		me      adminapi.Me
	}
	go func() {
		defer cancel()
		var r result
		err := func() error {
			var err error
			if prov == nil || prov.Issuer != s.issuer {
				if prov, err = auth.Discover(ctx, s.issuer, u.d.HTTPClient); err != nil {
					return err
				}
			}
			r.prov = prov
			r.session, err = prov.SignIn(ctx, auth.Options{
				OpenBrowser: u.d.OpenURL,
				ShowURL:     func(v *url.URL) { u.d.Do(func() { s.link.set(v) }) },
				Now:         u.d.Now,
			})
			if err != nil {
				return err
			}
			api := adminapi.NewClient(prov.Issuer, u.d.HTTPClient, r.session.AccessToken)
			r.me, err = api.Me(ctx)
			return err
		}()
		u.d.Do(func() {
			s.inFlight = false
			s.stop = nil
			s.signIn.Enable()
			s.cancel.Hide()
			s.busy.Hide()
			s.link.set(nil)
			if u.signIn != s {
				return // the user went elsewhere meanwhile
			}
			if err != nil {
				s.status.fail(u.signInMessage(err))
				return
			}
			u.provider = prov
			u.startSession(r.session, r.me)
		})
	}()
}

func (u *UI) cancelSignIn(s *signInScreen) {
	if s.stop != nil {
		s.stop()
	}
}

func (u *UI) signInMessage(err error) string {
	var ae *adminapi.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "Sign-in cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		return "Sign-in timed out. Try again."
	case errors.Is(err, auth.ErrDenied):
		return "The provider did not sign you in. Only administrators, super admins and assigning managers may use this app."
	case errors.As(err, &ae):
		return ae.Message
	case errors.Is(err, auth.ErrIssuer):
		return err.Error()
	}
	u.d.Logger.Warn("sign-in failed", "err", err)
	return "Sign-in failed. Check the provider URL and the connection, then try again."
}

// startSession keeps the signed-in session and shows the main screen.
func (u *UI) startSession(s *auth.Session, me adminapi.Me) {
	u.session = s
	u.me = me
	u.api = adminapi.NewClient(u.provider.Issuer, u.d.HTTPClient, s.AccessToken)
	u.sessionCtx, u.sessionCancel = context.WithCancel(context.Background())
	u.signIn = nil
	u.w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.escape()
		}
	})
	u.showShell()
	if u.d.OnSignedIn != nil {
		u.d.OnSignedIn()
	}
}

// signOut revokes the session at the provider, ends its browser session
// and forgets the tokens.
func (u *UI) signOut() {
	s := u.session
	if s == nil {
		return
	}
	iss := u.provider.Issuer
	u.endSession()
	u.showSignIn(iss, "Signing out…")
	screen := u.signIn
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := s.SignOut(ctx, u.d.OpenURL)
		u.d.Do(func() {
			if u.signIn != screen {
				return
			}
			if err != nil {
				u.d.Logger.Warn("sign-out at the provider incomplete", "err", err)
				screen.status.fail("Signed out of this app. The provider could not be told; its browser session may still be open.")
				return
			}
			screen.status.success("You have signed out.")
		})
	}()
}
