package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/cliniconnects/identity/adminapp/internal/idptest"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// mfaPanelOf is the record's Second factor panel, or nil.
func mfaPanelOf(d *userDetail) *mfaPanel {
	for _, p := range d.panels {
		if m, ok := p.(*mfaPanel); ok {
			return m
		}
	}
	return nil
}

// The Second factor panel against the real provider: an employee sets up
// an authenticator app on the provider's account pages; an assigning
// manager sees it on and the recovery codes left, with no Reset (the
// role lacks employees.mfa); a super admin resets it (confirmed), after
// which the record shows it off, the reset is audited as the admin and
// the employee is told by email.
func TestSecondFactorPanel(t *testing.T) {
	if _, err := idptest.NewBrowser(hedy.Email, hedy.Password).EnrollTOTP(idp.Issuer); err != nil {
		t.Fatal(err)
	}

	m := signedIn(t, manager)
	d := m.openRow(m.employees(), hedy.Email)
	p := mfaPanelOf(d)
	if p == nil {
		t.Fatal("no Second factor panel")
	}
	if !strings.HasPrefix(p.state.Text, "On") || p.codes.Text != "10" {
		t.Fatalf("manager sees state %q, codes left %q", p.state.Text, p.codes.Text)
	}
	if !p.reset.Hidden {
		t.Fatal("an assigning manager is offered Reset second factor")
	}

	h := signedIn(t, superAdmin)
	d = h.openRow(h.employees(), hedy.Email)
	p = mfaPanelOf(d)
	if p.reset.Hidden {
		t.Fatal("a super admin is not offered Reset second factor")
	}
	test.Tap(p.reset)
	if h.u.modal == nil || !containsText(labelsIn(h.u.modal.content), hedy.Email) {
		t.Fatal("Reset second factor did not ask first")
	}
	h.w.Canvas().OnTypedKey()(escapeKey)
	if got, err := h.api().GetEmployee(h.ctx(), d.user.ID); err != nil || got.MFA != adminapi.MFAEnabled {
		t.Fatalf("after Esc the server says %q, %v", got.MFA, err)
	}
	test.Tap(p.reset)
	h.confirmModal("Reset second factor")
	if !strings.HasPrefix(p.state.Text, "Off") || p.codes.Text != "—" || !p.reset.Hidden || d.user.MFA != adminapi.MFANone {
		t.Fatalf("after reset: state %q, codes %q, reset shown %v (%s)", p.state.Text, p.codes.Text, !p.reset.Hidden, p.msg.Text)
	}
	if !strings.Contains(p.msg.Text, "second factor was reset") {
		t.Errorf("message %q", p.msg.Text)
	}
	got, err := h.api().GetEmployee(h.ctx(), d.user.ID)
	if err != nil || got.MFA != adminapi.MFANone || got.RecoveryCodesLeft != 0 {
		t.Fatalf("server says mfa %q, %d codes, %v", got.MFA, got.RecoveryCodesLeft, err)
	}
	audit, err := h.api().ListAudit(h.ctx(), adminapi.AuditOptions{Target: d.user.ID, Action: adminapi.ActionEmployeeMFAReset})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit.Items, func(e adminapi.AuditEntry) bool { return e.ActorID == h.u.me.User.ID }) {
		t.Errorf("no %s audit entry by the admin: %+v", adminapi.ActionEmployeeMFAReset, audit.Items)
	}
	if _, err := idp.Mail.Wait(hedy.Email, "turned off two-step sign-in", 30*time.Second); err != nil {
		t.Error(err)
	}
}
