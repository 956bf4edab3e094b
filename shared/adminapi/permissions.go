package adminapi

// Role is an administrative role. Employees and clinicians without one have
// no access to the admin API.
type Role string

const (
	RoleSuperAdmin       Role = "super_admin"
	RoleAdmin            Role = "admin"
	RoleAssigningManager Role = "assigning_manager"
)

// Roles lists every role, highest first.
var Roles = []Role{RoleSuperAdmin, RoleAdmin, RoleAssigningManager}

// UserType is the kind of user a record is.
type UserType string

const (
	UserTypeEmployee  UserType = "employee"
	UserTypeClinician UserType = "clinician"
)

// UserStatus is where a user is in their lifecycle.
type UserStatus string

const (
	// StatusInvited: created, invitation not yet accepted; cannot sign in.
	StatusInvited UserStatus = "invited"
	// StatusActive: may sign in.
	StatusActive UserStatus = "active"
	// StatusDisabled: may not sign in; sessions and tokens were revoked.
	StatusDisabled UserStatus = "disabled"
)

// Permission names one thing the admin API lets a caller do. Which roles
// hold which permissions is decided in one table on the server (package
// authz); GET /admin/v1/me lists the caller's, so a client can shape its UI.
//
// A permission on users is further limited by the target record: only
// super admins act on users who hold a role at or above their own, and
// nobody grants a role above what they may assign.
type Permission string

const (
	// Employees section.
	PermEmployeesRead   Permission = "employees.read"   // list, search, view
	PermEmployeesWrite  Permission = "employees.write"  // create (invites), edit profile
	PermEmployeesRoles  Permission = "employees.roles"  // set roles
	PermEmployeesStatus Permission = "employees.status" // disable, enable
	PermEmployeesNotify Permission = "employees.notify" // send password reset, re-send invitation
	PermEmployeesMFA    Permission = "employees.mfa"    // reset the second sign-in factor

	// Clinicians section.
	PermCliniciansRead   Permission = "clinicians.read"
	PermCliniciansWrite  Permission = "clinicians.write"
	PermCliniciansRoles  Permission = "clinicians.roles"
	PermCliniciansStatus Permission = "clinicians.status"
	PermCliniciansNotify Permission = "clinicians.notify"
	PermCliniciansMFA    Permission = "clinicians.mfa"
	// PermCliniciansMobile: clinicians' mobile credentials (phone-linked
	// PIN): reset, re-activate.
	PermCliniciansMobile Permission = "clinicians.mobile_credentials"

	// PermAdminsManage: act on users who hold admin or super_admin, and
	// grant those roles.
	PermAdminsManage Permission = "admins.manage"

	// OIDC clients (the CliniConnects modules).
	PermClientsRead  Permission = "clients.read"
	PermClientsWrite Permission = "clients.write" // create, update, rotate secret, delete

	// PermAuditRecords: the audit entries of the user records the caller
	// may view.
	PermAuditRecords Permission = "audit.records"
	// PermAuditAll: the whole audit log.
	PermAuditAll Permission = "audit.all"
)

// Permissions lists every permission.
var Permissions = []Permission{
	PermEmployeesRead, PermEmployeesWrite, PermEmployeesRoles, PermEmployeesStatus, PermEmployeesNotify,
	PermCliniciansRead, PermCliniciansWrite, PermCliniciansRoles, PermCliniciansStatus, PermCliniciansNotify,
	PermCliniciansMobile,
	PermEmployeesMFA, PermCliniciansMFA,
	PermAdminsManage,
	PermClientsRead, PermClientsWrite,
	PermAuditRecords, PermAuditAll,
}

// Audit actions the admin API records.
const (
	ActionEmployeeCreate        = "employee.create"
	ActionEmployeeUpdate        = "employee.update"
	ActionEmployeeSetRoles      = "employee.set_roles"
	ActionEmployeeDisable       = "employee.disable"
	ActionEmployeeEnable        = "employee.enable"
	ActionEmployeePasswordReset = "employee.password_reset"
	ActionEmployeeInvitation    = "employee.invitation"

	ActionClinicianCreate        = "clinician.create"
	ActionClinicianUpdate        = "clinician.update"
	ActionClinicianSetRoles      = "clinician.set_roles"
	ActionClinicianDisable       = "clinician.disable"
	ActionClinicianEnable        = "clinician.enable"
	ActionClinicianPasswordReset = "clinician.password_reset"
	ActionClinicianInvitation    = "clinician.invitation"

	// The second factor of a user was reset (removed) by an admin.
	ActionEmployeeMFAReset  = "employee.mfa_reset"
	ActionClinicianMFAReset = "clinician.mfa_reset"

	ActionClientCreate       = "client.create"
	ActionClientUpdate       = "client.update"
	ActionClientRotateSecret = "client.rotate_secret"
	ActionClientDelete       = "client.delete"
)

// Audit actions of sign-in, written by the provider's sign-in (not by this
// API) with the source address: actor and target are the user on success;
// failures and locks name the account as target only, or nothing for an
// email without an account.
const (
	ActionSigninSuccess = "signin.success"
	ActionSigninFailure = "signin.failure"
	ActionSigninLock    = "signin.lock"   // a failure locked the account, a device or a source
	ActionSigninUnlock  = "signin.unlock" // a lock lifted before it ran out
)

// Disciplines are the clinician disciplines the API accepts.
var Disciplines = []string{"RN", "LPN", "PT", "OT", "SLP", "HHA", "MSW", "PTA", "COTA", "CNA", "MD", "NP"}
