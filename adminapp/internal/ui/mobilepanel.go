package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// mobilePanel is a clinician's Mobile credential, the phone-linked PIN
// with which they sign in to the mobile app: its state, the number, when
// it was activated, the last sign-in and the live mobile sessions; and
// the actions send an activation code, reset the PIN, end the mobile
// sessions. It is shown only to those /me grants
// adminapi.PermCliniciansMobile (panelsFor).
type mobilePanel struct {
	d        *userDetail
	box      *fyne.Container
	state    *widget.Label
	phone    *widget.Label
	active   *widget.Label // activated at
	last     *widget.Label // last sign-in
	sessions *widget.Label
	send     *widget.Button
	reset    *widget.Button
	end      *widget.Button
	msg      status

	user    adminapi.User
	cred    *adminapi.MobileCredential // nil until loaded
	loading bool
	busy    bool // the record's form is busy
	seq     int  // the newest load; older answers are dropped
}

func newMobilePanel(d *userDetail) *mobilePanel {
	p := &mobilePanel{d: d, msg: newStatus()}
	lbl := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	p.state, p.phone, p.active, p.last, p.sessions = lbl(), lbl(), lbl(), lbl(), lbl()
	p.send = widget.NewButton("Send activation code", p.confirmSend)
	p.reset = widget.NewButton("Reset PIN", p.confirmReset)
	p.reset.Importance = widget.DangerImportance
	p.end = widget.NewButton("End mobile sessions", p.confirmEnd)
	p.box = container.NewVBox(
		widget.NewSeparator(),
		heading("Mobile credential"),
		container.New(layout.NewFormLayout(),
			widget.NewLabel("State"), p.state,
			widget.NewLabel("Phone"), p.phone,
			widget.NewLabel("Activated"), p.active,
			widget.NewLabel("Last sign-in"), p.last,
			widget.NewLabel("Mobile sessions"), p.sessions,
		),
		container.NewHBox(p.send, p.reset, p.end),
		p.msg.Label,
	)
	return p
}

func (p *mobilePanel) object() fyne.CanvasObject { return p.box }

// show reads the credential again each time the record is shown or
// changed: a phone change or disabling the clinician changes it too.
func (p *mobilePanel) show(v adminapi.User) {
	p.user = v
	p.load()
}

func (p *mobilePanel) setBusy(on bool) {
	p.busy = on
	p.refresh()
}

// load fetches the credential.
func (p *mobilePanel) load() {
	p.seq++
	seq, id := p.seq, p.user.ID
	p.loading = true
	p.refresh()
	run(p.d.u, func(ctx context.Context) (adminapi.MobileCredential, error) {
		return p.d.u.api.GetClinicianMobile(ctx, id)
	}, func(c adminapi.MobileCredential, err error) {
		if seq != p.seq {
			return
		}
		p.loading = false
		if err != nil {
			p.cred = nil
			p.msg.fail(p.d.u.message(err))
		} else {
			p.cred = &c
		}
		p.refresh()
	})
}

// refresh shows the credential and the actions that apply to it.
func (p *mobilePanel) refresh() {
	c := p.cred
	switch {
	case c == nil && p.loading:
		p.state.SetText("Loading…")
	case c == nil:
		p.state.SetText("—")
	default:
		p.state.SetText(mobileStateText(*c))
	}
	if c == nil {
		for _, l := range []*widget.Label{p.phone, p.active, p.last, p.sessions} {
			l.SetText("—")
		}
	} else {
		phone := c.Phone
		switch {
		case phone == "":
			phone = "none: add a phone number to the profile first"
		case c.PhoneVerified:
			phone += " (confirmed by SMS)"
		default:
			phone += " (not confirmed yet)"
		}
		p.phone.SetText(phone)
		p.active.SetText(whenOr(c.ActivatedAt, "not activated"))
		p.last.SetText(whenOr(c.LastSignInAt, "never"))
		p.sessions.SetText(sessionsText(c.Sessions))
	}
	u, v := p.d.u, p.user
	may := u.mayTouch(v) && c != nil
	vis := func(b *widget.Button, on bool) {
		if on {
			b.Show()
		} else {
			b.Hide()
		}
		if p.busy || p.loading {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	vis(p.send, may && v.Status == adminapi.StatusActive && v.Phone != "")
	vis(p.reset, may && c.State != adminapi.MobileNone)
	// Always offered: the list is as of the last load, and ending no
	// sessions does no harm (a lost phone must not wait for a reload).
	vis(p.end, may)
}

// mobileStateText says what a state means for the clinician.
func mobileStateText(c adminapi.MobileCredential) string {
	switch c.State {
	case adminapi.MobileNone:
		return "None: no PIN yet. The clinician activates the mobile app with a code sent by SMS."
	case adminapi.MobilePending:
		return "Pending: an activation code was sent; no PIN has been set yet."
	case adminapi.MobileActive:
		return "Active: signs in to the mobile app with number and PIN."
	case adminapi.MobileLocked:
		return "Locked after wrong PINs until " + whenOr(c.LockedUntil, "later") + "."
	}
	return string(c.State)
}

// when formats a time for people, in local time.
func when(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04") }

func whenOr(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return when(*t)
}

// sessionsText lists the live mobile sessions, one a line.
func sessionsText(ss []adminapi.MobileSession) string {
	if len(ss) == 0 {
		return "None"
	}
	lines := make([]string, 0, len(ss))
	for _, s := range ss {
		what := "Browser"
		if s.Kind == "tokens" {
			what = "App"
		}
		if s.ClientID != "" {
			what += " " + s.ClientID
		}
		if s.Device != "" {
			what += " on " + s.Device
		}
		lines = append(lines, fmt.Sprintf("%s: signed in %s, last used %s", what, when(s.SignedInAt), when(s.LastUsedAt)))
	}
	return strings.Join(lines, "\n")
}

// act runs one action off the UI goroutine and shows its outcome: the
// credential it answers with, or read again.
func (p *mobilePanel) act(doing, done string, call func(ctx context.Context, c *adminapi.Client, id string) (*adminapi.MobileCredential, error)) {
	id := p.user.ID
	p.d.setBusy(true, doing)
	p.msg.info("")
	run(p.d.u, func(ctx context.Context) (*adminapi.MobileCredential, error) {
		return call(ctx, p.d.u.api, id)
	}, func(c *adminapi.MobileCredential, err error) {
		p.d.setBusy(false, "")
		p.d.msg.info("")
		if err != nil {
			p.msg.fail(p.d.u.message(err))
			p.load()
			return
		}
		p.msg.success(done)
		if c != nil {
			p.seq++ // an older load must not overwrite this answer
			p.loading, p.cred = false, c
			p.refresh()
			return
		}
		p.load()
	})
}

func (p *mobilePanel) confirmSend() {
	v := p.user
	p.d.u.confirm("Send an activation code?",
		"A one-time code will be sent by SMS to "+v.Phone+". "+v.Name()+" enters it in the mobile app and chooses a PIN.",
		"Send code", func() {
			p.act("Sending the activation code…", "An activation code was sent by SMS to "+v.Phone+".",
				func(ctx context.Context, c *adminapi.Client, id string) (*adminapi.MobileCredential, error) {
					r, err := c.SendClinicianMobileActivation(ctx, id)
					return &r, err
				})
		})
}

func (p *mobilePanel) confirmReset() {
	v := p.user
	p.d.u.confirm("Reset "+v.Name()+"'s PIN?",
		"The PIN is cleared and "+v.Name()+" is signed out of the mobile app everywhere. "+
			"To use the app again they activate it with a code sent by SMS and choose a new PIN.",
		"Reset PIN", func() {
			p.act("Resetting the PIN…", "The PIN was reset; "+v.Name()+" activates the mobile app again.",
				func(ctx context.Context, c *adminapi.Client, id string) (*adminapi.MobileCredential, error) {
					r, err := c.ResetClinicianMobile(ctx, id)
					return &r, err
				})
		})
}

func (p *mobilePanel) confirmEnd() {
	v := p.user
	p.d.u.confirm("End "+v.Name()+"'s mobile sessions?",
		v.Name()+" is signed out of the mobile app on every device. The PIN stays: they sign in again with it.",
		"End sessions", func() {
			p.act("Ending the mobile sessions…", "The mobile sessions were ended.",
				func(ctx context.Context, c *adminapi.Client, id string) (*adminapi.MobileCredential, error) {
					return nil, c.EndClinicianMobileSessions(ctx, id)
				})
		})
}
