package adminapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

func TestMe(t *testing.T) {
	f := newFixture(t, backends[0])
	for _, c := range callers[:3] {
		u := f.active(c.typ, c.roles...)
		me, err := f.client(u).Me(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(me.Permissions, authz.Permissions(c.roles).List()) || me.User.ID != u.ID {
			t.Errorf("%s: %+v", c.name, me)
		}
		var assignable []storage.Role
		for _, r := range me.AssignableRoles {
			assignable = append(assignable, storage.Role(r))
		}
		if want := authz.Assignable(u); !slices.Equal(assignable, want) && len(want)+len(assignable) > 0 {
			t.Errorf("%s: assignable %v, want %v", c.name, assignable, want)
		}
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
