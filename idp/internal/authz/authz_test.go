package authz

import (
	"slices"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/shared/adminapi"
)

var (
	super   = storage.RoleSuperAdmin
	admin   = storage.RoleAdmin
	manager = storage.RoleAssigningManager
)

func user(id string, typ storage.UserType, roles ...storage.Role) storage.User {
	return storage.User{ID: id, Type: typ, Status: storage.StatusActive, Roles: roles}
}

// TestTable pins the role → permission table: the words, one row
// per role.
func TestTable(t *testing.T) {
	all := adminapi.Permissions
	cases := []struct {
		roles []storage.Role
		want  []adminapi.Permission
	}{
		{[]storage.Role{super}, all},
		{[]storage.Role{admin}, []adminapi.Permission{
			adminapi.PermEmployeesRead, adminapi.PermEmployeesWrite, adminapi.PermEmployeesRoles, adminapi.PermEmployeesStatus, adminapi.PermEmployeesNotify,
			adminapi.PermCliniciansRead, adminapi.PermCliniciansWrite, adminapi.PermCliniciansRoles, adminapi.PermCliniciansStatus, adminapi.PermCliniciansNotify,
			adminapi.PermCliniciansMobile, adminapi.PermEmployeesMFA, adminapi.PermCliniciansMFA, adminapi.PermAuditRecords}},
		{[]storage.Role{manager}, []adminapi.Permission{adminapi.PermEmployeesRead, adminapi.PermEmployeesWrite, adminapi.PermEmployeesNotify}},
		{nil, []adminapi.Permission{}},
		{[]storage.Role{manager, admin}, Permissions([]storage.Role{admin}).List()},
	}
	for _, c := range cases {
		if got := Permissions(c.roles).List(); !slices.Equal(got, c.want) {
			t.Errorf("Permissions(%v) = %v, want %v", c.roles, got, c.want)
		}
	}
	for r, perms := range table {
		if !r.Valid() {
			t.Errorf("table names unknown role %q", r)
		}
		for _, p := range perms {
			if !slices.Contains(adminapi.Permissions, p) {
				t.Errorf("table gives %s the unknown permission %q", r, p)
			}
		}
	}
	if IsStaff(nil) || !IsStaff([]storage.Role{manager}) {
		t.Error("IsStaff")
	}
}

// TestCan runs each role against each kind of target and permission.
func TestCan(t *testing.T) {
	emp := user("e", storage.UserTypeEmployee)
	clin := user("c", storage.UserTypeClinician)
	empMgr := user("em", storage.UserTypeEmployee, manager)
	empAdmin := user("ea", storage.UserTypeEmployee, admin)
	empSuper := user("es", storage.UserTypeEmployee, super)
	clinMgr := user("cm", storage.UserTypeClinician, manager)

	actors := map[string]storage.User{
		"super":     user("S", storage.UserTypeEmployee, super),
		"admin":     user("A", storage.UserTypeEmployee, admin),
		"manager":   user("M", storage.UserTypeEmployee, manager),
		"employee":  user("E", storage.UserTypeEmployee),
		"clinician": user("C", storage.UserTypeClinician),
	}
	disabled := user("D", storage.UserTypeEmployee, super)
	disabled.Status = storage.StatusDisabled
	actors["disabled super"] = disabled

	type tc struct {
		perm   adminapi.Permission
		target *storage.User
		allow  []string // actors allowed; everyone else is refused
	}
	cases := []tc{
		{adminapi.PermEmployeesRead, nil, []string{"super", "admin", "manager"}},
		{adminapi.PermEmployeesRead, &emp, []string{"super", "admin", "manager"}},
		{adminapi.PermEmployeesWrite, &emp, []string{"super", "admin", "manager"}},
		{adminapi.PermEmployeesNotify, &emp, []string{"super", "admin", "manager"}},
		{adminapi.PermEmployeesStatus, &emp, []string{"super", "admin"}},
		{adminapi.PermEmployeesRoles, &emp, []string{"super", "admin"}},
		// An assigning manager edits only employees who hold no role.
		{adminapi.PermEmployeesWrite, &empMgr, []string{"super", "admin"}},
		{adminapi.PermEmployeesRead, &empMgr, []string{"super", "admin"}},
		{adminapi.PermEmployeesStatus, &empMgr, []string{"super", "admin"}},
		// Admins and super admins are the super admins' to manage.
		{adminapi.PermEmployeesWrite, &empAdmin, []string{"super"}},
		{adminapi.PermEmployeesRead, &empAdmin, []string{"super"}},
		{adminapi.PermEmployeesStatus, &empSuper, []string{"super"}},
		{adminapi.PermEmployeesRoles, &empSuper, []string{"super"}},
		// Clinicians: admins and super admins, never assigning managers.
		{adminapi.PermCliniciansRead, nil, []string{"super", "admin"}},
		{adminapi.PermCliniciansWrite, &clin, []string{"super", "admin"}},
		{adminapi.PermCliniciansMobile, &clin, []string{"super", "admin"}},
		{adminapi.PermCliniciansStatus, &clinMgr, []string{"super", "admin"}},
		// Second factors: admins reset those of users below them, super
		// admins everyone's; an assigning manager no one's.
		{adminapi.PermEmployeesMFA, &emp, []string{"super", "admin"}},
		{adminapi.PermEmployeesMFA, &empMgr, []string{"super", "admin"}},
		{adminapi.PermEmployeesMFA, &empAdmin, []string{"super"}},
		{adminapi.PermEmployeesMFA, &empSuper, []string{"super"}},
		{adminapi.PermCliniciansMFA, &clin, []string{"super", "admin"}},
		{adminapi.PermCliniciansMFA, &emp, []string{}},
		{adminapi.PermEmployeesMFA, &clin, []string{}},
		// A permission of one section does not reach the other.
		{adminapi.PermEmployeesWrite, &clin, []string{}},
		{adminapi.PermCliniciansWrite, &emp, []string{}},
		{adminapi.PermClientsRead, nil, []string{"super"}},
		{adminapi.PermClientsWrite, nil, []string{"super"}},
		{adminapi.PermAuditAll, nil, []string{"super"}},
		{adminapi.PermAuditRecords, nil, []string{"super", "admin"}},
		{adminapi.PermAdminsManage, nil, []string{"super"}},
	}
	for _, c := range cases {
		for name, actor := range actors {
			target := "-"
			if c.target != nil {
				target = c.target.ID
			}
			t.Run(string(c.perm)+"/"+target+"/"+name, func(t *testing.T) {
				d := Can(actor, c.perm, c.target)
				want := slices.Contains(c.allow, name)
				if (d == nil) != want {
					t.Errorf("Can = %v, want allowed=%v", d, want)
				}
				if d != nil && d.Code != adminapi.CodeForbidden {
					t.Errorf("code %s, want forbidden", d.Code)
				}
			})
		}
	}
}

// TestEscalation: nobody grants or revokes a role above what they may
// assign.
func TestEscalation(t *testing.T) {
	S := user("S", storage.UserTypeEmployee, super)
	A := user("A", storage.UserTypeEmployee, admin)
	M := user("M", storage.UserTypeEmployee, manager)
	E := user("E", storage.UserTypeEmployee)
	r := func(rs ...storage.Role) []storage.Role { return rs }
	cases := []struct {
		name          string
		actor         storage.User
		before, after []storage.Role
		ok            bool
	}{
		{"super grants super", S, r(), r(super), true},
		{"super grants admin", S, r(), r(admin), true},
		{"super revokes super", S, r(super), r(), true},
		{"admin grants manager", A, r(), r(manager), true},
		{"admin revokes manager", A, r(manager), r(), true},
		{"admin grants admin", A, r(), r(admin), false},
		{"admin grants super", A, r(), r(super), false},
		{"admin revokes admin", A, r(admin), r(), false},
		{"admin keeps admin unchanged while granting manager", A, r(admin), r(admin, manager), true},
		{"manager grants manager", M, r(), r(manager), false},
		{"manager grants nothing", M, r(), r(), true},
		{"employee grants manager", E, r(), r(manager), false},
		{"unknown role", S, r(), r("root"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := CanAssign(c.actor, c.before, c.after)
			if (d == nil) != c.ok {
				t.Fatalf("CanAssign = %v, want ok=%v", d, c.ok)
			}
			if d != nil && d.Code != adminapi.CodeRoleNotGrantable {
				t.Errorf("code %s", d.Code)
			}
		})
	}
	for _, c := range []struct {
		actor storage.User
		want  []storage.Role
	}{
		{S, storage.Roles}, {A, r(manager)}, {M, r()}, {E, r()},
	} {
		if got := Assignable(c.actor); !slices.Equal(got, c.want) {
			t.Errorf("Assignable(%v) = %v, want %v", c.actor.Roles, got, c.want)
		}
	}
}

func TestSelfAndLastSuperAdmin(t *testing.T) {
	S := user("S", storage.UserTypeEmployee, super)
	other := user("O", storage.UserTypeEmployee, super)
	disabledS := S
	disabledS.Status = storage.StatusDisabled
	demotedS := S
	demotedS.Roles = []storage.Role{admin}
	renamed := S
	renamed.GivenName = "New"
	cases := []struct {
		name          string
		before, after storage.User
		self          adminapi.ErrorCode // "" allowed
		loses         bool
	}{
		{"disable self", S, disabledS, adminapi.CodeSelfLockout, true},
		{"demote self", S, demotedS, adminapi.CodeSelfLockout, true},
		{"rename self", S, renamed, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := CheckSelf(S, c.before, c.after)
			if (d == nil) != (c.self == "") || (d != nil && d.Code != c.self) {
				t.Errorf("CheckSelf = %v, want %q", d, c.self)
			}
			if d := CheckSelf(other, c.before, c.after); d != nil {
				t.Errorf("another actor: %v", d)
			}
			if got := LosesSuperAdmin(c.before, c.after); got != c.loses {
				t.Errorf("LosesSuperAdmin = %v", got)
			}
		})
	}
}

// TestOutOfReach: the roles a list leaves out are exactly those whose
// holders CanTouch refuses.
func TestOutOfReach(t *testing.T) {
	holders := [][]storage.Role{nil, {storage.RoleAssigningManager}, {storage.RoleAdmin}, {storage.RoleSuperAdmin},
		{storage.RoleAdmin, storage.RoleAssigningManager}}
	for _, actorRoles := range holders[1:] {
		actor := storage.User{ID: "a", Status: storage.StatusActive, Roles: actorRoles}
		hidden := OutOfReach(actor)
		for _, roles := range holders {
			target := storage.User{ID: "t", Roles: roles}
			listed := !slices.ContainsFunc(roles, func(r storage.Role) bool { return slices.Contains(hidden, r) })
			if listed != CanTouch(actor, target) {
				t.Errorf("actor %v, target %v: listed %v, CanTouch %v", actorRoles, roles, listed, CanTouch(actor, target))
			}
		}
	}
}
