package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// mfaPanel is the record's second sign-in factor (an authenticator app
// with recovery codes): whether it is on, how many recovery codes are
// left, and Reset second factor for a user who lost their phone, offered
// to those holding the section's mfa permission.
type mfaPanel struct {
	d     *userDetail
	box   *fyne.Container
	state *widget.Label
	codes *widget.Label
	reset *widget.Button
	msg   status
	user  adminapi.User
	busy  bool
}

func newMFAPanel(d *userDetail) *mfaPanel {
	p := &mfaPanel{d: d, state: widget.NewLabel(""), codes: widget.NewLabel(""), msg: newStatus()}
	p.state.Wrapping = fyne.TextWrapWord
	p.reset = widget.NewButton("Reset second factor", p.confirmReset)
	p.reset.Importance = widget.DangerImportance
	p.box = container.NewVBox(
		widget.NewSeparator(),
		heading("Second factor"),
		container.New(layout.NewFormLayout(),
			widget.NewLabel("State"), p.state,
			widget.NewLabel("Recovery codes left"), p.codes,
		),
		container.NewHBox(p.reset),
		p.msg.Label,
	)
	return p
}

func (p *mfaPanel) object() fyne.CanvasObject { return p.box }

func (p *mfaPanel) show(v adminapi.User) {
	p.user = v
	switch v.MFA {
	case adminapi.MFAEnabled:
		p.state.SetText("On: signing in takes a code from an authenticator app, or a recovery code.")
		p.codes.SetText(fmt.Sprint(v.RecoveryCodesLeft))
	case adminapi.MFANone:
		p.state.SetText("Off: signing in takes the password alone.")
		p.codes.SetText("—")
	default:
		p.state.SetText("—")
		p.codes.SetText("—")
	}
	p.refresh()
}

func (p *mfaPanel) setBusy(on bool) {
	p.busy = on
	p.refresh()
}

// refresh offers Reset when there is an app to reset and the signed-in
// user may reset it (their own they change on their account page).
func (p *mfaPanel) refresh() {
	u, v := p.d.u, p.user
	if v.MFA == adminapi.MFAEnabled && u.can(p.d.s.kind.mfa) && u.mayTouch(v) && v.ID != u.me.User.ID {
		p.reset.Show()
	} else {
		p.reset.Hide()
	}
	if p.busy {
		p.reset.Disable()
	} else {
		p.reset.Enable()
	}
}

func (p *mfaPanel) confirmReset() {
	v := p.user
	p.d.u.confirm("Reset "+v.Name()+"'s second factor?",
		"Their authenticator app and recovery codes stop working, they are signed out everywhere, and "+v.Email+" is told by email. "+
			"Do this when they have lost their phone: they then sign in with the password and set up an app again.",
		"Reset", func() {
			p.d.setBusy(true, "Resetting the second factor…")
			p.msg.info("")
			run(p.d.u, func(ctx context.Context) (adminapi.User, error) {
				return p.d.s.api.resetMFA(ctx, v.ID)
			}, func(r adminapi.User, err error) {
				p.d.setBusy(false, "")
				p.d.msg.info("")
				if err != nil {
					p.msg.fail(p.d.u.message(err))
					return
				}
				p.d.fill(r)
				p.d.s.updated(r)
				p.msg.success("The second factor was reset; " + v.Email + " was told by email.")
			})
		})
}
