package adminapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// enrolMFA sets up an authenticator app for u through the account use
// cases, as the account page does.
func (f *fixture) enrolMFA(u storage.User) {
	f.t.Helper()
	ctx := context.Background()
	e, err := f.mfa.BeginEnrollment(ctx, u.ID)
	if err != nil {
		f.t.Fatalf("begin enrolment: %v", err)
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(e.Secret, " ", ""), f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.mfa.ConfirmEnrollment(ctx, u.ID, code, ""); err != nil {
		f.t.Fatalf("confirm enrolment: %v", err)
	}
}

// TestMFAReset: user records show the second factor; an admin resets that
// of a user below them (audited, the user emailed), not that of another
// admin; a super admin resets anyone's.
func TestMFAReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		manager := f.active(storage.UserTypeEmployee, storage.RoleAssigningManager)
		emp := f.active(storage.UserTypeEmployee)
		clin := f.active(storage.UserTypeClinician)
		otherAdmin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		plain := f.active(storage.UserTypeEmployee)
		for _, u := range []storage.User{emp, clin, otherAdmin} {
			f.enrolMFA(u)
		}
		ac := f.client(admin)

		got, err := ac.GetEmployee(ctx, emp.ID)
		if err != nil || got.MFA != api.MFAEnabled || got.RecoveryCodesLeft != 10 {
			t.Fatalf("employee with an app: mfa %q, %d codes left (%v)", got.MFA, got.RecoveryCodesLeft, err)
		}
		if got, _ := ac.GetEmployee(ctx, plain.ID); got.MFA != api.MFANone || got.RecoveryCodesLeft != 0 {
			t.Fatalf("employee without an app: mfa %q, %d codes left", got.MFA, got.RecoveryCodesLeft)
		}
		list, err := ac.ListEmployees(ctx, api.ListUsersOptions{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]api.MFAState{}
		for _, u := range list.Items {
			states[u.ID] = u.MFA
		}
		if states[emp.ID] != api.MFAEnabled || states[plain.ID] != api.MFANone {
			t.Fatalf("list: %v", states)
		}
		me, err := f.client(otherAdmin).Me(ctx)
		if err != nil || me.User.MFA != api.MFAEnabled {
			t.Fatalf("/me of an admin with an app: %q, %v", me.User.MFA, err)
		}

		if _, err := f.client(manager).ResetEmployeeMFA(ctx, emp.ID); code(err) != api.CodeForbidden {
			t.Fatalf("assigning manager resets: %v", err)
		}
		if _, err := ac.ResetEmployeeMFA(ctx, otherAdmin.ID); code(err) != api.CodeForbidden {
			t.Fatalf("admin resets another admin: %v", err)
		}
		if _, err := ac.ResetClinicianMFA(ctx, emp.ID); code(err) != api.CodeNotFound {
			t.Fatalf("an employee under /clinicians: %v", err)
		}
		if _, err := ac.ResetEmployeeMFA(ctx, plain.ID); code(err) != api.CodeInvalidState {
			t.Fatalf("reset of a user without an app: %v", err)
		}
		if len(f.messages(emp.Email)) != 1 { // the notice of the enrolment
			t.Fatalf("mail before the reset: %d", len(f.messages(emp.Email)))
		}

		out, err := ac.ResetEmployeeMFA(ctx, emp.ID)
		if err != nil || out.MFA != api.MFANone || out.ID != emp.ID {
			t.Fatalf("reset: %+v, %v", out, err)
		}
		if on, _ := f.mfa.Enabled(ctx, emp.ID); on {
			t.Fatal("still enabled after the reset")
		}
		es := f.audit(emp.ID)
		if len(es) == 0 || es[0].Action != api.ActionEmployeeMFAReset || es[0].ActorID != admin.ID || es[0].SourceAddr != "127.0.0.1" {
			t.Fatalf("audit: %+v", es)
		}
		msgs := f.messages(emp.Email)
		if len(msgs) != 2 || !strings.Contains(msgs[1].Subject, "An administrator turned off two-step sign-in") {
			t.Fatalf("mail: %+v", msgs)
		}
		if _, err := ac.ResetEmployeeMFA(ctx, emp.ID); code(err) != api.CodeInvalidState {
			t.Fatalf("reset again: %v", err)
		}

		if _, err := ac.ResetClinicianMFA(ctx, clin.ID); err != nil {
			t.Fatalf("admin resets a clinician: %v", err)
		}
		if es := f.audit(clin.ID); es[0].Action != api.ActionClinicianMFAReset {
			t.Fatalf("clinician audit: %+v", es[0])
		}
		if _, err := f.client(super).ResetEmployeeMFA(ctx, otherAdmin.ID); err != nil {
			t.Fatalf("super admin resets an admin: %v", err)
		}
		r := f.do(http.MethodPost, api.BasePath+"/employees/"+emp.ID+"/mfa/reset", f.token(admin), `{"x":1}`)
		if r.status != http.StatusBadRequest {
			t.Errorf("unknown body member: %d", r.status)
		}
		if perms := me.Permissions; !slices.Contains(perms, api.PermEmployeesMFA) || !slices.Contains(perms, api.PermCliniciansMFA) {
			t.Errorf("admin permissions: %v", perms)
		}
	})
}
