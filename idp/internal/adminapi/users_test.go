package adminapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// code is the API error code of err ("" for nil, "?" for another error).
func code(err error) api.ErrorCode {
	if err == nil {
		return ""
	}
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "?" + api.ErrorCode(err.Error())
}

func TestEmployeeLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		c := f.client(super)

		email := "Ada.Byron-" + randHex(3) + "@Example.COM"
		u, err := c.CreateEmployee(ctx, api.NewEmployee{GivenName: "Ada", FamilyName: "Byron", Email: email,
			Phone: "+44 20 7946 0958", JobTitle: "Analyst", Department: "Engineering"})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		want := strings.Split(email, "@")[0] + "@example.com"
		if u.Status != api.StatusInvited || u.Email != want || u.Phone != "+442079460958" || u.Type != api.UserTypeEmployee ||
			u.Version != 1 || len(u.Roles) != 0 || u.Department != "Engineering" {
			t.Fatalf("created %+v", u)
		}
		// The invitation is queued in the same transaction.
		if msgs := f.messages(u.Email); len(msgs) != 1 || !strings.Contains(msgs[0].Text, f.issuer+"/invite") {
			t.Fatalf("invitation: %+v", msgs)
		}
		// Audit: exactly one entry, the admin API's own — who, what,
		// where; no secrets. No second entry by nobody from the invitation.
		es := f.audit(u.ID)
		if len(es) != 1 || es[0].Action != api.ActionEmployeeCreate || es[0].ActorID != super.ID ||
			es[0].SourceAddr != "127.0.0.1" || es[0].Changes["email"][1] != u.Email {
			t.Fatalf("audit of create: %+v", es)
		}

		// Search by name, email, phone.
		for _, q := range []string{"byron", strings.ToUpper(want[:8]), "2079460958"} {
			l, err := c.ListEmployees(ctx, api.ListUsersOptions{Search: q})
			if err != nil || !slices.ContainsFunc(l.Items, func(x api.User) bool { return x.ID == u.ID }) {
				t.Errorf("search %q: %v %v", q, l.Items, err)
			}
		}

		// Updates need the version; stale versions change nothing.
		title := "Lead analyst"
		if _, err := c.UpdateEmployee(ctx, u.ID, 0, api.EmployeeUpdate{JobTitle: &title}); code(err) != api.CodePreconditionRequired {
			t.Fatalf("update without version: %v", err)
		}
		u2, err := c.UpdateEmployee(ctx, u.ID, u.Version, api.EmployeeUpdate{JobTitle: &title})
		if err != nil || u2.JobTitle != title || u2.Version != u.Version+1 {
			t.Fatalf("update: %+v %v", u2, err)
		}
		other := "Lost update"
		if _, err := c.UpdateEmployee(ctx, u.ID, u.Version, api.EmployeeUpdate{JobTitle: &other}); code(err) != api.CodePreconditionFailed {
			t.Fatalf("stale If-Match: %v", err)
		}
		if _, err := c.UpdateEmployee(ctx, u.ID, 0, api.EmployeeUpdate{Version: u.Version, JobTitle: &other}); code(err) != api.CodeVersionConflict {
			t.Fatalf("stale version field: %v", err)
		}
		if got := f.get(u.ID); got.JobTitle != title || got.Version != u2.Version {
			t.Fatalf("a stale write changed the record: %+v", got)
		}
		// An update that changes nothing writes nothing.
		same, err := c.UpdateEmployee(ctx, u.ID, u2.Version, api.EmployeeUpdate{JobTitle: &title})
		if err != nil || same.Version != u2.Version {
			t.Fatalf("no-op update: %+v %v", same, err)
		}

		// Roles.
		u3, err := c.SetEmployeeRoles(ctx, u.ID, u2.Version, []api.Role{api.RoleAssigningManager})
		if err != nil || !slices.Equal(u3.Roles, []api.Role{api.RoleAssigningManager}) {
			t.Fatalf("set roles: %+v %v", u3, err)
		}

		// Invitation again; password reset only once active.
		if err := c.ResendEmployeeInvitation(ctx, u.ID); err != nil {
			t.Fatalf("resend: %v", err)
		}
		if n := len(f.messages(u.Email)); n != 2 {
			t.Fatalf("%d messages after resend", n)
		}
		if err := c.SendEmployeePasswordReset(ctx, u.ID); code(err) != api.CodeInvalidState {
			t.Fatalf("reset of an invited user: %v", err)
		}

		// Disable revokes grants at once; enable brings back invited (no
		// password yet).
		active := f.active(storage.UserTypeEmployee)
		rt := storage.RefreshToken{IDHash: randHex(32), FamilyID: "fam-" + randHex(4), ClientID: f.adminClient.ID, UserID: active.ID,
			Scopes: []string{"openid"}, AuthTime: time.Now(), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := f.store.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		if err := c.SendEmployeePasswordReset(ctx, active.ID); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if msgs := f.messages(active.Email); len(msgs) != 1 || !strings.Contains(msgs[0].Text, f.issuer+"/reset") {
			t.Fatalf("reset email: %+v", msgs)
		}
		if es := f.audit(active.ID); len(es) != 1 || es[0].Action != api.ActionEmployeePasswordReset ||
			es[0].ActorID != super.ID || es[0].SourceAddr != "127.0.0.1" {
			t.Fatalf("audit of password reset: %+v", es)
		}
		d, err := c.DisableEmployee(ctx, active.ID)
		if err != nil || d.Status != api.StatusDisabled {
			t.Fatalf("disable: %+v %v", d, err)
		}
		if got, _ := f.store.GetRefreshToken(ctx, rt.IDHash); got.RevokedAt.IsZero() {
			t.Fatal("refresh token of a disabled user not revoked")
		}
		if e, err := c.EnableEmployee(ctx, active.ID); err != nil || e.Status != api.StatusActive {
			t.Fatalf("enable: %+v %v", e, err)
		}
		if _, err := c.DisableEmployee(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if e, err := c.EnableEmployee(ctx, u.ID); err != nil || e.Status != api.StatusInvited {
			t.Fatalf("enable of a never-activated user: %+v %v", e, err)
		}

		// Every step is in the audit log, newest first, filterable.
		l, err := c.ListAudit(ctx, api.AuditOptions{Target: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		// Every entry is the admin's: none by nobody (the account
		// package's own "user.invite_resend") alongside.
		var actions []string
		for _, e := range l.Items {
			if e.ActorID != super.ID {
				t.Errorf("audit entry not by the admin: %+v", e)
			}
			actions = append(actions, e.Action)
		}
		wantActions := []string{api.ActionEmployeeEnable, api.ActionEmployeeDisable, api.ActionEmployeeInvitation,
			api.ActionEmployeeSetRoles, api.ActionEmployeeUpdate, api.ActionEmployeeCreate}
		if !slices.Equal(actions, wantActions) {
			t.Fatalf("audit actions %v, want %v", actions, wantActions)
		}
		byAction, err := c.ListAudit(ctx, api.AuditOptions{Action: api.ActionEmployeeDisable, Actor: super.ID})
		if err != nil || len(byAction.Items) != 2 {
			t.Fatalf("audit by action: %+v %v", byAction, err)
		}
		future, err := c.ListAudit(ctx, api.AuditOptions{From: time.Now().Add(time.Hour)})
		if err != nil || len(future.Items) != 0 {
			t.Fatalf("audit from the future: %+v %v", future, err)
		}
	})
}

// Admin-triggered emails are audited once each, as the admin, and are
// not held to the per-address limit of anonymous reset requests.
func TestNotifyAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		c := f.client(admin)
		invited := f.user(storage.UserTypeClinician, storage.StatusInvited)
		active := f.active(storage.UserTypeClinician)
		const n = 7 // more than the 5 anonymous requests per address and hour
		for i := range n {
			if err := c.ResendClinicianInvitation(ctx, invited.ID); err != nil {
				t.Fatalf("invitation %d: %v", i+1, err)
			}
			if err := c.SendClinicianPasswordReset(ctx, active.ID); err != nil {
				t.Fatalf("reset %d: %v", i+1, err)
			}
		}
		if got := len(f.messages(invited.Email)); got != n {
			t.Fatalf("%d invitations queued, want %d", got, n)
		}
		if got := len(f.messages(active.Email)); got != n {
			t.Fatalf("%d resets queued, want %d", got, n)
		}
		for id, action := range map[string]string{invited.ID: api.ActionClinicianInvitation, active.ID: api.ActionClinicianPasswordReset} {
			es := f.audit(id)
			if len(es) != n {
				t.Fatalf("%d audit entries for %s, want %d: %+v", len(es), action, n, es)
			}
			for _, e := range es {
				if e.Action != action || e.ActorID != admin.ID || e.SourceAddr != "127.0.0.1" {
					t.Fatalf("audit entry %+v, want %s by %s", e, action, admin.ID)
				}
			}
		}
	})
}

func TestClinicians(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		c := f.client(admin)
		in := api.NewClinician{GivenName: "Florence", FamilyName: "Nightingale", Email: "fn-" + randHex(3) + "@example.com",
			Phone: "+1 415 555 0100", Discipline: "rn"}
		u, err := c.CreateClinician(ctx, in)
		if err != nil || u.Type != api.UserTypeClinician || u.Discipline != "RN" || u.Phone != "+14155550100" {
			t.Fatalf("create: %+v %v", u, err)
		}
		if es := f.audit(u.ID); len(es) != 1 || es[0].Action != api.ActionClinicianCreate || es[0].ActorID != admin.ID {
			t.Fatalf("audit of create: %+v", es)
		}
		// Phone is required and unique, discipline required.
		for _, tc := range []struct {
			mod   func(*api.NewClinician)
			field string
			code  api.ErrorCode
		}{
			{func(n *api.NewClinician) { n.Phone = "" }, "phone", api.CodeValidation},
			{func(n *api.NewClinician) { n.Phone = "555-0100" }, "phone", api.CodeValidation},
			{func(n *api.NewClinician) { n.Discipline = "" }, "discipline", api.CodeValidation},
			{func(n *api.NewClinician) { n.Discipline = "wizard" }, "discipline", api.CodeValidation},
			{func(n *api.NewClinician) { n.Email = "x-" + randHex(3) + "@example.com" }, "phone", api.CodeAlreadyExists},
		} {
			n := in
			n.Email = "other-" + randHex(3) + "@example.com"
			tc.mod(&n)
			_, err := c.CreateClinician(ctx, n)
			var e *api.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Fields[tc.field] == "" {
				t.Errorf("%+v: %v", n, err)
			}
		}
		// The phone cannot be cleared; the discipline can change.
		empty := ""
		if _, err := c.UpdateClinician(ctx, u.ID, u.Version, api.ClinicianUpdate{Phone: &empty}); code(err) != api.CodeValidation {
			t.Fatalf("clearing the phone: %v", err)
		}
		pt := "PT"
		u2, err := c.UpdateClinician(ctx, u.ID, u.Version, api.ClinicianUpdate{Discipline: &pt})
		if err != nil || u2.Discipline != "PT" {
			t.Fatalf("update: %+v %v", u2, err)
		}
		// A clinician is not under /employees, nor an employee under /clinicians.
		if _, err := c.GetEmployee(ctx, u.ID); code(err) != api.CodeNotFound {
			t.Fatalf("clinician as employee: %v", err)
		}
		emp := f.active(storage.UserTypeEmployee)
		if _, err := c.GetClinician(ctx, emp.ID); code(err) != api.CodeNotFound {
			t.Fatalf("employee as clinician: %v", err)
		}
		if _, err := c.DisableClinician(ctx, emp.ID); code(err) != api.CodeNotFound {
			t.Fatalf("disable employee as clinician: %v", err)
		}
	})
}

// TestEscalation: attempts to act above one's rank are refused and leave
// the record as it was.
func TestEscalation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		manager := f.active(storage.UserTypeEmployee, storage.RoleAssigningManager)
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		emp := f.active(storage.UserTypeEmployee)
		clin := f.active(storage.UserTypeClinician)
		otherAdmin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		otherManager := f.active(storage.UserTypeEmployee, storage.RoleAssigningManager)
		ac, mc := f.client(admin), f.client(manager)
		title := "Escalated"

		cases := []struct {
			name   string
			target storage.User
			call   func() error
			code   api.ErrorCode
		}{
			{"admin grants super_admin", emp, func() error {
				_, err := ac.SetEmployeeRoles(ctx, emp.ID, emp.Version, []api.Role{api.RoleSuperAdmin})
				return err
			}, api.CodeRoleNotGrantable},
			{"admin grants admin", emp, func() error {
				_, err := ac.SetEmployeeRoles(ctx, emp.ID, emp.Version, []api.Role{api.RoleAdmin})
				return err
			}, api.CodeRoleNotGrantable},
			{"admin grants itself super_admin", admin, func() error {
				_, err := ac.SetEmployeeRoles(ctx, admin.ID, admin.Version, []api.Role{api.RoleSuperAdmin, api.RoleAdmin})
				return err
			}, api.CodeForbidden},
			{"admin edits another admin", otherAdmin, func() error {
				_, err := ac.UpdateEmployee(ctx, otherAdmin.ID, otherAdmin.Version, api.EmployeeUpdate{JobTitle: &title})
				return err
			}, api.CodeForbidden},
			{"admin disables a super admin", super, func() error {
				_, err := ac.DisableEmployee(ctx, super.ID)
				return err
			}, api.CodeForbidden},
			{"admin demotes a super admin", super, func() error {
				_, err := ac.SetEmployeeRoles(ctx, super.ID, super.Version, nil)
				return err
			}, api.CodeForbidden},
			{"manager edits a clinician", clin, func() error {
				_, err := mc.UpdateClinician(ctx, clin.ID, clin.Version, api.ClinicianUpdate{JobTitle: &title})
				return err
			}, api.CodeForbidden},
			{"manager edits a clinician through /employees", clin, func() error {
				_, err := mc.UpdateEmployee(ctx, clin.ID, clin.Version, api.EmployeeUpdate{JobTitle: &title})
				return err
			}, api.CodeNotFound},
			{"manager edits an admin", otherAdmin, func() error {
				_, err := mc.UpdateEmployee(ctx, otherAdmin.ID, otherAdmin.Version, api.EmployeeUpdate{JobTitle: &title})
				return err
			}, api.CodeForbidden},
			{"manager edits another manager", otherManager, func() error {
				_, err := mc.UpdateEmployee(ctx, otherManager.ID, otherManager.Version, api.EmployeeUpdate{JobTitle: &title})
				return err
			}, api.CodeForbidden},
			{"manager grants assigning_manager", emp, func() error {
				_, err := mc.SetEmployeeRoles(ctx, emp.ID, emp.Version, []api.Role{api.RoleAssigningManager})
				return err
			}, api.CodeForbidden},
			{"manager disables an employee", emp, func() error {
				_, err := mc.DisableEmployee(ctx, emp.ID)
				return err
			}, api.CodeForbidden},
			{"manager views an admin", otherAdmin, func() error {
				_, err := mc.GetEmployee(ctx, otherAdmin.ID)
				return err
			}, api.CodeForbidden},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := f.get(tc.target.ID)
				nAudit := len(f.audit(tc.target.ID))
				if got := code(tc.call()); got != tc.code {
					t.Fatalf("got %q, want %q", got, tc.code)
				}
				after := f.get(tc.target.ID)
				if after.Version != before.Version || !slices.Equal(after.Roles, before.Roles) || after.Status != before.Status || after.JobTitle != before.JobTitle {
					t.Fatalf("record changed: %+v -> %+v", before, after)
				}
				if n := len(f.audit(tc.target.ID)); n != nAudit {
					t.Fatalf("refused change audited (%d -> %d entries)", nAudit, n)
				}
			})
		}
		// Creating with a role one may not grant creates nothing.
		email := "esc-" + randHex(3) + "@example.com"
		if _, err := mc.CreateEmployee(ctx, api.NewEmployee{GivenName: "E", FamilyName: "Sc", Email: email,
			Roles: []api.Role{api.RoleAssigningManager}}); code(err) != api.CodeRoleNotGrantable {
			t.Fatalf("manager creates a manager: %v", err)
		}
		if _, err := ac.CreateEmployee(ctx, api.NewEmployee{GivenName: "E", FamilyName: "Sc", Email: email,
			Roles: []api.Role{api.RoleAdmin}}); code(err) != api.CodeRoleNotGrantable {
			t.Fatalf("admin creates an admin: %v", err)
		}
		if _, err := f.store.GetUserByEmail(ctx, email); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("refused create stored a user: %v", err)
		}
		// What the table allows still works: admin grants and revokes
		// assigning_manager, manager edits a plain employee.
		u, err := ac.SetEmployeeRoles(ctx, emp.ID, emp.Version, []api.Role{api.RoleAssigningManager})
		if err != nil {
			t.Fatal(err)
		}
		if u, err = ac.SetEmployeeRoles(ctx, emp.ID, u.Version, nil); err != nil || len(u.Roles) != 0 {
			t.Fatalf("revoke: %+v %v", u, err)
		}
		if _, err := mc.UpdateEmployee(ctx, emp.ID, u.Version, api.EmployeeUpdate{JobTitle: &title}); err != nil {
			t.Fatalf("manager edits employee: %v", err)
		}
	})
}

// TestLockedOutAtOnce: roles and status are read on every request.
func TestLockedOutAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		sc, ac := f.client(super), f.client(admin)
		if _, err := ac.ListClinicians(ctx, api.ListUsersOptions{}); err != nil {
			t.Fatal(err)
		}
		u, err := sc.SetEmployeeRoles(ctx, admin.ID, admin.Version, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ac.ListClinicians(ctx, api.ListUsersOptions{}); code(err) != api.CodeForbidden {
			t.Fatalf("demoted admin: %v", err)
		}
		if _, err := ac.Me(ctx); code(err) != api.CodeForbidden {
			t.Fatalf("demoted admin /me: %v", err)
		}
		if _, err := sc.SetEmployeeRoles(ctx, admin.ID, u.Version, []api.Role{api.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		if _, err := ac.Me(ctx); err != nil {
			t.Fatalf("re-promoted: %v", err)
		}
		if _, err := sc.DisableEmployee(ctx, admin.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := ac.Me(ctx); code(err) != api.CodeUnauthorized {
			t.Fatalf("disabled admin: %v", err)
		}
		// A token past its recorded expiry (the store's clock) is refused.
		tok := f.token(super)
		f.clock.Advance(10 * time.Minute)
		if r := f.do("GET", api.BasePath+"/me", tok, ""); r.status != 401 || r.errorBody(t).Code != api.CodeUnauthorized {
			t.Fatalf("expired token: %d %s", r.status, r.body)
		}
	})
}

func TestSelfLockout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		super := f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
		f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin) // not the last one
		c := f.client(super)
		if _, err := c.DisableEmployee(ctx, super.ID); code(err) != api.CodeSelfLockout {
			t.Fatalf("disable self: %v", err)
		}
		if _, err := c.SetEmployeeRoles(ctx, super.ID, super.Version, []api.Role{api.RoleAdmin}); code(err) != api.CodeSelfLockout {
			t.Fatalf("demote self: %v", err)
		}
		if err := c.DeleteClient(ctx, api.DesktopClientID, 0); code(err) != api.CodeSelfLockout {
			t.Fatalf("delete own client: %v", err)
		}
		cl, _ := c.GetClient(ctx, api.DesktopClientID)
		none := []string{}
		if _, err := c.UpdateClient(ctx, cl.ID, cl.Version, api.OIDCClientUpdate{Scopes: &none}); code(err) != api.CodeSelfLockout {
			t.Fatalf("drop admin scope of own client: %v", err)
		}
		if got := f.get(super.ID); got.Version != super.Version {
			t.Fatal("refused self change was written")
		}
		// Renaming oneself is fine.
		name := "Renamed"
		if _, err := c.UpdateEmployee(ctx, super.ID, super.Version, api.EmployeeUpdate{GivenName: &name}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEmailChangeByAdmin: any change of the email through the API — here
// by an assigning manager — ends every session and token of the user,
// voids their open links and tells the old address, with the audit entry,
// in one transaction; disabling voids the links as well.
func TestEmailChangeByAdmin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		manager := f.active(storage.UserTypeEmployee, storage.RoleAssigningManager)
		emp := f.active(storage.UserTypeEmployee)
		mc := f.client(manager)
		if err := mc.SendEmployeePasswordReset(ctx, emp.ID); err != nil {
			t.Fatal(err)
		}
		empToken := f.token(emp)
		now := f.clock.Now()
		rt := storage.RefreshToken{IDHash: randHex(32), FamilyID: "fam-" + randHex(4), ClientID: f.adminClient.ID, UserID: emp.ID,
			Scopes: []string{"openid"}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := f.store.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
		if err := f.store.CreateSession(ctx, storage.Session{IDHash: "s-" + emp.ID, UserID: emp.ID, AuthTime: now, CreatedAt: now,
			LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		open := func() int {
			t.Helper()
			msgs := f.messages(emp.Email)
			n := 0
			for _, m := range msgs {
				if strings.Contains(m.Text, "/reset?token=") {
					n++
				}
			}
			return n
		}
		if open() != 1 {
			t.Fatal("no reset link sent")
		}

		newAddr := "moved-" + randHex(3) + "@example.com"
		u, err := mc.UpdateEmployee(ctx, emp.ID, emp.Version, api.EmployeeUpdate{Email: &newAddr})
		if err != nil || u.Email != newAddr || u.EmailVerified {
			t.Fatalf("update: %+v %v", u, err)
		}
		if got, _ := f.store.GetRefreshToken(ctx, rt.IDHash); got.RevokedAt.IsZero() {
			t.Fatal("refresh token live after an admin changed the email")
		}
		if _, err := f.store.GetSession(ctx, "s-"+emp.ID, f.clock.Now()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("session after an admin changed the email: %v", err)
		}
		if r := f.do("GET", api.BasePath+"/me", empToken, ""); r.status != 401 {
			t.Fatalf("access token after an admin changed the email: %d", r.status)
		}
		var notice bool
		for _, m := range f.messages(emp.Email) {
			if strings.Contains(m.Subject, "login email was changed") && strings.Contains(m.Text, newAddr) {
				notice = true
			}
		}
		if !notice {
			t.Fatal("no notice to the old address")
		}
		es, _, err := f.store.ListAudit(ctx, storage.AuditQuery{TargetID: emp.ID, Action: api.ActionEmployeeUpdate})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].ActorID != manager.ID || es[0].SourceAddr != "127.0.0.1" {
			t.Fatalf("audit: %+v", es)
		}
		assertNoOpenLinks(t, f, emp.ID)

		// Disabling voids the links sent since.
		admin := f.client(f.active(storage.UserTypeEmployee, storage.RoleAdmin))
		if err := admin.SendEmployeePasswordReset(ctx, emp.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.DisableEmployee(ctx, emp.ID); err != nil {
			t.Fatal(err)
		}
		assertNoOpenLinks(t, f, emp.ID)
	})
}

// assertNoOpenLinks fails when a one-time link of userID is open: every
// token the store has for the user is used or voided.
func assertNoOpenLinks(t *testing.T, f *fixture, userID string) {
	t.Helper()
	ctx := context.Background()
	msgs, err := f.store.ListMessages(ctx, storage.MessageQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)
	for _, m := range msgs {
		e, err := f.outbox.Open(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range re.FindAllStringSubmatch(e.Text, -1) {
			sum := sha256.Sum256([]byte(raw[1]))
			tok, err := f.store.GetOneTimeToken(ctx, hex.EncodeToString(sum[:]))
			if err != nil || tok.UserID != userID {
				continue
			}
			if tok.UsedAt.IsZero() && tok.VoidedAt.IsZero() {
				t.Fatalf("open %s link sent to %s", tok.Purpose, tok.SentTo)
			}
		}
	}
}
