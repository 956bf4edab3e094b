package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// TestMe: what /me answers for each kind of caller, written out: a change
// to the role table or to the assignable roles shows here as a diff.
func TestMe(t *testing.T) {
	f := newFixture(t, backends[0])
	all := []string{
		"employees.read", "employees.write", "employees.roles", "employees.status", "employees.notify",
		"clinicians.read", "clinicians.write", "clinicians.roles", "clinicians.status", "clinicians.notify",
		"clinicians.mobile_credentials", "employees.mfa", "clinicians.mfa",
		"admins.manage", "clients.read", "clients.write", "audit.records", "audit.all",
	}
	admin := []string{
		"employees.read", "employees.write", "employees.roles", "employees.status", "employees.notify",
		"clinicians.read", "clinicians.write", "clinicians.roles", "clinicians.status", "clinicians.notify",
		"clinicians.mobile_credentials", "employees.mfa", "clinicians.mfa", "audit.records",
	}
	cases := []struct {
		name        string
		typ         storage.UserType
		roles       []storage.Role
		permissions []string // nil: 403 forbidden
		assignable  []string
	}{
		{"super_admin", storage.UserTypeEmployee, []storage.Role{storage.RoleSuperAdmin}, all,
			[]string{"super_admin", "admin", "assigning_manager"}},
		{"admin", storage.UserTypeEmployee, []storage.Role{storage.RoleAdmin}, admin,
			[]string{"assigning_manager"}},
		{"assigning_manager", storage.UserTypeEmployee, []storage.Role{storage.RoleAssigningManager},
			[]string{"employees.read", "employees.write", "employees.notify"}, []string{}},
		{"admin and assigning_manager", storage.UserTypeEmployee, []storage.Role{storage.RoleAdmin, storage.RoleAssigningManager}, admin,
			[]string{"assigning_manager"}},
		{"clinician admin", storage.UserTypeClinician, []storage.Role{storage.RoleAdmin}, admin,
			[]string{"assigning_manager"}},
		{"employee without a role", storage.UserTypeEmployee, nil, nil, nil},
		{"clinician without a role", storage.UserTypeClinician, nil, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := f.active(c.typ, c.roles...)
			r := f.do("GET", api.BasePath+"/me", f.token(u), "")
			if c.permissions == nil {
				if r.status != 403 || r.errorBody(t).Code != api.CodeForbidden {
					t.Fatalf("%d %s, want 403 forbidden", r.status, r.body)
				}
				return
			}
			var me struct {
				User struct {
					ID string `json:"id"`
				} `json:"user"`
				Permissions     []string `json:"permissions"`
				AssignableRoles []string `json:"assignable_roles"`
			}
			if err := json.Unmarshal(r.body, &me); r.status != 200 || err != nil {
				t.Fatalf("%d %s (%v)", r.status, r.body, err)
			}
			if me.User.ID != u.ID || !slices.Equal(me.Permissions, c.permissions) || !slices.Equal(me.AssignableRoles, c.assignable) {
				t.Errorf("got user %s, permissions %q, assignable %q\nwant user %s, permissions %q, assignable %q",
					me.User.ID, me.Permissions, me.AssignableRoles, u.ID, c.permissions, c.assignable)
			}
		})
	}
}

// TestListPagination: stable order, no page repeats or skips a user,
// filters and search combine, and what a caller may not view is left out.
func TestListPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		tag := "Zq" + randHex(3)
		var ids []string
		for i := range 23 {
			u := f.active(storage.UserTypeEmployee)
			status := storage.StatusActive
			if i%5 == 0 {
				status = storage.StatusDisabled
			}
			var roles []storage.Role
			if i%7 == 0 {
				roles = []storage.Role{storage.RoleAssigningManager}
			}
			u, err := f.store.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error {
				x.FamilyName, x.Status, x.Roles = tag+fmt.Sprint(i), status, roles
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		slices.Sort(ids)
		super := f.client(f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin))
		collect := func(c *api.Client, o api.ListUsersOptions) []string {
			var got []string
			for pages := 0; ; pages++ {
				l, err := c.ListEmployees(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				if len(l.Items) > o.Limit {
					t.Fatalf("page of %d > limit %d", len(l.Items), o.Limit)
				}
				for _, u := range l.Items {
					got = append(got, u.ID)
				}
				if l.NextCursor == "" {
					return got
				}
				if pages > 50 {
					t.Fatal("pagination does not end")
				}
				o.Cursor = l.NextCursor
			}
		}
		if got := collect(super, api.ListUsersOptions{Search: strings.ToLower(tag), Limit: 4}); !slices.Equal(got, ids) {
			t.Fatalf("pages: %v\nwant   %v", got, ids)
		}
		disabled := collect(super, api.ListUsersOptions{Search: tag, Status: api.StatusDisabled, Limit: 2})
		managers := collect(super, api.ListUsersOptions{Search: tag, Role: api.RoleAssigningManager, Limit: 2})
		if len(disabled) != 5 || len(managers) != 4 {
			t.Fatalf("filters: %d disabled, %d managers", len(disabled), len(managers))
		}
		// An assigning manager sees only employees without a role.
		mgr := f.client(f.active(storage.UserTypeEmployee, storage.RoleAssigningManager))
		seen := collect(mgr, api.ListUsersOptions{Search: tag, Limit: 3})
		if len(seen) != len(ids)-len(managers) || slices.ContainsFunc(seen, func(id string) bool { return slices.Contains(managers, id) }) {
			t.Fatalf("manager sees %d of %d", len(seen), len(ids))
		}
		// Bad query parameters are refused, not ignored.
		for _, q := range []string{"limit=0", "limit=501", "limit=x", "status=gone", "role=root", "cursor=%%%", "cursor=abc", "sort=name", "q=" + strings.Repeat("a", 101)} {
			r := f.do("GET", api.BasePath+"/employees?"+q, f.token(f.active(storage.UserTypeEmployee, storage.RoleSuperAdmin)), "")
			if r.status != 400 || r.errorBody(t).Code != api.CodeInvalidQuery {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
		}
	})
}

// TestListCursorHidesWhatCallerMayNotView: a next_cursor only ever names
// a user the caller may view, and whether there is one depends only on
// such users. Before, role and q filters with limit=1 walked the cursor
// over super admins, giving away their ids and which search matched them.
func TestListCursorHidesWhatCallerMayNotView(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		tag := "Qx" + randHex(3)
		hidden := map[string]bool{}
		supTag := "Sx" + randHex(3)
		mk := func(roles ...storage.Role) storage.User {
			u := f.active(storage.UserTypeEmployee, roles...)
			u, err := f.store.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error {
				x.FamilyName = tag
				if x.HasRole(storage.RoleSuperAdmin) {
					x.GivenName = supTag
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		// More hidden users than one request reads store pages for.
		var supers []storage.User
		for range 7 {
			s := mk(storage.RoleSuperAdmin)
			supers = append(supers, s)
			hidden[s.ID] = true
		}
		otherAdmin := mk(storage.RoleAdmin)
		hidden[otherAdmin.ID] = true
		var plain []string
		for range 3 {
			plain = append(plain, mk().ID)
		}
		manager := mk(storage.RoleAssigningManager)
		admin := f.active(storage.UserTypeEmployee, storage.RoleAdmin)
		ac := f.client(admin)

		cursorID := func(c string) string {
			b, err := base64.RawURLEncoding.DecodeString(c)
			if err != nil {
				t.Fatalf("cursor %q: %v", c, err)
			}
			return strings.TrimPrefix(string(b), "u1:")
		}
		walk := func(c *api.Client, o api.ListUsersOptions) []string {
			t.Helper()
			var seen []string
			for pages := 0; pages < 100; pages++ {
				l, err := c.ListEmployees(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range l.Items {
					if hidden[u.ID] {
						t.Fatalf("listed a user the caller may not view: %s", u.ID)
					}
					seen = append(seen, u.ID)
				}
				if l.NextCursor == "" {
					return seen
				}
				if id := cursorID(l.NextCursor); hidden[id] {
					t.Fatalf("next_cursor names a hidden user (%+v)", o)
				}
				if len(l.Items) == 0 {
					t.Fatalf("an empty page with a next_cursor (%+v)", o)
				}
				o.Cursor = l.NextCursor
			}
			t.Fatal("pagination does not end")
			return nil
		}
		for _, o := range []api.ListUsersOptions{
			{Role: api.RoleSuperAdmin, Limit: 1},
			{Role: api.RoleAdmin, Limit: 1},
			{Search: supTag, Limit: 1},
			{Search: supTag, Limit: 3},
			{Search: supers[0].Email, Limit: 1},
		} {
			if got := walk(ac, o); len(got) != 0 {
				t.Fatalf("%+v: listed %v", o, got)
			}
		}
		got := walk(ac, api.ListUsersOptions{Search: tag, Limit: 1})
		want := append(slices.Clone(plain), manager.ID)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("admin walks %v, want %v", got, want)
		}
		// A manager may not view the other manager either.
		hidden[manager.ID] = true
		mc := f.client(f.active(storage.UserTypeEmployee, storage.RoleAssigningManager))
		if got := walk(mc, api.ListUsersOptions{Role: api.RoleAssigningManager, Limit: 1}); len(got) != 0 {
			t.Fatalf("manager lists managers: %v", got)
		}
		slices.Sort(plain)
		if got := walk(mc, api.ListUsersOptions{Search: tag, Limit: 1}); !slices.Equal(got, plain) {
			t.Fatalf("manager walks %v, want %v", got, plain)
		}
	})
}
