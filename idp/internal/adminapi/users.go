package adminapi

import (
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// section is one of the two user sections, Employees and Clinicians: the
// same actions on a different user type under different permissions.
type section struct {
	path   string // "employees"
	typ    storage.UserType
	read   api.Permission
	write  api.Permission
	roles  api.Permission
	status api.Permission
	notify api.Permission
	// audit action names
	actCreate, actUpdate, actSetRoles, actDisable, actEnable, actReset, actInvite string
}

var employeesSection = &section{
	path: "employees", typ: storage.UserTypeEmployee,
	read: api.PermEmployeesRead, write: api.PermEmployeesWrite, roles: api.PermEmployeesRoles,
	status: api.PermEmployeesStatus, notify: api.PermEmployeesNotify,
	actCreate: api.ActionEmployeeCreate, actUpdate: api.ActionEmployeeUpdate, actSetRoles: api.ActionEmployeeSetRoles,
	actDisable: api.ActionEmployeeDisable, actEnable: api.ActionEmployeeEnable,
	actReset: api.ActionEmployeePasswordReset, actInvite: api.ActionEmployeeInvitation,
}

var cliniciansSection = &section{
	path: "clinicians", typ: storage.UserTypeClinician,
	read: api.PermCliniciansRead, write: api.PermCliniciansWrite, roles: api.PermCliniciansRoles,
	status: api.PermCliniciansStatus, notify: api.PermCliniciansNotify,
	actCreate: api.ActionClinicianCreate, actUpdate: api.ActionClinicianUpdate, actSetRoles: api.ActionClinicianSetRoles,
	actDisable: api.ActionClinicianDisable, actEnable: api.ActionClinicianEnable,
	actReset: api.ActionClinicianPasswordReset, actInvite: api.ActionClinicianInvitation,
}

// userHandlers are the handlers of one section.
type userHandlers struct {
	h *Handler
	s *section
}

func (h *Handler) users(s *section) userHandlers { return userHandlers{h: h, s: s} }

// targetTypeUser is the audit target type of user records.
const targetTypeUser = "user"
