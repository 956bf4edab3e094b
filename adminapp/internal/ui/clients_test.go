package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// A client created through the form with phone sign-in is stored as one,
// without two factors: choosing phone clears and disables the two-factor
// check, and the list says the client signs clinicians in by phone. Were
// the form to ask for two factors anyway, the server's refusal shows under
// the sign-in method.
func TestClientFormPhoneSignIn(t *testing.T) {
	h := signedIn(t, superAdmin)
	c := h.clients()
	test.Tap(c.newBtn)
	d := c.detail
	if d.signIn.Selected != signInLabels[adminapi.SignInEmail] || d.requireMFA.Disabled() {
		t.Fatalf("a new client's sign-in %q, two factors disabled %v; want email, enabled",
			d.signIn.Selected, d.requireMFA.Disabled())
	}
	test.Tap(d.requireMFA)
	id := fmt.Sprintf("mobile-%d", time.Now().UnixNano())
	test.Type(d.id, id)
	test.Type(d.name, "Mobile")
	test.Tap(d.public)
	test.Type(d.redirects, "com.cliniconnects.mobile:/callback")
	d.signIn.SetSelected(signInLabels[adminapi.SignInPhone])
	if d.requireMFA.Checked || !d.requireMFA.Disabled() {
		t.Fatalf("phone chosen: two factors checked %v, disabled %v; want unchecked, disabled",
			d.requireMFA.Checked, d.requireMFA.Disabled())
	}
	test.Tap(d.save)
	h.idle()
	if d.client == nil {
		t.Fatalf("not created: %q %v", d.msg.Text, fieldErrors(d.fields))
	}
	got, err := h.api().GetClient(h.ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.SignInMethod != adminapi.SignInPhone || got.RequireMFA ||
		!slices.Equal(got.AdmitTypes, []adminapi.UserType{adminapi.UserTypeClinician}) {
		t.Fatalf("stored sign_in_method %q, require_mfa %v, admit_types %v; want phone, false, [clinician]",
			got.SignInMethod, got.RequireMFA, got.AdmitTypes)
	}
	if d.signIn.Selected != signInLabels[adminapi.SignInPhone] || !d.requireMFA.Disabled() {
		t.Errorf("the created client shows %q, two factors disabled %v", d.signIn.Selected, d.requireMFA.Disabled())
	}
	if r := clientRow(c, id); r < 0 || clientCell(c.items[r], 3) != "clinicians by phone" {
		t.Errorf("list row %d of %s; want Admits \"clinicians by phone\"", r, id)
	}

	d.requireMFA.SetChecked(true)
	test.Tap(d.save)
	h.idle()
	if e := fieldNamed(t, d.fields, "sign_in_method").err; !e.Visible() || !strings.Contains(e.Text, "two-step") {
		t.Errorf("sign-in method error %q (shown %v), message %q; want the server's refusal of two factors",
			e.Text, e.Visible(), d.msg.Text)
	}
	if got, err := h.api().GetClient(h.ctx(), id); err != nil || got.RequireMFA {
		t.Errorf("after the refusal: require_mfa %v, %v", got.RequireMFA, err)
	}
}

// Editing an email client to require two factors stores it; choosing
// phone on the form clears and disables the check, and Revert brings both
// back.
func TestClientFormRequireMFA(t *testing.T) {
	h := signedIn(t, superAdmin)
	id := fmt.Sprintf("records-%d", time.Now().UnixNano())
	if _, err := h.api().CreateClient(h.ctx(), adminapi.NewOIDCClient{
		ID: id, Name: "Records", RedirectURIs: []string{"https://records.example.test/cb"},
	}); err != nil {
		t.Fatal(err)
	}
	c := h.clients()
	d := h.openClient(c, id)
	if d.signIn.Selected != signInLabels[adminapi.SignInEmail] || d.requireMFA.Checked || d.requireMFA.Disabled() {
		t.Fatalf("an email client shows %q, two factors checked %v, disabled %v",
			d.signIn.Selected, d.requireMFA.Checked, d.requireMFA.Disabled())
	}
	version := d.client.Version
	test.Tap(d.requireMFA)
	test.Tap(d.save)
	h.idle()
	got, err := h.api().GetClient(h.ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RequireMFA || got.SignInMethod != adminapi.SignInEmail || got.Version == version {
		t.Fatalf("stored require_mfa %v, sign_in_method %q, version %d (was %d); message %q",
			got.RequireMFA, got.SignInMethod, got.Version, version, d.msg.Text)
	}
	if r := clientRow(c, id); r < 0 || clientCell(c.items[r], 3) != "everyone with two factors" {
		t.Errorf("list row %d of %s; want Admits \"everyone with two factors\"", r, id)
	}

	d.signIn.SetSelected(signInLabels[adminapi.SignInPhone])
	if d.requireMFA.Checked || !d.requireMFA.Disabled() {
		t.Errorf("phone chosen: two factors checked %v, disabled %v", d.requireMFA.Checked, d.requireMFA.Disabled())
	}
	test.Tap(d.revert)
	if d.signIn.Selected != signInLabels[adminapi.SignInEmail] || !d.requireMFA.Checked || d.requireMFA.Disabled() {
		t.Errorf("reverted: %q, two factors checked %v, disabled %v",
			d.signIn.Selected, d.requireMFA.Checked, d.requireMFA.Disabled())
	}
}

// clients returns the Clients section, selected and loaded.
func (h *harness) clients() *clientsSection {
	h.t.Helper()
	if !h.u.ShowSection("Clients") {
		h.t.Fatal("no Clients section")
	}
	h.idle()
	return h.u.shell.clients
}

// openClient selects id's row and waits for its settings.
func (h *harness) openClient(c *clientsSection, id string) *clientDetail {
	h.t.Helper()
	r := clientRow(c, id)
	if r < 0 {
		h.t.Fatalf("%s is not in the clients list", id)
	}
	c.table.Select(widget.TableCellID{Row: r, Col: 0})
	h.pump("the settings of "+id, func() bool { return c.detail != nil && c.detail.client != nil })
	h.idle()
	return c.detail
}

// clientRow is the list row of client id, or -1.
func clientRow(c *clientsSection, id string) int {
	return slices.IndexFunc(c.items, func(x adminapi.OIDCClient) bool { return x.ID == id })
}

// fieldNamed is the form field for the API member name.
func fieldNamed(t *testing.T, fields []*field, name string) *field {
	t.Helper()
	for _, f := range fields {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no %s field", name)
	return nil
}

// fieldErrors are the messages shown under fields, by member name.
func fieldErrors(fields []*field) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if f.err.Text != "" {
			out[f.name] = f.err.Text
		}
	}
	return out
}
