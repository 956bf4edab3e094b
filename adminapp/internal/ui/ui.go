package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/cliniconnects/identity/adminapp/internal/auth"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// Deps is what the UI is built from; main supplies the real ones.
type Deps struct {
	Window fyne.Window
	// Prefs keeps the provider URL and the window size.
	Prefs fyne.Preferences
	// OpenURL opens the system browser (fyne.App.OpenURL in the app).
	OpenURL func(*url.URL) error
	// Do runs f on the UI goroutine (fyne.Do in the app).
	Do func(f func())
	// Issuer is the provider URL from the command line or environment;
	// "" uses the one in Prefs, or asks on a first-run screen.
	Issuer string
	// HTTPClient talks to the provider; nil means a 60-second-timeout
	// client.
	HTTPClient *http.Client
	// Files chooses files for CSV import and export; nil uses Fyne's file
	// dialogs.
	Files  FilePicker
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnSignedIn, when set, is called (on the UI goroutine) once the main
	// screen is shown after a sign-in.
	OnSignedIn func()
}

// UI is the app's one window.
type UI struct {
	d Deps
	w fyne.Window

	provider *auth.Provider
	session  *auth.Session
	api      *adminapi.Client
	me       adminapi.Me
	// sessionCtx is cancelled on sign-out, ending the session's requests.
	sessionCtx    context.Context
	sessionCancel context.CancelFunc

	setup  *setupScreen
	signIn *signInScreen
	shell  *shell

	modal *modal // the dialog on top, if any
	// cancel is what Esc does on the current screen when no dialog is open.
	cancel func()
	// pending counts requests in flight (run).
	pending atomic.Int32
}

// Preference keys.
const (
	prefIssuer       = "issuer"
	prefWindowWidth  = "window.width"
	prefWindowHeight = "window.height"
)

// New builds the UI in d.Window. Call Start to show the first screen.
func New(d Deps) *UI {
	if d.Do == nil {
		d.Do = fyne.Do
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	u := &UI{d: d, w: d.Window}
	if u.d.Files == nil {
		u.d.Files = dialogFiles{w: d.Window}
	}
	u.w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.escape()
		}
	})
	u.addShortcuts()
	return u
}

// Start shows the first screen: sign-in when the provider URL is known,
// else the first-run screen that asks for it.
func (u *UI) Start() {
	iss := u.d.Issuer
	if iss == "" && u.d.Prefs != nil {
		iss = u.d.Prefs.String(prefIssuer)
	}
	if iss == "" {
		u.showSetup("")
		return
	}
	u.showSignIn(iss, "")
}

// RestoreSize sizes the window as it was when last closed (or def).
func (u *UI) RestoreSize(def fyne.Size) {
	if u.d.Prefs != nil {
		if w, h := u.d.Prefs.Float(prefWindowWidth), u.d.Prefs.Float(prefWindowHeight); w >= 400 && h >= 300 {
			def = fyne.NewSize(float32(w), float32(h))
		}
	}
	u.w.Resize(def)
}

// SaveSize remembers the window size for the next start.
func (u *UI) SaveSize() {
	if u.d.Prefs == nil {
		return
	}
	s := u.w.Canvas().Size()
	u.d.Prefs.SetFloat(prefWindowWidth, float64(s.Width))
	u.d.Prefs.SetFloat(prefWindowHeight, float64(s.Height))
}

// setContent shows a screen; cancel is what Esc does there.
func (u *UI) setContent(o fyne.CanvasObject, cancel func()) {
	u.closeModal()
	u.cancel = cancel
	u.w.SetContent(o)
}

// escape closes the dialog on top, or cancels on the current screen.
func (u *UI) escape() {
	if u.modal != nil {
		u.modal.dismiss()
		return
	}
	if u.cancel != nil {
		u.cancel()
	}
}

// addShortcuts: Ctrl+1…5 switch sections, Ctrl+F searches, Ctrl+N
// creates a record in the current section.
func (u *UI) addShortcuts() {
	keys := []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5}
	for i, k := range keys {
		u.w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) {
			if u.shell != nil {
				u.shell.selectIndex(i)
			}
		})
	}
	u.w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) {
		if u.shell != nil {
			u.shell.focusSearch()
		}
	})
	u.w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) {
		if u.shell != nil {
			u.shell.newRecord()
		}
	})
}

// requestTimeout bounds one admin API call.
const requestTimeout = 60 * time.Second

// run calls work on its own goroutine and applies its result with apply
// on the UI goroutine. A session that has ended sends the user back to
// sign-in instead (apply still runs, so the screen can leave its busy
// state).
func run[T any](u *UI, work func(ctx context.Context) (T, error), apply func(T, error)) {
	ctx := u.sessionCtx
	if ctx == nil {
		ctx = context.Background()
	}
	u.pending.Add(1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		v, err := work(ctx)
		u.d.Do(func() {
			defer u.pending.Add(-1)
			apply(v, err)
			if sessionEnded(err) {
				u.sessionLost()
			}
		})
	}()
}

// sessionEnded: the provider no longer accepts this session's tokens.
func sessionEnded(err error) bool {
	return errors.Is(err, auth.ErrSignedOut) || adminapi.IsCode(err, adminapi.CodeUnauthorized)
}

// message is what the user reads for err: the server's own message for an
// API error, a fixed sentence otherwise. The detail goes to the log.
func (u *UI) message(err error) string {
	var ae *adminapi.Error
	switch {
	case err == nil:
		return ""
	case sessionEnded(err):
		return "Your session has ended. Sign in again."
	case errors.As(err, &ae) && ae.Message != "":
		return ae.Message
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	case errors.Is(err, context.DeadlineExceeded):
		u.d.Logger.Warn("request timed out", "err", err)
		return "The provider did not answer in time. Try again."
	}
	u.d.Logger.Warn("request failed", "err", err)
	return "The provider could not be reached. Check the connection and try again."
}

// sessionLost ends a session the provider no longer honours.
func (u *UI) sessionLost() {
	if u.session == nil {
		return
	}
	u.endSession()
	u.showSignIn(u.provider.Issuer, "Your session has ended. Sign in again.")
}

// endSession forgets the session and cancels its requests.
func (u *UI) endSession() {
	if u.sessionCancel != nil {
		u.sessionCancel()
	}
	u.session, u.api, u.shell = nil, nil, nil
	u.me = adminapi.Me{}
	u.sessionCtx, u.sessionCancel = nil, nil
}

// can reports whether the signed-in user holds permission p.
func (u *UI) can(p adminapi.Permission) bool {
	for _, have := range u.me.Permissions {
		if have == p {
			return true
		}
	}
	return false
}

// padded is o with the theme's padding around it.
func padded(o fyne.CanvasObject) fyne.CanvasObject { return container.NewPadded(o) }
