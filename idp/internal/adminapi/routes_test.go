package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestRoutesMatchDocument fails when a route exists in the server but not
// in the OpenAPI document, or the reverse.
func TestRoutesMatchDocument(t *testing.T) {
	f := newFixture(t, backends[0])
	documented, err := api.DocumentedRoutes(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range f.h.Routes() {
		served = append(served, r.Pattern)
	}
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("route %s is in openapi.json but not served", r)
		}
	}
	// The document served is the shared one.
	resp := f.do("GET", api.BasePath+"/openapi.json", "", "")
	if resp.status != 200 || string(resp.body) != string(api.OpenAPI()) {
		t.Errorf("GET openapi.json: %d", resp.status)
	}
}

// docPermissions maps each documented route to its x-permissions (nil:
// any role; public routes are left out).
func docPermissions(t *testing.T) map[string][]api.Permission {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			Security    *[]any   `json:"security"`
			Permissions []string `json:"x-permissions"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &d); err != nil {
		t.Fatal(err)
	}
	out := map[string][]api.Permission{}
	for path, ops := range d.Paths {
		for method, op := range ops {
			if op.Security != nil && len(*op.Security) == 0 {
				continue
			}
			var perms []api.Permission
			for _, p := range op.Permissions {
				perms = append(perms, api.Permission(p))
			}
			out[strings.ToUpper(method)+" "+path] = perms
		}
	}
	return out
}

// TestRoutePermsMatchDocument: the permissions the route table checks
// before anything else are the ones each route documents.
func TestRoutePermsMatchDocument(t *testing.T) {
	f := newFixture(t, backends[0])
	doc := docPermissions(t)
	for _, rt := range f.h.Routes() {
		if rt.Public {
			continue
		}
		got, want := slices.Sorted(slices.Values(rt.Perms)), slices.Sorted(slices.Values(doc[rt.Pattern]))
		if !slices.Equal(got, want) {
			t.Errorf("%s: checks %v, documents %v", rt.Pattern, got, want)
		}
	}
}

// caller is who calls a route in the matrix.
type caller struct {
	name  string
	typ   storage.UserType
	roles []storage.Role
}

var callers = []caller{
	{"super_admin", storage.UserTypeEmployee, []storage.Role{storage.RoleSuperAdmin}},
	{"admin", storage.UserTypeEmployee, []storage.Role{storage.RoleAdmin}},
	{"assigning_manager", storage.UserTypeEmployee, []storage.Role{storage.RoleAssigningManager}},
	{"employee", storage.UserTypeEmployee, nil},
	{"clinician", storage.UserTypeClinician, nil},
}

// request is one call of a route with a fresh, valid target and body, so
// that a caller the table allows gets a 2xx.
type request struct {
	method, path, body string
	header             []string
}

// requestFor builds a valid request for route pattern p.
func (f *fixture) requestFor(p string) request {
	f.t.Helper()
	method, path, _ := strings.Cut(p, " ")
	r := request{method: method, path: path}
	section, typ := "", storage.UserType("")
	switch {
	case strings.HasPrefix(path, api.BasePath+"/employees"):
		section, typ = "employees", storage.UserTypeEmployee
	case strings.HasPrefix(path, api.BasePath+"/clinicians"):
		section, typ = "clinicians", storage.UserTypeClinician
	}
	sub := strings.TrimPrefix(path, api.BasePath+"/"+section)
	withUser := func(u storage.User) {
		r.path = strings.Replace(path, "{id}", u.ID, 1)
	}
	ifMatch := func(v int64) { r.header = []string{"If-Match", api.ETag(v)} }
	switch {
	case section != "" && method == "POST" && sub == "":
		n := f.seq()
		if typ == storage.UserTypeClinician {
			r.body = fmt.Sprintf(`{"given_name":"New","family_name":"Clinician%d","email":"new%d-%s@example.com","phone":%q,"discipline":"PT"}`,
				n, n, randHex(3), f.phone())
		} else {
			r.body = fmt.Sprintf(`{"given_name":"New","family_name":"Employee%d","email":"new%d-%s@example.com"}`, n, n, randHex(3))
		}
	case section != "" && sub == "/{id}" && method == "PATCH":
		u := f.active(typ)
		withUser(u)
		ifMatch(u.Version)
		r.body = `{"job_title":"Charge nurse"}`
	case section != "" && sub == "/{id}/roles":
		u := f.active(typ)
		withUser(u)
		ifMatch(u.Version)
		r.body = `{"roles":["assigning_manager"]}`
	case section != "" && sub == "/{id}/enable":
		withUser(f.user(typ, storage.StatusDisabled))
	case section != "" && sub == "/{id}/invitation":
		withUser(f.user(typ, storage.StatusInvited))
	case section != "" && sub == "/{id}/mfa/reset":
		u := f.active(typ)
		f.enrolMFA(u)
		withUser(u)
	case section != "":
		withUser(f.active(typ))
	case path == api.BasePath+"/clients" && method == "POST":
		r.body = fmt.Sprintf(`{"id":"svc-%d-%s","redirect_uris":["https://svc.example.com/cb"]}`, f.seq(), randHex(3))
	case strings.HasPrefix(path, api.BasePath+"/clients/{id}"):
		c := f.oidcClient()
		r.path = strings.Replace(path, "{id}", c.ID, 1)
		if method == "PATCH" {
			r.body = `{"name":"Renamed"}`
			ifMatch(c.UpdatedAt.UnixMicro())
		}
	}
	return r
}

// oidcClient registers a confidential client directly.
func (f *fixture) oidcClient() storage.Client {
	f.t.Helper()
	h, _ := cheapHasher.Hash("a-secret-of-at-least-32-characters!!")
	c, err := f.store.CreateClient(context.Background(), storage.Client{
		ID: fmt.Sprintf("svc-%d-%s", f.seq(), randHex(3)), Name: "Service", SecretHash: h,
		RedirectURIs: []string{"https://svc.example.com/cb"},
		GrantTypes:   []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// TestRoutePermissions calls every route as every role, unauthenticated,
// with an expired, a revoked, a foreign and a scope-less token, and checks
// allow/deny against the role → permission table (authz) and the
// permissions each route documents.
func TestRoutePermissions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		perms := docPermissions(t)
		actors := map[string]storage.User{}
		tokens := map[string]string{}
		for _, c := range callers {
			actors[c.name] = f.active(c.typ, c.roles...)
			tokens[c.name] = f.token(actors[c.name])
		}
		routes := f.h.Routes()
		for _, rt := range routes {
			if rt.Public {
				continue
			}
			need, ok := perms[rt.Pattern]
			if !ok {
				t.Fatalf("route %s has no entry in openapi.json", rt.Pattern)
			}
			for _, c := range callers {
				t.Run(rt.Pattern+"/"+c.name, func(t *testing.T) {
					granted := authz.Permissions(c.roles)
					allowed := len(granted) > 0 // GET /me: any role
					if need != nil {
						allowed = slices.ContainsFunc(need, granted.Has)
					}
					req := f.requestFor(rt.Pattern)
					resp := f.do(req.method, req.path, tokens[c.name], req.body, req.header...)
					if allowed {
						if resp.status < 200 || resp.status > 299 {
							t.Fatalf("allowed by the table, got %d: %s", resp.status, resp.body)
						}
						return
					}
					if resp.status != http.StatusForbidden {
						t.Fatalf("denied by the table, got %d: %s", resp.status, resp.body)
					}
					if e := resp.errorBody(t); e.Code != api.CodeForbidden {
						t.Errorf("code %s, want forbidden", e.Code)
					}
				})
			}
			super := actors["super_admin"]
			bad := []struct {
				name   string
				token  func() string
				status int
				code   api.ErrorCode
			}{
				{"unauthenticated", func() string { return "" }, 401, api.CodeUnauthorized},
				{"garbage token", func() string { return "not-a-jwt" }, 401, api.CodeUnauthorized},
				{"expired token", func() string {
					return f.token(super, func(o *tokenOpts) { o.ttl = -time.Minute })
				}, 401, api.CodeUnauthorized},
				{"revoked token", func() string {
					tok := f.token(super)
					f.revokeAll(super.ID)
					return tok
				}, 401, api.CodeUnauthorized},
				{"foreign issuer", func() string {
					return f.token(super, func(o *tokenOpts) { o.issuer = "https://evil.example.com" })
				}, 401, api.CodeUnauthorized},
				{"not for the admin API", func() string {
					return f.token(super, func(o *tokenOpts) { o.aud = []string{o.client} })
				}, 401, api.CodeUnauthorized},
				{"no admin scope", func() string {
					return f.token(super, func(o *tokenOpts) { o.scopes = []string{"openid", "profile"} })
				}, 403, api.CodeInsufficientScope},
				{"client token", func() string {
					return f.token(super, func(o *tokenOpts) { o.service = true })
				}, 403, api.CodeForbidden},
			}
			for _, b := range bad {
				t.Run(rt.Pattern+"/"+b.name, func(t *testing.T) {
					req := f.requestFor(rt.Pattern)
					resp := f.do(req.method, req.path, b.token(), req.body, req.header...)
					if resp.status != b.status {
						t.Fatalf("got %d, want %d: %s", resp.status, b.status, resp.body)
					}
					if e := resp.errorBody(t); e.Code != b.code {
						t.Errorf("code %s, want %s", e.Code, b.code)
					}
					if b.status == 401 && !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer ") {
						t.Errorf("401 without a Bearer challenge: %v", resp.header)
					}
				})
			}
			// A fresh super admin for the next route: the revoked-token
			// case revoked this one's tokens.
			actors["super_admin"] = f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)
			tokens["super_admin"] = f.token(actors["super_admin"])
		}
	})
}

func (f *fixture) revokeAll(userID string) {
	f.t.Helper()
	if err := f.store.RevokeUserGrants(context.Background(), userID, f.clock.Now()); err != nil {
		f.t.Fatal(err)
	}
}

// TestAuthorizationBeforeValidation: a role that may not use a route gets
// 403 whatever it sends — a broken body, a body of the wrong type, no
// If-Match, a stale one, an unknown id. Before, some PATCH and PUT routes
// answered 400 or 428 first, telling a caller without the right what the
// route would accept.
func TestAuthorizationBeforeValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		perms := docPermissions(t)
		tokens := map[string]string{}
		for _, c := range callers {
			tokens[c.name] = f.token(f.active(c.typ, c.roles...))
		}
		bodies := []struct {
			name, body string
			header     []string
		}{
			{"no body", "", nil},
			{"broken JSON", `{"roles":`, nil},
			{"not an object", `[1,2]`, nil},
			{"unknown member", `{"no_such_member":true}`, nil},
			{"wrong type", `{"roles":"admin","given_name":7,"email":false}`, nil},
			{"invalid values", `{"email":"not an address","roles":["root"],"phone":"12"}`, nil},
			{"empty object, no If-Match", `{}`, []string{"If-Match", ""}},
			{"stale If-Match", `{}`, []string{"If-Match", `"999"`}},
			{"malformed If-Match", `{}`, []string{"If-Match", `W/"x"`}},
			{"text/plain", `{}`, []string{"Content-Type", "text/plain"}},
		}
		for _, rt := range f.h.Routes() {
			need := perms[rt.Pattern]
			if rt.Public || need == nil {
				continue
			}
			method, path, _ := strings.Cut(rt.Pattern, " ")
			for _, c := range callers {
				if slices.ContainsFunc(need, authz.Permissions(c.roles).Has) {
					continue
				}
				for _, b := range bodies {
					for _, id := range []string{"no-such-id", f.active(storage.UserTypeEmployee).ID} {
						p := strings.Replace(path, "{id}", id, 1)
						if method == "GET" {
							p += "?limit=0&role=root&q=" + strings.Repeat("x", 200)
						}
						resp := f.do(method, p, tokens[c.name], b.body, b.header...)
						if resp.status != http.StatusForbidden || resp.errorBody(t).Code != api.CodeForbidden {
							t.Errorf("%s as %s, %s: %d %s", rt.Pattern, c.name, b.name, resp.status, resp.body)
						}
					}
				}
			}
		}
	})
}
