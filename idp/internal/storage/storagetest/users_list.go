package storagetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// listAll pages through ListUsers with the given page size and fails on a
// duplicate or on a page out of id order.
func listAll(t *testing.T, s storage.Storage, q storage.UserQuery) []storage.User {
	t.Helper()
	var all []storage.User
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("ListUsers never ends")
		}
		page, next, err := s.ListUsers(t.Context(), q)
		must(t, err)
		if q.Limit > 0 && len(page) > q.Limit {
			t.Fatalf("page of %d users, limit %d", len(page), q.Limit)
		}
		for _, u := range page {
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		if len(page) == 0 || next != page[len(page)-1].ID {
			t.Fatalf("next cursor %q is not the last id of the page", next)
		}
		q.After = next
	}
	if !slices.IsSorted(userIDs(all)) {
		t.Fatal("users not in id order")
	}
	return all
}

func testListUsersFilter(t *testing.T, s storage.Storage) {
	admin := employee("Ad", "Min", "admin@example.org")
	admin.Roles = []storage.Role{storage.RoleAdmin}
	admin = createUser(t, s, admin)
	manager := employee("Man", "Ager", "manager@example.org")
	manager.Roles = []storage.Role{storage.RoleAssigningManager, storage.RoleAdmin}
	manager = createUser(t, s, manager)
	invited := employee("In", "Vited", "invited@example.org")
	invited.Status = storage.StatusInvited
	invited = createUser(t, s, invited)
	nurse := createUser(t, s, clinician("Nu", "Rse", "nurse@example.org", "+15551230020"))
	disabled := clinician("Dis", "Abled", "disabled@example.org", "")
	disabled.Status = storage.StatusDisabled
	disabled = createUser(t, s, disabled)

	for _, tc := range []struct {
		name string
		q    storage.UserQuery
		want []storage.User
	}{
		{"all", storage.UserQuery{}, []storage.User{admin, manager, invited, nurse, disabled}},
		{"employees", storage.UserQuery{Type: storage.UserTypeEmployee}, []storage.User{admin, manager, invited}},
		{"clinicians", storage.UserQuery{Type: storage.UserTypeClinician}, []storage.User{nurse, disabled}},
		{"invited", storage.UserQuery{Status: storage.StatusInvited}, []storage.User{invited}},
		{"active clinicians", storage.UserQuery{Type: storage.UserTypeClinician, Status: storage.StatusActive}, []storage.User{nurse}},
		{"admins", storage.UserQuery{Role: storage.RoleAdmin}, []storage.User{admin, manager}},
		{"managers", storage.UserQuery{Role: storage.RoleAssigningManager}, []storage.User{manager}},
		{"super admins", storage.UserQuery{Role: storage.RoleSuperAdmin}, nil},
		{"admins found by search", storage.UserQuery{Role: storage.RoleAdmin, Search: "ager"}, []storage.User{manager}},
		{"without admins", storage.UserQuery{WithoutRoles: []storage.Role{storage.RoleAdmin}}, []storage.User{invited, nurse, disabled}},
		{"without any role", storage.UserQuery{WithoutRoles: storage.Roles}, []storage.User{invited, nurse, disabled}},
		{"without managers", storage.UserQuery{WithoutRoles: []storage.Role{storage.RoleAssigningManager}}, []storage.User{admin, invited, nurse, disabled}},
		{"admins without managers", storage.UserQuery{Role: storage.RoleAdmin, WithoutRoles: []storage.Role{storage.RoleAssigningManager}}, []storage.User{admin}},
		{"without super admins", storage.UserQuery{Type: storage.UserTypeEmployee, WithoutRoles: []storage.Role{storage.RoleSuperAdmin}}, []storage.User{admin, manager, invited}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := listAll(t, s, tc.q)
			want := slices.Clone(tc.want)
			slices.SortFunc(want, func(a, b storage.User) int { return strings.Compare(a.ID, b.ID) })
			if want == nil {
				want = []storage.User{}
			}
			if got == nil {
				got = []storage.User{}
			}
			equal(t, "users", got, want) // roles included: loaded for the page
		})
	}
}

func testListUsersSearch(t *testing.T, s storage.Storage) {
	mary := createUser(t, s, clinician("Mary", "O'Neil", "Mary.ONeil@Clinic.example", "+15557654321"))
	jose := createUser(t, s, employee("José", "Ålvarez", "jose@example.org"))
	pct := createUser(t, s, employee("Fifty", "Per%cent", "under_score@example.org"))
	plain := createUser(t, s, employee("Plain", "Name", "underXscore@example.org"))
	for _, tc := range []struct {
		search string
		want   []storage.User
	}{
		{"mary", []storage.User{mary}},            // given name, other case
		{"O'NEIL", []storage.User{mary}},          // family name
		{"ry o'ne", []storage.User{mary}},         // across given and family name
		{"clinic.EXAMPLE", []storage.User{mary}},  // email
		{"765432", []storage.User{mary}},          // phone
		{"JOSÉ ÅLV", []storage.User{jose}},        // non-ASCII folds alike in both dialects
		{"%", []storage.User{pct}},                // % is literal
		{"under_s", []storage.User{pct}},          // _ is literal
		{"under", []storage.User{pct, plain}},     // substring
		{"nobody-matches-this", []storage.User{}}, // none
		{"o'neil\nmary", []storage.User{}},        // a match lies within one field
	} {
		t.Run(fmt.Sprintf("%q", tc.search), func(t *testing.T) {
			got := listAll(t, s, storage.UserQuery{Search: tc.search})
			if got == nil {
				got = []storage.User{}
			}
			want := slices.Clone(tc.want)
			slices.SortFunc(want, func(a, b storage.User) int { return strings.Compare(a.ID, b.ID) })
			equal(t, "ids", userIDs(got), userIDs(want))
		})
	}
}

func testListUsersPages(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const n = 53
	var ids []string
	for i := range n {
		u := employee("Page", fmt.Sprintf("User%02d", i), fmt.Sprintf("p%02d@example.org", i))
		if i%3 == 0 {
			u.Type = storage.UserTypeClinician
		}
		ids = append(ids, createUser(t, s, u).ID)
	}
	slices.Sort(ids)

	// The default page is 50, then the rest.
	page, next, err := s.ListUsers(ctx, storage.UserQuery{})
	must(t, err)
	equal(t, "default page size", len(page), 50)
	equal(t, "default page", userIDs(page), ids[:50])
	rest, next2, err := s.ListUsers(ctx, storage.UserQuery{After: next})
	must(t, err)
	equal(t, "last page", userIDs(rest), ids[50:])
	equal(t, "cursor after the last page", next2, "")

	// Any page size gives every user once, in order.
	for _, limit := range []int{1, 7, 53, 1000} {
		equal(t, fmt.Sprintf("all users in pages of %d", limit),
			userIDs(listAll(t, s, storage.UserQuery{Limit: limit})), ids)
	}
	// A filtered list pages the same way; an exact multiple of the page
	// size ends on a full page with no cursor.
	clinicians := listAll(t, s, storage.UserQuery{Type: storage.UserTypeClinician, Limit: 6})
	equal(t, "clinicians in pages", len(clinicians), 18)
	_, next, err = s.ListUsers(ctx, storage.UserQuery{Type: storage.UserTypeClinician, Limit: 6, After: clinicians[11].ID})
	must(t, err)
	equal(t, "cursor after a full last page", next, "")
}
