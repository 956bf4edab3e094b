package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// userPanel is one panel of a user's record beneath the profile form:
// a heading, what it shows of the record, and its actions. Panels load
// their own data and call the admin API through run, like the form.
type userPanel interface {
	object() fyne.CanvasObject
	// show is called on the UI goroutine with the record each time it is
	// loaded or changed.
	show(v adminapi.User)
	// setBusy disables the panel's actions while the form saves.
	setBusy(on bool)
}

// panelsFor lists the panels of v's record, in display order, for what
// the signed-in user may do. This is the one place panels are added.
func (d *userDetail) panelsFor(v adminapi.User) []userPanel {
	var out []userPanel
	if p := newAccountPanel(d); p != nil {
		out = append(out, p)
	}
	// The record carries the state of the second factor: whoever reads
	// it sees it; resetting takes the section's mfa permission.
	out = append(out, newMFAPanel(d))
	if d.s.kind.clinician() && d.u.can(adminapi.PermCliniciansMobile) {
		out = append(out, newMobilePanel(d))
	}
	return out
}

// accountPanel is the account's lifecycle: disable or enable, send a
// password reset, re-send the invitation.
type accountPanel struct {
	d       *userDetail
	box     *fyne.Container
	state   *widget.Label
	disable *widget.Button
	enable  *widget.Button
	reset   *widget.Button
	resend  *widget.Button
	msg     status
	user    adminapi.User
	busy    bool
}

func newAccountPanel(d *userDetail) *accountPanel {
	k := d.s.kind
	if !d.u.can(k.status) && !d.u.can(k.notify) {
		return nil
	}
	p := &accountPanel{d: d, state: widget.NewLabel(""), msg: newStatus()}
	p.disable = widget.NewButton("Disable", p.confirmDisable)
	p.disable.Importance = widget.DangerImportance
	p.enable = widget.NewButton("Enable", p.doEnable)
	p.reset = widget.NewButton("Send password reset", p.confirmReset)
	p.resend = widget.NewButton("Re-send invitation", p.doResend)
	p.box = container.NewVBox(
		widget.NewSeparator(),
		heading("Account"),
		p.state,
		container.NewHBox(p.disable, p.enable, p.reset, p.resend),
		p.msg.Label,
	)
	return p
}

func (p *accountPanel) object() fyne.CanvasObject { return p.box }

func (p *accountPanel) show(v adminapi.User) {
	p.user = v
	switch v.Status {
	case adminapi.StatusActive:
		p.state.SetText("Active: may sign in.")
	case adminapi.StatusInvited:
		p.state.SetText("Invited: has not accepted the invitation yet, so cannot sign in.")
	case adminapi.StatusDisabled:
		p.state.SetText("Disabled: may not sign in.")
	}
	p.refresh()
}

func (p *accountPanel) setBusy(on bool) {
	p.busy = on
	p.refresh()
}

// refresh shows the actions that apply to the record's state and that
// the signed-in user may take.
func (p *accountPanel) refresh() {
	u, k, v := p.d.u, p.d.s.kind, p.user
	touch := u.mayTouch(v) && v.ID != u.me.User.ID
	vis := func(b *widget.Button, on bool) {
		if on {
			b.Show()
		} else {
			b.Hide()
		}
		if p.busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	vis(p.disable, touch && u.can(k.status) && v.Status != adminapi.StatusDisabled)
	vis(p.enable, touch && u.can(k.status) && v.Status == adminapi.StatusDisabled)
	vis(p.reset, touch && u.can(k.notify) && v.Status == adminapi.StatusActive)
	vis(p.resend, touch && u.can(k.notify) && v.Status == adminapi.StatusInvited)
}

// act runs one action and shows its outcome.
func (p *accountPanel) act(doing, done string, call func(ctx context.Context) (*adminapi.User, error)) {
	p.d.setBusy(true, doing)
	run(p.d.u, call, func(v *adminapi.User, err error) {
		p.d.setBusy(false, "")
		p.d.msg.info("")
		if err != nil {
			p.msg.fail(p.d.u.message(err))
			return
		}
		if v != nil {
			p.d.fill(*v)
			p.d.s.updated(*v)
		}
		p.msg.success(done)
	})
}

func (p *accountPanel) confirmDisable() {
	v := p.user
	p.d.u.confirm("Disable "+v.Name()+"?",
		v.Name()+" will be signed out everywhere and cannot sign in until enabled again.",
		"Disable", func() {
			p.act("Disabling…", v.Name()+" is disabled.", func(ctx context.Context) (*adminapi.User, error) {
				r, err := p.d.s.api.disable(ctx, v.ID)
				return &r, err
			})
		})
}

func (p *accountPanel) doEnable() {
	v := p.user
	p.act("Enabling…", v.Name()+" is enabled.", func(ctx context.Context) (*adminapi.User, error) {
		r, err := p.d.s.api.enable(ctx, v.ID)
		return &r, err
	})
}

func (p *accountPanel) confirmReset() {
	v := p.user
	p.d.u.confirm("Send a password reset?",
		"A link to choose a new password will be emailed to "+v.Email+".",
		"Send", func() {
			p.act("Sending…", "A password reset link was sent to "+v.Email+".", func(ctx context.Context) (*adminapi.User, error) {
				return nil, p.d.s.api.passwordReset(ctx, v.ID)
			})
		})
}

func (p *accountPanel) doResend() {
	v := p.user
	p.act("Sending…", "A new invitation was sent to "+v.Email+".", func(ctx context.Context) (*adminapi.User, error) {
		return nil, p.d.s.api.resendInvitation(ctx, v.ID)
	})
}
