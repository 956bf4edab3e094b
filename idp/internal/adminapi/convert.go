package adminapi

import (
	"cmp"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Conversions between the store's types and the contract's. The role,
// type and status names are the same strings on both sides.

func toAPIUser(u storage.User) api.User {
	return api.User{
		ID: u.ID, Type: api.UserType(u.Type), GivenName: u.GivenName, FamilyName: u.FamilyName,
		Email: u.Email, EmailVerified: u.EmailVerified, Phone: u.Phone, Status: api.UserStatus(u.Status),
		Roles: toAPIRoles(u.Roles), JobTitle: u.JobTitle, Department: u.Department, Discipline: u.Discipline,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version,
	}
}

// toAPIRoles lists roles highest first; none is [] (never null).
func toAPIRoles(roles []storage.Role) []api.Role {
	out := []api.Role{}
	for _, r := range storage.Roles {
		for _, have := range roles {
			if have == r {
				out = append(out, api.Role(r))
				break
			}
		}
	}
	return out
}

func fromAPIRoles(roles []api.Role) []storage.Role {
	out := make([]storage.Role, 0, len(roles))
	for _, r := range roles {
		out = append(out, storage.Role(r))
	}
	return out
}

func toAPIClient(c storage.Client) api.OIDCClient {
	roles := toAPIRoles(c.AdmitRoles)
	types := []api.UserType{}
	for _, t := range c.AdmitTypes {
		types = append(types, api.UserType(t))
	}
	return api.OIDCClient{
		ID: c.ID, Name: c.Name, Public: c.Public,
		RedirectURIs: nonNil(c.RedirectURIs), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		GrantTypes: nonNil(c.GrantTypes), AdmitRoles: roles, AdmitTypes: types, Scopes: nonNil(c.Scopes),
		SignInMethod: api.SignInMethod(cmp.Or(c.SignInMethod, storage.SignInEmail)),
		RequireMFA:   c.RequireMFA,
		CreatedAt:    c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: clientVersion(c),
	}
}

// clientVersion is the version a client's updates are guarded by: the
// store keeps its counter hidden, so its last update time in microseconds
// (the store's precision) stands in; every update moves it.
func clientVersion(c storage.Client) int64 { return c.UpdatedAt.UnixMicro() }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toAPIAudit(e storage.AuditEntry) api.AuditEntry {
	out := api.AuditEntry{
		ID: e.ID, At: e.At, ActorID: e.ActorID, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, SourceAddr: e.SourceAddr,
	}
	if len(e.Changes) > 0 {
		out.Changes = make(map[string]api.Change, len(e.Changes))
		for k, v := range e.Changes {
			out.Changes[k] = api.Change{Old: v[0], New: v[1]}
		}
	}
	return out
}
