package ui

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// clinicians returns the Clinicians section, selected.
func (h *harness) clinicians() *usersSection {
	h.t.Helper()
	if !h.u.ShowSection("Clinicians") {
		h.t.Fatal("no Clinicians section")
	}
	h.idle()
	return h.u.shell.clinicians
}

// mobilePanelOf is the record's Mobile credential panel, or nil.
func mobilePanelOf(d *userDetail) *mobilePanel {
	for _, p := range d.panels {
		if m, ok := p.(*mobilePanel); ok {
			return m
		}
	}
	return nil
}

// confirmModal checks that a confirmation is open, then confirms it.
func (h *harness) confirmModal(what string) {
	h.t.Helper()
	if h.u.modal == nil || h.u.modal.ok == nil {
		h.t.Fatalf("%s did not ask for confirmation", what)
	}
	test.Tap(h.u.modal.ok)
	h.idle()
}

// The Mobile credential panel against the real provider: a clinician
// without a PIN shows state none; Send activation code (confirmed) makes
// the provider send an SMS with the code through its gateway and the
// credential pending; Reset PIN and End mobile sessions (each confirmed)
// are audited as the signed-in admin; the server's refusal is shown in
// its words.
func TestClinicianMobilePanel(t *testing.T) {
	h := signedIn(t, superAdmin)
	s := h.clinicians()
	d := h.openRow(s, seacole.Email)
	p := mobilePanelOf(d)
	if p == nil {
		t.Fatal("no Mobile credential panel for a super admin")
	}
	h.pump("the mobile credential", func() bool { return p.cred != nil && !p.loading })
	if p.cred.State != adminapi.MobileNone || !strings.HasPrefix(p.state.Text, "None") || p.phone.Text != seacole.Phone+" (not confirmed yet)" ||
		p.active.Text != "not activated" || p.last.Text != "never" || p.sessions.Text != "None" {
		t.Fatalf("panel shows state %q, phone %q, activated %q, last %q, sessions %q",
			p.state.Text, p.phone.Text, p.active.Text, p.last.Text, p.sessions.Text)
	}
	if p.send.Hidden || !p.reset.Hidden || p.end.Hidden {
		t.Fatalf("state none offers send %v, reset %v, end %v", !p.send.Hidden, !p.reset.Hidden, !p.end.Hidden)
	}

	// Send activation code: Esc cancels the confirmation, OK sends.
	test.Tap(p.send)
	if h.u.modal == nil || !containsText(labelsIn(h.u.modal.content), seacole.Phone) {
		t.Fatal("Send activation code did not ask first, naming the number")
	}
	h.w.Canvas().OnTypedKey()(escapeKey)
	if h.u.modal != nil {
		t.Fatal("Esc did not close the confirmation")
	}
	test.Tap(p.send)
	h.confirmModal("Send activation code")
	if p.cred.State != adminapi.MobilePending || !strings.HasPrefix(p.state.Text, "Pending") || p.reset.Hidden {
		t.Fatalf("after sending: state %q (%s), reset hidden %v", p.cred.State, p.msg.Text, p.reset.Hidden)
	}
	if !strings.Contains(p.msg.Text, "activation code was sent by SMS to "+seacole.Phone) {
		t.Errorf("message %q", p.msg.Text)
	}
	sms, err := idp.SMS.Wait(seacole.Phone, "activation code", 1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`activation code: \d{6}\n`).MatchString(sms.Body) {
		t.Errorf("SMS body %q has no code", sms.Body)
	}
	if n := len(idp.SMS.To(seacole.Phone, "")); n != 1 {
		t.Errorf("%d SMS to %s, want 1 (the cancelled confirmation sent one?)", n, seacole.Phone)
	}

	// Reset PIN, then End mobile sessions.
	test.Tap(p.reset)
	h.confirmModal("Reset PIN")
	if p.cred.State != adminapi.MobileNone || !p.reset.Hidden || !strings.Contains(p.msg.Text, "PIN was reset") {
		t.Fatalf("after reset: state %q, message %q", p.cred.State, p.msg.Text)
	}
	test.Tap(p.end)
	h.confirmModal("End mobile sessions")
	if !strings.Contains(p.msg.Text, "mobile sessions were ended") || p.cred == nil {
		t.Fatalf("after ending sessions: %q", p.msg.Text)
	}
	audit, err := h.api().ListAudit(h.ctx(), adminapi.AuditOptions{Target: d.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit.Items {
		if e.ActorID == h.u.me.User.ID {
			actions = append(actions, e.Action)
		}
	}
	for _, want := range []string{adminapi.ActionClinicianMobileActivation, adminapi.ActionClinicianMobileReset, adminapi.ActionClinicianMobileEndSessions} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s audit entry by the admin; entries: %v", want, actions)
		}
	}

	// Meanwhile someone disables her: sending a code is refused, in the
	// server's words.
	if _, err := h.api().DisableClinician(h.ctx(), d.user.ID); err != nil {
		t.Fatal(err)
	}
	test.Tap(p.send)
	h.confirmModal("Send activation code")
	if p.msg.Text != "the clinician is not active or has no phone number" {
		t.Errorf("refusal shown as %q", p.msg.Text)
	}
}

// The panel is there only when /me grants clinicians.mobile_credentials.
// Every role that reads clinicians holds it today, so the test takes it
// out of the signed-in admin's /me answer: the record then has no Mobile
// credential panel, and it asks the provider nothing about it.
func TestMobilePanelNeedsPermission(t *testing.T) {
	h := signedIn(t, superAdmin)
	s := h.clinicians()
	if d := h.openRow(s, "florence.n@example.test"); mobilePanelOf(d) == nil {
		t.Fatal("no Mobile credential panel with the permission")
	}
	h.u.me.Permissions = slices.DeleteFunc(slices.Clone(h.u.me.Permissions),
		func(p adminapi.Permission) bool { return p == adminapi.PermCliniciansMobile })
	s.closeRight()
	d := h.openRow(s, "florence.n@example.test")
	h.idle()
	if mobilePanelOf(d) != nil || containsText(labelsIn(d.panelBox), "Mobile credential") {
		t.Fatal("the Mobile credential panel is shown without the permission")
	}
}
