package ui

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// clientDetail is one client's settings, or a new client's.
type clientDetail struct {
	c      *clientsSection
	u      *UI
	client *adminapi.OIDCClient // nil: a new client

	title      *widget.Label
	id         *entry
	name       *entry
	public     *widget.Check
	redirects  *entry
	postLogout *entry
	grants     *widget.CheckGroup
	admitRoles *widget.CheckGroup
	admitTypes *widget.CheckGroup
	scopes     *entry
	signIn     *widget.Select
	requireMFA *widget.Check
	fields     []*field
	save       *widget.Button
	revert     *widget.Button
	rotate     *widget.Button
	del        *widget.Button
	msg        status
	busy       *widget.ProgressBarInfinite
	root       fyne.CanvasObject
	secret     *modal // the dialog showing a new secret
	inFlight   bool
}

var grantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

var userTypes = []string{string(adminapi.UserTypeEmployee), string(adminapi.UserTypeClinician)}

// signInLabels names the API's sign-in methods for people.
var signInLabels = map[adminapi.SignInMethod]string{
	adminapi.SignInEmail: "Email and password",
	adminapi.SignInPhone: "Mobile number and PIN (clinicians' mobile app)",
}

// signInOptions are the sign-in methods as the form offers them, in the
// API's order.
func signInOptions() []string {
	var out []string
	for _, m := range adminapi.SignInMethods {
		out = append(out, signInLabels[m])
	}
	return out
}

// signInMethodOf is the method a label of signInOptions stands for.
func signInMethodOf(label string) adminapi.SignInMethod {
	for m, l := range signInLabels {
		if l == label {
			return m
		}
	}
	return adminapi.SignInEmail
}

func newClientDetail(c *clientsSection) *clientDetail {
	u := c.u
	d := &clientDetail{c: c, u: u, msg: newStatus(), busy: widget.NewProgressBarInfinite()}
	d.busy.Hide()
	d.title = heading("New client")
	mk := func() *entry {
		e := newEntry(u)
		e.OnSubmitted = func(string) { d.submit() }
		return e
	}
	d.id, d.name, d.scopes = mk(), mk(), mk()
	d.id.SetPlaceHolder("e.g. scheduling-web")
	d.scopes.SetPlaceHolder("extra scopes, e.g. admin")
	d.public = widget.NewCheck("Public client (a native or browser app: PKCE, no secret)", nil)
	d.redirects, d.postLogout = newMultiLineEntry(u), newMultiLineEntry(u)
	d.redirects.SetPlaceHolder("one URI per line")
	d.postLogout.SetPlaceHolder("one URI per line")
	d.redirects.SetMinRowsVisible(3)
	d.postLogout.SetMinRowsVisible(2)
	d.grants = widget.NewCheckGroup(grantTypes, nil)
	d.grants.SetSelected([]string{"authorization_code", "refresh_token"})
	var roles []string
	for _, r := range adminapi.Roles {
		roles = append(roles, string(r))
	}
	d.admitRoles = widget.NewCheckGroup(roles, nil)
	d.admitTypes = widget.NewCheckGroup(userTypes, nil)
	d.admitTypes.Horizontal = true
	d.requireMFA = widget.NewCheck("Require two factors (an authenticator app) of everyone signing in", nil)
	// A phone client's number and PIN is the whole sign-in: the API
	// refuses two factors for it, so the check is off and disabled there.
	d.signIn = widget.NewSelect(signInOptions(), nil)
	d.signIn.SetSelected(signInLabels[adminapi.SignInEmail])
	d.signIn.OnChanged = func(string) {
		if d.phone() {
			d.requireMFA.SetChecked(false)
		}
		d.applyPermissions()
	}
	d.fields = []*field{
		newField("id", "Client ID", d.id),
		newField("name", "Name", d.name),
		newField("public", "Kind", d.public),
		newField("redirect_uris", "Redirect URIs", d.redirects),
		newField("post_logout_redirect_uris", "Post-logout URIs", d.postLogout),
		newField("grant_types", "Grants", d.grants),
		newField("admit_roles", "Admits roles", d.admitRoles),
		newField("admit_types", "Admits types", d.admitTypes),
		newField("sign_in_method", "Sign-in method", d.signIn),
		newField("require_mfa", "Two factors", d.requireMFA),
		newField("scopes", "Scopes", d.scopes),
	}
	d.save = widget.NewButton("Create client", d.submit)
	d.save.Importance = widget.HighImportance
	d.revert = widget.NewButton("Cancel", d.cancel)
	d.rotate = widget.NewButton("Rotate secret…", d.confirmRotate)
	d.del = widget.NewButton("Delete…", d.confirmDelete)
	d.del.Importance = widget.DangerImportance
	d.rotate.Hide()
	d.del.Hide()
	hint := widget.NewLabel("A client that admits no role and no type admits everyone; " +
		"one that signs in by mobile number and PIN admits clinicians only.")
	hint.Importance = widget.LowImportance
	hint.Wrapping = fyne.TextWrapWord
	d.root = container.NewVScroll(padded(container.NewVBox(
		d.title,
		formGrid(d.fields...),
		hint,
		container.NewHBox(d.save, d.revert),
		container.NewHBox(d.rotate, d.del),
		d.busy,
		d.msg.Label,
	)))
	d.applyPermissions()
	return d
}

func (d *clientDetail) applyPermissions() {
	write := d.u.can(adminapi.PermClientsWrite) && !d.inFlight
	for _, e := range []*entry{d.name, d.redirects, d.postLogout, d.scopes} {
		if write {
			e.Enable()
		} else {
			e.Disable()
		}
	}
	for _, g := range []*widget.CheckGroup{d.grants, d.admitRoles, d.admitTypes} {
		if write {
			g.Enable()
		} else {
			g.Disable()
		}
	}
	if write {
		d.signIn.Enable()
	} else {
		d.signIn.Disable()
	}
	if write && !d.phone() {
		d.requireMFA.Enable()
	} else {
		d.requireMFA.Disable()
	}
	// Id and kind are fixed once created.
	if write && d.client == nil {
		d.id.Enable()
		d.public.Enable()
	} else {
		d.id.Disable()
		d.public.Disable()
	}
	for _, b := range []*widget.Button{d.save, d.rotate, d.del} {
		if write {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if !d.u.can(adminapi.PermClientsWrite) {
		d.save.Hide()
	}
}

func (d *clientDetail) load(id string) {
	d.title.SetText("Loading…")
	d.busy.Show()
	run(d.u, func(ctx context.Context) (adminapi.OIDCClient, error) {
		return d.u.api.GetClient(ctx, id)
	}, func(v adminapi.OIDCClient, err error) {
		d.busy.Hide()
		if err != nil {
			d.title.SetText("")
			d.msg.fail(d.u.message(err))
			return
		}
		d.fill(v)
	})
}

func (d *clientDetail) fill(v adminapi.OIDCClient) {
	d.client = &v
	d.title.SetText(v.Name)
	d.id.SetText(v.ID)
	d.name.SetText(v.Name)
	d.public.SetChecked(v.Public)
	d.redirects.SetText(strings.Join(v.RedirectURIs, "\n"))
	d.postLogout.SetText(strings.Join(v.PostLogoutRedirectURIs, "\n"))
	d.grants.SetSelected(v.GrantTypes)
	var roles, types []string
	for _, r := range v.AdmitRoles {
		roles = append(roles, string(r))
	}
	for _, t := range v.AdmitTypes {
		types = append(types, string(t))
	}
	d.admitRoles.SetSelected(roles)
	d.admitTypes.SetSelected(types)
	d.scopes.SetText(strings.Join(v.Scopes, " "))
	d.signIn.SetSelected(signInLabels[cmp.Or(v.SignInMethod, adminapi.SignInEmail)])
	d.requireMFA.SetChecked(v.RequireMFA)
	setFieldErrors(d.fields, nil)
	d.save.SetText("Save")
	d.revert.SetText("Revert")
	if v.Public {
		d.rotate.Hide()
	} else {
		d.rotate.Show()
	}
	d.del.Show()
	d.applyPermissions()
}

func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// phone: the form's sign-in method is mobile number and PIN.
func (d *clientDetail) phone() bool {
	return signInMethodOf(d.signIn.Selected) == adminapi.SignInPhone
}

// entered is the form as a new client.
func (d *clientDetail) entered() adminapi.NewOIDCClient {
	n := adminapi.NewOIDCClient{
		ID: strings.TrimSpace(d.id.Text), Name: strings.TrimSpace(d.name.Text), Public: d.public.Checked,
		RedirectURIs: lines(d.redirects.Text), PostLogoutRedirectURIs: lines(d.postLogout.Text),
		GrantTypes: append([]string{}, d.grants.Selected...), Scopes: strings.Fields(d.scopes.Text),
		AdmitRoles: []adminapi.Role{}, AdmitTypes: []adminapi.UserType{},
		SignInMethod: signInMethodOf(d.signIn.Selected),
		RequireMFA:   d.requireMFA.Checked,
	}
	for _, r := range d.admitRoles.Selected {
		n.AdmitRoles = append(n.AdmitRoles, adminapi.Role(r))
	}
	for _, t := range d.admitTypes.Selected {
		n.AdmitTypes = append(n.AdmitTypes, adminapi.UserType(t))
	}
	return n
}

// changes is the update from the loaded client to the form.
func (d *clientDetail) changes() (adminapi.OIDCClientUpdate, bool) {
	old, n := *d.client, d.entered()
	var up adminapi.OIDCClientUpdate
	changed := false
	if n.Name != old.Name {
		up.Name, changed = &n.Name, true
	}
	strs := func(dst **[]string, o, v []string) {
		if !sameSet(o, v) {
			*dst, changed = &v, true
		}
	}
	strs(&up.RedirectURIs, old.RedirectURIs, n.RedirectURIs)
	strs(&up.PostLogoutRedirectURIs, old.PostLogoutRedirectURIs, n.PostLogoutRedirectURIs)
	strs(&up.GrantTypes, old.GrantTypes, n.GrantTypes)
	strs(&up.Scopes, old.Scopes, n.Scopes)
	if !sameSet(roleStrings(old.AdmitRoles), roleStrings(n.AdmitRoles)) {
		up.AdmitRoles, changed = &n.AdmitRoles, true
	}
	var ot, nt []string
	for _, t := range old.AdmitTypes {
		ot = append(ot, string(t))
	}
	for _, t := range n.AdmitTypes {
		nt = append(nt, string(t))
	}
	if !sameSet(ot, nt) {
		up.AdmitTypes, changed = &n.AdmitTypes, true
	}
	if n.SignInMethod != cmp.Or(old.SignInMethod, adminapi.SignInEmail) {
		up.SignInMethod, changed = &n.SignInMethod, true
	}
	if n.RequireMFA != old.RequireMFA {
		up.RequireMFA, changed = &n.RequireMFA, true
	}
	return up, changed
}

func roleStrings(rs []adminapi.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

func (d *clientDetail) setBusy(on bool, msg string) {
	d.inFlight = on
	if on {
		d.busy.Show()
		d.msg.info(msg)
	} else {
		d.busy.Hide()
	}
	d.applyPermissions()
}

func (d *clientDetail) submit() {
	if d.inFlight || !d.u.can(adminapi.PermClientsWrite) {
		return
	}
	if d.client == nil {
		n := d.entered()
		d.setBusy(true, "Creating…")
		run(d.u, func(ctx context.Context) (adminapi.OIDCClientWithSecret, error) {
			return d.u.api.CreateClient(ctx, n)
		}, func(r adminapi.OIDCClientWithSecret, err error) {
			d.setBusy(false, "")
			if err != nil {
				d.showError(err)
				return
			}
			d.fill(r.Client)
			d.msg.success("Created.")
			d.c.load()
			if r.Secret != "" {
				d.secret = d.u.showSecret("Client secret", "The secret of "+r.Client.ID+
					". Copy it now and give it to the module's operator: it is shown only this once.", r.Secret)
			}
		})
		return
	}
	up, changed := d.changes()
	if !changed {
		setFieldErrors(d.fields, nil)
		d.msg.info("Nothing to save.")
		return
	}
	old := *d.client
	d.setBusy(true, "Saving…")
	run(d.u, func(ctx context.Context) (adminapi.OIDCClient, error) {
		return d.u.api.UpdateClient(ctx, old.ID, old.Version, up)
	}, func(v adminapi.OIDCClient, err error) {
		d.setBusy(false, "")
		if err != nil {
			d.showError(err)
			return
		}
		d.fill(v)
		d.msg.success("Saved.")
		d.c.load()
	})
}

func (d *clientDetail) showError(err error) {
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case adminapi.CodeVersionConflict, adminapi.CodePreconditionFailed:
			d.msg.fail("Not saved: changed by someone else.")
			m := d.u.confirm("Changed by someone else",
				"This client was changed by someone else since you opened it, so your changes were not saved. "+
					"Reload to see the current settings (your edits are discarded), or keep editing.",
				"Reload", func() { d.load(d.client.ID) })
			m.cancel.SetText("Keep editing")
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

func (d *clientDetail) confirmRotate() {
	v := *d.client
	d.u.confirm("Rotate the secret of "+v.ID+"?",
		"A new secret is made and the current one stops working at once: the module must be given the new one.",
		"Rotate", func() {
			d.setBusy(true, "Rotating…")
			run(d.u, func(ctx context.Context) (adminapi.OIDCClientWithSecret, error) {
				return d.u.api.RotateClientSecret(ctx, v.ID)
			}, func(r adminapi.OIDCClientWithSecret, err error) {
				d.setBusy(false, "")
				if err != nil {
					d.msg.fail(d.u.message(err))
					return
				}
				d.fill(r.Client)
				d.msg.success("The secret was rotated.")
				d.secret = d.u.showSecret("New client secret", "The new secret of "+v.ID+
					". Copy it now: it is shown only this once.", r.Secret)
			})
		})
}

func (d *clientDetail) confirmDelete() {
	v := *d.client
	d.u.confirm("Delete "+v.ID+"?",
		"The client and every token issued to it are removed. The module can no longer sign anyone in.",
		"Delete", func() {
			d.setBusy(true, "Deleting…")
			run(d.u, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, d.u.api.DeleteClient(ctx, v.ID, v.Version)
			}, func(_ struct{}, err error) {
				d.setBusy(false, "")
				if err != nil {
					d.showError(err)
					return
				}
				d.c.closeRight()
				d.c.info.success(v.ID + " was deleted.")
				d.c.load()
			})
		})
}

func (d *clientDetail) cancel() {
	if d.inFlight {
		return
	}
	if d.client == nil {
		d.c.closeRight()
		return
	}
	d.fill(*d.client)
	d.msg.info("")
}
