package ui

import (
	"context"
	"errors"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// userDetail is one employee's or clinician's record: the profile form
// with the server's message next to each field, the roles the signed-in
// user may grant, and the panels beneath (account actions, and later the
// mobile credential and second factor). With user nil it creates one.
type userDetail struct {
	s    *usersSection
	u    *UI
	user *adminapi.User // nil: a new record

	title      *widget.Label
	state      *widget.Label
	given      *entry
	family     *entry
	email      *entry
	phone      *entry
	discipline *widget.Select
	jobTitle   *entry
	department *entry
	fields     []*field
	roles      *widget.CheckGroup // the roles the signed-in user may grant
	heldRoles  *widget.Label      // roles held that they may not change
	save       *widget.Button
	revert     *widget.Button
	msg        status
	busy       *widget.ProgressBarInfinite
	panels     []userPanel
	panelBox   *fyne.Container
	form       *fyne.Container
	root       fyne.CanvasObject
	conflict   *modal // the "changed by someone else" dialog, when shown

	loading  bool
	inFlight bool
}

func newUserDetail(s *usersSection, user *adminapi.User) *userDetail {
	u := s.u
	d := &userDetail{s: s, u: u, user: user, msg: newStatus(), busy: widget.NewProgressBarInfinite()}
	d.busy.Hide()
	d.title = heading("New " + s.kind.singular)
	d.state = widget.NewLabel("")
	mk := func() *entry {
		e := newEntry(u)
		e.OnSubmitted = func(string) { d.submit() }
		return e
	}
	d.given, d.family, d.email, d.phone, d.jobTitle, d.department = mk(), mk(), mk(), mk(), mk(), mk()
	d.phone.SetPlaceHolder("+14155550123")
	d.fields = []*field{
		newField("given_name", "Given name", d.given),
		newField("family_name", "Family name", d.family),
		newField("email", "Email", d.email),
		newField("phone", "Phone", d.phone),
	}
	if s.kind.clinician() {
		d.discipline = widget.NewSelect(adminapi.Disciplines, nil)
		d.discipline.PlaceHolder = "Choose…"
		d.fields = append(d.fields, newField("discipline", "Discipline", d.discipline))
	}
	d.fields = append(d.fields,
		newField("job_title", "Job title", d.jobTitle),
		newField("department", "Department", d.department))
	rolesField := newField("roles", "Roles", d.rolesInput())
	d.fields = append(d.fields, rolesField)

	d.save = widget.NewButton("Create and send invitation", d.submit)
	d.save.Importance = widget.HighImportance
	d.revert = widget.NewButton("Cancel", d.cancel)
	d.panelBox = container.NewVBox()
	d.form = container.NewVBox(
		container.NewBorder(nil, nil, nil, d.state, d.title),
		formGrid(d.fields...),
		container.NewHBox(d.save, d.revert),
		d.busy,
		d.msg.Label,
		d.panelBox,
	)
	d.root = container.NewVScroll(padded(d.form))
	d.applyPermissions()
	return d
}

// rolesInput is the roles the signed-in user may grant as checks, and
// the others held as text.
func (d *userDetail) rolesInput() fyne.CanvasObject {
	var opts []string
	for _, r := range d.u.me.AssignableRoles {
		opts = append(opts, roleLabel(r))
	}
	d.roles = widget.NewCheckGroup(opts, nil)
	d.roles.Horizontal = true
	d.heldRoles = widget.NewLabel("")
	d.heldRoles.Importance = widget.LowImportance
	d.heldRoles.Hide()
	if len(opts) == 0 {
		d.roles.Hide()
	}
	return container.NewVBox(d.roles, d.heldRoles)
}

// mayEdit: the signed-in user may change this record's profile.
func (d *userDetail) mayEdit() bool {
	if !d.u.can(d.s.kind.write) {
		return false
	}
	return d.user == nil || d.u.mayTouch(*d.user)
}

// mayGrant: the signed-in user may change this record's roles.
func (d *userDetail) mayGrant() bool {
	if len(d.u.me.AssignableRoles) == 0 {
		return false
	}
	if d.user == nil {
		return d.u.can(d.s.kind.write)
	}
	return d.u.can(d.s.kind.roles) && d.u.mayTouch(*d.user)
}

// applyPermissions disables what the signed-in user may not change.
func (d *userDetail) applyPermissions() {
	edit := d.mayEdit() && !d.loading && !d.inFlight
	for _, e := range []*entry{d.given, d.family, d.email, d.phone, d.jobTitle, d.department} {
		if edit {
			e.Enable()
		} else {
			e.Disable()
		}
	}
	if d.discipline != nil {
		if edit {
			d.discipline.Enable()
		} else {
			d.discipline.Disable()
		}
	}
	if d.mayGrant() && !d.loading && !d.inFlight {
		d.roles.Enable()
	} else {
		d.roles.Disable()
	}
	if (d.mayEdit() || d.mayGrant()) && !d.loading && !d.inFlight {
		d.save.Enable()
	} else {
		d.save.Disable()
	}
	if !d.mayEdit() && !d.mayGrant() {
		d.save.Hide()
	} else {
		d.save.Show()
	}
}

// load fetches the record and fills the form.
func (d *userDetail) load(id string) {
	d.loading = true
	d.title.SetText("Loading…")
	d.busy.Show()
	d.applyPermissions()
	run(d.u, func(ctx context.Context) (adminapi.User, error) {
		return d.s.api.get(ctx, id)
	}, func(v adminapi.User, err error) {
		d.loading = false
		d.busy.Hide()
		if err != nil {
			d.title.SetText("")
			d.msg.fail(d.u.message(err))
			d.applyPermissions()
			return
		}
		d.fill(v)
	})
}

// fill shows v (after a load, save or action).
func (d *userDetail) fill(v adminapi.User) {
	d.user = &v
	d.title.SetText(v.Name())
	state := statusLabel(v.Status)
	if !v.EmailVerified && v.Status != adminapi.StatusInvited {
		state += " · email not verified"
	}
	d.state.SetText(state)
	d.given.SetText(v.GivenName)
	d.family.SetText(v.FamilyName)
	d.email.SetText(v.Email)
	d.phone.SetText(v.Phone)
	if d.discipline != nil {
		d.discipline.SetSelected(v.Discipline)
	}
	d.jobTitle.SetText(v.JobTitle)
	d.department.SetText(v.Department)
	var checked []string
	var held []string
	for _, r := range v.Roles {
		if slices.Contains(d.u.me.AssignableRoles, r) {
			checked = append(checked, roleLabel(r))
		} else {
			held = append(held, roleLabel(r))
		}
	}
	d.roles.SetSelected(checked)
	if len(held) > 0 {
		d.heldRoles.SetText("Also holds: " + joinComma(held))
		d.heldRoles.Show()
	} else {
		d.heldRoles.Hide()
	}
	if len(v.Roles) == 0 && len(d.u.me.AssignableRoles) == 0 {
		d.heldRoles.SetText("None")
		d.heldRoles.Show()
	}
	setFieldErrors(d.fields, nil)
	d.save.SetText("Save")
	d.revert.SetText("Revert")
	if d.panels == nil {
		d.panels = d.panelsFor(v)
		for _, p := range d.panels {
			d.panelBox.Add(p.object())
		}
	}
	for _, p := range d.panels {
		p.show(v)
	}
	d.applyPermissions()
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

// entered is the profile as the form holds it.
func (d *userDetail) entered() profile {
	p := profile{GivenName: d.given.Text, FamilyName: d.family.Text, Email: d.email.Text,
		Phone: d.phone.Text, JobTitle: d.jobTitle.Text, Department: d.department.Text}
	if d.discipline != nil {
		p.Discipline = d.discipline.Selected
	}
	return p
}

// chosenRoles is the roles the record should hold: the checked ones plus
// those held that the signed-in user may not change.
func (d *userDetail) chosenRoles() []adminapi.Role {
	out := []adminapi.Role{}
	for _, r := range adminapi.Roles {
		assignable := slices.Contains(d.u.me.AssignableRoles, r)
		switch {
		case assignable && slices.Contains(d.roles.Selected, roleLabel(r)):
			out = append(out, r)
		case !assignable && d.user != nil && slices.Contains(d.user.Roles, r):
			out = append(out, r)
		}
	}
	return out
}

func sameRoles(a, b []adminapi.Role) bool {
	if len(a) != len(b) {
		return false
	}
	for _, r := range a {
		if !slices.Contains(b, r) {
			return false
		}
	}
	return true
}

// submit creates or saves (Enter, or the button).
func (d *userDetail) submit() {
	if d.inFlight || d.loading || d.save.Disabled() || d.save.Hidden {
		return
	}
	if d.user == nil {
		d.create()
		return
	}
	d.update()
}

func (d *userDetail) setBusy(on bool, msg string) {
	d.inFlight = on
	if on {
		d.busy.Show()
		d.msg.info(msg)
	} else {
		d.busy.Hide()
	}
	d.applyPermissions()
	for _, p := range d.panels {
		p.setBusy(on)
	}
}

func (d *userDetail) create() {
	p, roles := d.entered(), d.chosenRoles()
	if len(roles) == 0 {
		roles = nil
	}
	d.setBusy(true, "Creating…")
	run(d.u, func(ctx context.Context) (adminapi.User, error) {
		return d.s.api.create(ctx, p, roles)
	}, func(v adminapi.User, err error) {
		d.setBusy(false, "")
		if err != nil {
			d.showError(err)
			return
		}
		d.fill(v)
		d.msg.success("Created. An invitation was sent to " + v.Email + ".")
		d.s.reload()
	})
}

// saveResult is what a save did: the record after it, and the first error.
type saveResult struct {
	user    adminapi.User
	changed bool
}

func (d *userDetail) update() {
	old := *d.user
	p, roles := d.entered(), d.chosenRoles()
	profileChanged := p != profileOf(old)
	rolesChanged := d.mayGrant() && !sameRoles(roles, old.Roles)
	if !profileChanged && !rolesChanged {
		setFieldErrors(d.fields, nil)
		d.msg.info("Nothing to save.")
		return
	}
	d.setBusy(true, "Saving…")
	run(d.u, func(ctx context.Context) (saveResult, error) {
		r := saveResult{user: old}
		if profileChanged {
			v, err := d.s.api.update(ctx, old.ID, old.Version, profileOf(old), p)
			if err != nil {
				return r, err
			}
			r.user, r.changed = v, true
		}
		if rolesChanged {
			v, err := d.s.api.setRoles(ctx, old.ID, r.user.Version, roles)
			if err != nil {
				return r, err
			}
			r.user, r.changed = v, true
		}
		return r, nil
	}, func(r saveResult, err error) {
		d.setBusy(false, "")
		if r.changed {
			// Keep what the user typed if a later step failed.
			d.user = &r.user
			d.s.updated(r.user)
		}
		if err != nil {
			d.showError(err)
			return
		}
		d.fill(r.user)
		d.msg.success("Saved.")
	})
}

// showError puts the server's answer where it belongs: next to fields, in
// the conflict dialog, or under the form.
func (d *userDetail) showError(err error) {
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case adminapi.CodeVersionConflict, adminapi.CodePreconditionFailed:
			d.msg.fail("Not saved: changed by someone else.")
			d.showConflict()
			return
		case adminapi.CodeValidation, adminapi.CodeAlreadyExists:
			rest := setFieldErrors(d.fields, ae.Fields)
			msg := "Not saved: check the fields marked."
			if rest != "" {
				msg += " " + rest
			}
			d.msg.fail(msg)
			return
		}
	}
	setFieldErrors(d.fields, nil)
	d.msg.fail(d.u.message(err))
}

// showConflict offers to reload a record someone else changed meanwhile.
func (d *userDetail) showConflict() {
	name := d.s.kind.singular
	m := d.u.confirm("Changed by someone else",
		"This "+name+" was changed by someone else since you opened it, so your changes were not saved. "+
			"Reload to see the current record (your edits are discarded), or keep editing.",
		"Reload", func() {
			d.conflict = nil
			d.msg.info("")
			d.load(d.user.ID)
		})
	m.cancel.SetText("Keep editing")
	m.onClose = func() {}
	d.conflict = m
}

// cancel reverts the form (Esc, or the button); on a new record it closes
// the form.
func (d *userDetail) cancel() {
	if d.inFlight {
		return
	}
	if d.user == nil {
		d.s.closeRight()
		return
	}
	d.fill(*d.user)
	d.msg.info("")
}
