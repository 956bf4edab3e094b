package adminapi

import (
	"net/http"
	"net/url"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// create answers POST /{section}: the user is stored invited and the
// invitation is queued, with the audit entry, in one transaction
// (account.InviteUser).
func (u userHandlers) create(w http.ResponseWriter, r *http.Request, c *call) {
	var nu storage.User
	var err error
	if u.s.typ == storage.UserTypeClinician {
		var in api.NewClinician
		if err = decode(w, r, &in); err == nil {
			nu, err = newClinician(in)
		}
	} else {
		var in api.NewEmployee
		if err = decode(w, r, &in); err == nil {
			nu, err = newEmployee(in)
		}
	}
	if err == nil && len(nu.Roles) > 0 {
		if d := authz.CanAssign(c.actor, nil, nu.Roles); d != nil {
			err = d
		}
	}
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	created, err := u.h.d.Accounts.InviteUser(r.Context(), nu, c.by(), u.s.actCreate)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", api.BasePath+"/"+u.s.path+"/"+url.PathEscape(created.ID))
	u.respond(w, r, http.StatusCreated, created)
}

func newEmployee(in api.NewEmployee) (storage.User, error) {
	f := fieldErrors{}
	u := storage.User{
		Type:       storage.UserTypeEmployee,
		Status:     storage.StatusInvited,
		GivenName:  f.text("given_name", in.GivenName, true),
		FamilyName: f.text("family_name", in.FamilyName, true),
		Email:      f.email(in.Email),
		Phone:      f.phone(in.Phone, false),
		JobTitle:   f.text("job_title", in.JobTitle, false),
		Department: f.text("department", in.Department, false),
	}
	f.roles(in.Roles)
	u.Roles = fromAPIRoles(in.Roles)
	return u, f.err()
}

func newClinician(in api.NewClinician) (storage.User, error) {
	f := fieldErrors{}
	u := storage.User{
		Type:       storage.UserTypeClinician,
		Status:     storage.StatusInvited,
		GivenName:  f.text("given_name", in.GivenName, true),
		FamilyName: f.text("family_name", in.FamilyName, true),
		Email:      f.email(in.Email),
		Phone:      f.phone(in.Phone, true),
		Discipline: f.discipline(in.Discipline),
		JobTitle:   f.text("job_title", in.JobTitle, false),
		Department: f.text("department", in.Department, false),
	}
	f.roles(in.Roles)
	u.Roles = fromAPIRoles(in.Roles)
	return u, f.err()
}
