package ui

import (
	"context"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// userKind is what differs between the Employees and Clinicians sections:
// names, permissions and which routes of the admin API they use.
type userKind struct {
	typ                                adminapi.UserType
	title                              string // "Employees"
	singular                           string // "employee"
	read, write, roles, status, notify adminapi.Permission
	mfa                                adminapi.Permission // reset the second factor
}

var (
	employees = userKind{typ: adminapi.UserTypeEmployee, title: "Employees", singular: "employee",
		read: adminapi.PermEmployeesRead, write: adminapi.PermEmployeesWrite, roles: adminapi.PermEmployeesRoles,
		status: adminapi.PermEmployeesStatus, notify: adminapi.PermEmployeesNotify, mfa: adminapi.PermEmployeesMFA}
	clinicians = userKind{typ: adminapi.UserTypeClinician, title: "Clinicians", singular: "clinician",
		read: adminapi.PermCliniciansRead, write: adminapi.PermCliniciansWrite, roles: adminapi.PermCliniciansRoles,
		status: adminapi.PermCliniciansStatus, notify: adminapi.PermCliniciansNotify, mfa: adminapi.PermCliniciansMFA}
)

func (k userKind) clinician() bool { return k.typ == adminapi.UserTypeClinician }

// profile is the editable part of a user record.
type profile struct {
	GivenName, FamilyName, Email, Phone, Discipline, JobTitle, Department string
}

func profileOf(u adminapi.User) profile {
	return profile{u.GivenName, u.FamilyName, u.Email, u.Phone, u.Discipline, u.JobTitle, u.Department}
}

// userAPI is the admin API's user routes for one kind.
type userAPI struct {
	c *adminapi.Client
	k userKind
}

func (a userAPI) list(ctx context.Context, o adminapi.ListUsersOptions) (adminapi.UserList, error) {
	if a.k.clinician() {
		return a.c.ListClinicians(ctx, o)
	}
	return a.c.ListEmployees(ctx, o)
}

func (a userAPI) get(ctx context.Context, id string) (adminapi.User, error) {
	if a.k.clinician() {
		return a.c.GetClinician(ctx, id)
	}
	return a.c.GetEmployee(ctx, id)
}

func (a userAPI) create(ctx context.Context, p profile, roles []adminapi.Role) (adminapi.User, error) {
	if a.k.clinician() {
		return a.c.CreateClinician(ctx, newClinician(p, roles))
	}
	return a.c.CreateEmployee(ctx, newEmployee(p, roles))
}

// dryRun is create's dry run: the server checks the request exactly as a
// create and creates nothing.
func (a userAPI) dryRun(ctx context.Context, p profile, roles []adminapi.Role) error {
	if a.k.clinician() {
		return a.c.DryRunCreateClinician(ctx, newClinician(p, roles))
	}
	return a.c.DryRunCreateEmployee(ctx, newEmployee(p, roles))
}

func newClinician(p profile, roles []adminapi.Role) adminapi.NewClinician {
	return adminapi.NewClinician{GivenName: p.GivenName, FamilyName: p.FamilyName,
		Email: p.Email, Phone: p.Phone, Discipline: p.Discipline, JobTitle: p.JobTitle, Department: p.Department, Roles: roles}
}

func newEmployee(p profile, roles []adminapi.Role) adminapi.NewEmployee {
	return adminapi.NewEmployee{GivenName: p.GivenName, FamilyName: p.FamilyName,
		Email: p.Email, Phone: p.Phone, JobTitle: p.JobTitle, Department: p.Department, Roles: roles}
}

// update sends the members of p that differ from old, at version.
func (a userAPI) update(ctx context.Context, id string, version int64, old, p profile) (adminapi.User, error) {
	ch := func(o, n string) *string {
		if o == n {
			return nil
		}
		return &n
	}
	if a.k.clinician() {
		return a.c.UpdateClinician(ctx, id, version, adminapi.ClinicianUpdate{
			GivenName: ch(old.GivenName, p.GivenName), FamilyName: ch(old.FamilyName, p.FamilyName),
			Email: ch(old.Email, p.Email), Phone: ch(old.Phone, p.Phone), Discipline: ch(old.Discipline, p.Discipline),
			JobTitle: ch(old.JobTitle, p.JobTitle), Department: ch(old.Department, p.Department)})
	}
	return a.c.UpdateEmployee(ctx, id, version, adminapi.EmployeeUpdate{
		GivenName: ch(old.GivenName, p.GivenName), FamilyName: ch(old.FamilyName, p.FamilyName),
		Email: ch(old.Email, p.Email), Phone: ch(old.Phone, p.Phone),
		JobTitle: ch(old.JobTitle, p.JobTitle), Department: ch(old.Department, p.Department)})
}

func (a userAPI) setRoles(ctx context.Context, id string, version int64, roles []adminapi.Role) (adminapi.User, error) {
	if a.k.clinician() {
		return a.c.SetClinicianRoles(ctx, id, version, roles)
	}
	return a.c.SetEmployeeRoles(ctx, id, version, roles)
}

func (a userAPI) disable(ctx context.Context, id string) (adminapi.User, error) {
	if a.k.clinician() {
		return a.c.DisableClinician(ctx, id)
	}
	return a.c.DisableEmployee(ctx, id)
}

func (a userAPI) enable(ctx context.Context, id string) (adminapi.User, error) {
	if a.k.clinician() {
		return a.c.EnableClinician(ctx, id)
	}
	return a.c.EnableEmployee(ctx, id)
}

func (a userAPI) passwordReset(ctx context.Context, id string) error {
	if a.k.clinician() {
		return a.c.SendClinicianPasswordReset(ctx, id)
	}
	return a.c.SendEmployeePasswordReset(ctx, id)
}

func (a userAPI) resendInvitation(ctx context.Context, id string) error {
	if a.k.clinician() {
		return a.c.ResendClinicianInvitation(ctx, id)
	}
	return a.c.ResendEmployeeInvitation(ctx, id)
}

func (a userAPI) resetMFA(ctx context.Context, id string) (adminapi.User, error) {
	if a.k.clinician() {
		return a.c.ResetClinicianMFA(ctx, id)
	}
	return a.c.ResetEmployeeMFA(ctx, id)
}

// roleRank orders roles as the server does: super_admin 3 … none 0.
func roleRank(roles []adminapi.Role) int {
	n := 0
	for _, r := range roles {
		switch r {
		case adminapi.RoleSuperAdmin:
			n = max(n, 3)
		case adminapi.RoleAdmin:
			n = max(n, 2)
		case adminapi.RoleAssigningManager:
			n = max(n, 1)
		}
	}
	return n
}

// mayTouch mirrors the server's rank rule: only those who manage admins
// act on users holding a role at or above their own. (The server decides;
// this only keeps the UI from offering what it would refuse.)
func (u *UI) mayTouch(target adminapi.User) bool {
	return u.can(adminapi.PermAdminsManage) || roleRank(target.Roles) < roleRank(u.me.User.Roles)
}

// roleLabel is a role's name for people.
func roleLabel(r adminapi.Role) string {
	switch r {
	case adminapi.RoleSuperAdmin:
		return "Super admin"
	case adminapi.RoleAdmin:
		return "Admin"
	case adminapi.RoleAssigningManager:
		return "Assigning manager"
	}
	return string(r)
}

func rolesText(roles []adminapi.Role) string {
	s := ""
	for i, r := range roles {
		if i > 0 {
			s += ", "
		}
		s += roleLabel(r)
	}
	return s
}

func statusLabel(s adminapi.UserStatus) string {
	switch s {
	case adminapi.StatusActive:
		return "Active"
	case adminapi.StatusInvited:
		return "Invited"
	case adminapi.StatusDisabled:
		return "Disabled"
	}
	return string(s)
}
