package authz

import (
	"slices"

	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// table is THE role → permission table. Everything else in this package
// and in the admin API derives from it.
var table = map[storage.Role][]adminapi.Permission{
	// Everything, including admins and super admins, OIDC clients and the
	// whole audit log.
	storage.RoleSuperAdmin: adminapi.Permissions,
	// Employees and Clinicians sections, clinicians' mobile credentials,
	// roles up to assigning_manager, disable/enable of users below admin,
	// resetting their second factor, the audit entries of those records.
	storage.RoleAdmin: {
		adminapi.PermEmployeesRead, adminapi.PermEmployeesWrite, adminapi.PermEmployeesRoles,
		adminapi.PermEmployeesStatus, adminapi.PermEmployeesNotify,
		adminapi.PermCliniciansRead, adminapi.PermCliniciansWrite, adminapi.PermCliniciansRoles,
		adminapi.PermCliniciansStatus, adminapi.PermCliniciansNotify, adminapi.PermCliniciansMobile,
		adminapi.PermEmployeesMFA, adminapi.PermCliniciansMFA,
		adminapi.PermAuditRecords,
	},
	// Employees section only: list, view, create, edit employees who hold
	// no role; send them a password reset or a new invitation.
	storage.RoleAssigningManager: {
		adminapi.PermEmployeesRead, adminapi.PermEmployeesWrite, adminapi.PermEmployeesNotify,
	},
}

// Set is a set of permissions.
type Set map[adminapi.Permission]bool

// Has reports whether p is in the set.
func (s Set) Has(p adminapi.Permission) bool { return s[p] }

// List returns the permissions in adminapi.Permissions order.
func (s Set) List() []adminapi.Permission {
	out := []adminapi.Permission{}
	for _, p := range adminapi.Permissions {
		if s[p] {
			out = append(out, p)
		}
	}
	return out
}

// Permissions returns the union of the permissions of roles. Employees and
// clinicians without a role get none.
func Permissions(roles []storage.Role) Set {
	s := Set{}
	for _, r := range roles {
		for _, p := range table[r] {
			s[p] = true
		}
	}
	return s
}

// Rank orders roles: super_admin 3, admin 2, assigning_manager 1, none 0.
func Rank(r storage.Role) int {
	switch r {
	case storage.RoleSuperAdmin:
		return 3
	case storage.RoleAdmin:
		return 2
	case storage.RoleAssigningManager:
		return 1
	}
	return 0
}

// UserRank is the rank of the highest role u holds.
func UserRank(roles []storage.Role) int {
	n := 0
	for _, r := range roles {
		n = max(n, Rank(r))
	}
	return n
}

// Denial says why an action is refused.
type Denial struct {
	Code   adminapi.ErrorCode // forbidden, role_not_grantable, self_lockout, last_super_admin
	Reason string             // fit to show to the caller
}

func (d *Denial) Error() string { return string(d.Code) + ": " + d.Reason }

func deny(code adminapi.ErrorCode, reason string) *Denial { return &Denial{Code: code, Reason: reason} }

// sectionOf is the user type a permission's section covers ("" for none).
func sectionOf(p adminapi.Permission) storage.UserType {
	switch p {
	case adminapi.PermEmployeesRead, adminapi.PermEmployeesWrite, adminapi.PermEmployeesRoles,
		adminapi.PermEmployeesStatus, adminapi.PermEmployeesNotify, adminapi.PermEmployeesMFA:
		return storage.UserTypeEmployee
	case adminapi.PermCliniciansRead, adminapi.PermCliniciansWrite, adminapi.PermCliniciansRoles,
		adminapi.PermCliniciansStatus, adminapi.PermCliniciansNotify, adminapi.PermCliniciansMobile,
		adminapi.PermCliniciansMFA:
		return storage.UserTypeClinician
	}
	return ""
}

// Can decides whether actor may use permission p on target (nil for
// actions on no record: list, create). A nil result allows.
//
// On a user target the permission's section must match the target's type,
// and the target must rank below the actor — unless the actor may manage
// admins (super admins), who may act on anyone.
func Can(actor storage.User, p adminapi.Permission, target *storage.User) *Denial {
	if actor.Status != storage.StatusActive {
		return deny(adminapi.CodeForbidden, "your account is not active")
	}
	perms := Permissions(actor.Roles)
	if !perms.Has(p) {
		return deny(adminapi.CodeForbidden, "your roles do not allow "+string(p))
	}
	if target == nil {
		return nil
	}
	if sec := sectionOf(p); sec != "" && sec != target.Type {
		return deny(adminapi.CodeForbidden, string(p)+" does not cover a "+string(target.Type))
	}
	if !CanTouch(actor, *target) {
		return deny(adminapi.CodeForbidden, "only a super admin may act on a user who holds a role at or above yours")
	}
	return nil
}

// CanTouch reports whether actor may act on target at all by rank: the
// target ranks below the actor, or the actor manages admins.
func CanTouch(actor, target storage.User) bool {
	if Permissions(actor.Roles).Has(adminapi.PermAdminsManage) {
		return true
	}
	return UserRank(target.Roles) < UserRank(actor.Roles)
}

// OutOfReach returns the roles whose holders actor may not act on, by
// rank (CanTouch): none for one who manages admins, else every role
// ranking at or above the actor's highest. Lists leave their holders out
// in the query itself.
func OutOfReach(actor storage.User) []storage.Role {
	if Permissions(actor.Roles).Has(adminapi.PermAdminsManage) {
		return nil
	}
	rank := UserRank(actor.Roles)
	var out []storage.Role
	for _, r := range storage.Roles {
		if Rank(r) >= rank {
			out = append(out, r)
		}
	}
	return out
}

// Assignable returns the roles actor may grant and revoke: every role for
// one who manages admins; otherwise those ranking below the actor's, if the
// actor may set roles at all.
func Assignable(actor storage.User) []storage.Role {
	perms := Permissions(actor.Roles)
	if perms.Has(adminapi.PermAdminsManage) {
		return slices.Clone(storage.Roles)
	}
	if !perms.Has(adminapi.PermEmployeesRoles) && !perms.Has(adminapi.PermCliniciansRoles) {
		return []storage.Role{}
	}
	out := []storage.Role{}
	rank := UserRank(actor.Roles)
	for _, r := range storage.Roles {
		if Rank(r) < rank {
			out = append(out, r)
		}
	}
	return out
}

// CanAssign decides whether actor may change a user's roles from before to
// after: every role granted or revoked must be assignable by the actor.
func CanAssign(actor storage.User, before, after []storage.Role) *Denial {
	ok := Assignable(actor)
	for _, r := range storage.Roles {
		if slices.Contains(before, r) != slices.Contains(after, r) && !slices.Contains(ok, r) {
			return deny(adminapi.CodeRoleNotGrantable, "you may not grant or revoke the role "+string(r))
		}
	}
	for _, r := range after {
		if !r.Valid() {
			return deny(adminapi.CodeRoleNotGrantable, "unknown role "+string(r))
		}
	}
	return nil
}

// CheckSelf refuses a change an actor makes to their own record that would
// lock them out: leaving active status or dropping a role they hold.
// before and after are the target's record around the change.
func CheckSelf(actor storage.User, before, after storage.User) *Denial {
	if actor.ID != before.ID {
		return nil
	}
	if before.Status == storage.StatusActive && after.Status != storage.StatusActive {
		return deny(adminapi.CodeSelfLockout, "you cannot disable yourself")
	}
	for _, r := range before.Roles {
		if !slices.Contains(after.Roles, r) {
			return deny(adminapi.CodeSelfLockout, "you cannot remove your own role "+string(r))
		}
	}
	return nil
}

// LosesSuperAdmin reports whether a change takes an active super admin
// away (disabled or demoted): the store must then still hold another one.
func LosesSuperAdmin(before, after storage.User) bool {
	was := before.Status == storage.StatusActive && before.HasRole(storage.RoleSuperAdmin)
	is := after.Status == storage.StatusActive && after.HasRole(storage.RoleSuperAdmin)
	return was && !is
}

// IsStaff reports whether roles give any access to the admin API.
func IsStaff(roles []storage.Role) bool { return len(Permissions(roles)) > 0 }
