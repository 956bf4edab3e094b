package adminapi

import (
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// profilePatch is a validated PATCH: the members that were sent.
type profilePatch struct {
	givenName, familyName, email, phone, jobTitle, department, discipline *string
}

// update answers PATCH /{section}/{id}: profile fields, guarded by the
// record's version.
func (u userHandlers) update(w http.ResponseWriter, r *http.Request, c *call) {
	var p profilePatch
	var version int64
	var err error
	if u.s.typ == storage.UserTypeClinician {
		var in api.ClinicianUpdate
		if err = decode(w, r, &in); err == nil {
			version = in.Version
			p, err = clinicianPatch(in)
		}
	} else {
		var in api.EmployeeUpdate
		if err = decode(w, r, &in); err == nil {
			version = in.Version
			p, err = employeePatch(in)
		}
	}
	pre, perr := readPrecondition(r, version)
	if err == nil {
		err = perr
	}
	if err == nil {
		err = pre.require()
	}
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	out, err := u.h.changeUser(r.Context(), c, userChange{
		s: u.s, id: r.PathValue("id"), perm: u.s.write, pre: pre, action: u.s.actUpdate,
		apply: p.apply,
	})
	if err != nil {
		u.h.fail(w, r, err)
		return
	}
	u.respond(w, r, http.StatusOK, out)
}

func employeePatch(in api.EmployeeUpdate) (profilePatch, error) {
	f := fieldErrors{}
	p := profilePatch{}
	if in.GivenName != nil {
		p.givenName = ptr(f.text("given_name", *in.GivenName, true))
	}
	if in.FamilyName != nil {
		p.familyName = ptr(f.text("family_name", *in.FamilyName, true))
	}
	if in.Email != nil {
		p.email = ptr(f.email(*in.Email))
	}
	if in.Phone != nil {
		p.phone = ptr(f.phone(*in.Phone, false))
	}
	if in.JobTitle != nil {
		p.jobTitle = ptr(f.text("job_title", *in.JobTitle, false))
	}
	if in.Department != nil {
		p.department = ptr(f.text("department", *in.Department, false))
	}
	return p, f.err()
}

func clinicianPatch(in api.ClinicianUpdate) (profilePatch, error) {
	p, err := employeePatch(api.EmployeeUpdate{GivenName: in.GivenName, FamilyName: in.FamilyName,
		Email: in.Email, JobTitle: in.JobTitle, Department: in.Department})
	f := fieldErrors{}
	if fe, ok := err.(*apiError); ok {
		f = fe.fields
	}
	if in.Phone != nil {
		p.phone = ptr(f.phone(*in.Phone, true))
	}
	if in.Discipline != nil {
		p.discipline = ptr(f.discipline(*in.Discipline))
	}
	return p, f.err()
}

func ptr[T any](v T) *T { return &v }

// apply sets the sent members on u; errUnchanged when they equal what u
// has. (What a new email entails — unverified, grants revoked, links
// voided, the old address told — is account.EditUser's.)
func (p profilePatch) apply(u *storage.User) error {
	before := *u
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.GivenName, p.givenName)
	set(&u.FamilyName, p.familyName)
	set(&u.Email, p.email)
	set(&u.Phone, p.phone)
	set(&u.JobTitle, p.jobTitle)
	set(&u.Department, p.department)
	set(&u.Discipline, p.discipline)
	if u.GivenName == before.GivenName && u.FamilyName == before.FamilyName && u.Email == before.Email &&
		u.Phone == before.Phone && u.JobTitle == before.JobTitle && u.Department == before.Department &&
		u.Discipline == before.Discipline {
		return errUnchanged
	}
	return nil
}
