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
// (account.InviteUser). With ?dry_run=true the request is checked exactly
// as a create — the same members, roles the caller may grant, a taken
// email or phone — and answered with the same errors, or 204 when it would
// succeed; nothing is stored, sent or audited (account.CheckInviteUser).
func (u userHandlers) create(w http.ResponseWriter, r *http.Request, c *call) {
	dryRun, err := parseDryRun(r.URL.RawQuery)
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	nu, err := u.decodeNew(w, r)
	if err == nil && len(nu.Roles) > 0 {
		if d := authz.CanAssign(c.actor, nil, nu.Roles); d != nil {
			err = d
		}
	}
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	if dryRun {
		if err := u.h.d.Accounts.CheckInviteUser(r.Context(), nu, c.by(), u.s.actCreate); err != nil {
			u.h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
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

// decodeNew reads and validates the section's create request.
func (u userHandlers) decodeNew(w http.ResponseWriter, r *http.Request) (storage.User, error) {
	if u.s.typ == storage.UserTypeClinician {
		var in api.NewClinician
		if err := decode(w, r, &in); err != nil {
			return storage.User{}, err
		}
		return newClinician(in)
	}
	var in api.NewEmployee
	if err := decode(w, r, &in); err != nil {
		return storage.User{}, err
	}
	return newEmployee(in)
}

// parseDryRun reads a create's query: nothing, or dry_run=true|false.
// Anything else is refused, so that a misspelt dry run never creates.
func parseDryRun(raw string) (bool, error) {
	v, err := parseQuery(raw)
	if err != nil {
		return false, err
	}
	bad := map[string]string{}
	dry := false
	for k, vals := range v {
		switch {
		case k != "dry_run":
			bad[k] = "unknown query parameter (only dry_run)"
		case len(vals) != 1 || (vals[0] != "true" && vals[0] != "false"):
			bad[k] = "must be true or false"
		default:
			dry = vals[0] == "true"
		}
	}
	if len(bad) > 0 {
		return false, fieldsErr(api.CodeInvalidQuery, "some query parameters are invalid", bad)
	}
	return dry, nil
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
