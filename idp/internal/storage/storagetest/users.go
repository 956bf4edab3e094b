package storagetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testUserCreateGet(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	in := clinician("Bea", "Ortiz", "Bea.Ortiz@Example.org", "+15551230001")
	in.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"
	in.Roles = []storage.Role{storage.RoleAdmin}
	u := createUser(t, s, in)

	if len(u.ID) < 16 {
		t.Fatalf("ID %q: want a random opaque id", u.ID)
	}
	if u.Version != 1 || u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Fatalf("CreateUser set Version %d, CreatedAt %v, UpdatedAt %v: want 1 and equal times", u.Version, u.CreatedAt, u.UpdatedAt)
	}
	want := in
	want.ID, want.Version, want.CreatedAt, want.UpdatedAt = u.ID, 1, u.CreatedAt, u.UpdatedAt
	equal(t, "CreateUser", u, want)

	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "GetUser", got, u)
	got, err = s.GetUserByEmail(ctx, "bea.ortiz@EXAMPLE.ORG")
	must(t, err)
	equal(t, "GetUserByEmail (other case)", got, u)
	got, err = s.GetUserByPhone(ctx, "+15551230001")
	must(t, err)
	equal(t, "GetUserByPhone", got, u)

	// A second user gets a different id; given times are kept.
	other := employee("Cy", "Ng", "cy@example.org")
	other.CreatedAt = base
	o := createUser(t, s, other)
	if o.ID == u.ID {
		t.Fatal("two users got the same id")
	}
	equal(t, "given CreatedAt", o.CreatedAt, base)
	equal(t, "UpdatedAt defaults to CreatedAt", o.UpdatedAt, base)

	_, err = s.GetUser(ctx, "nobody")
	wantErr(t, "GetUser(unknown)", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "nobody@example.org")
	wantErr(t, "GetUserByEmail(unknown)", err, storage.ErrNotFound)
	_, err = s.GetUserByPhone(ctx, "+15550000000")
	wantErr(t, "GetUserByPhone(unknown)", err, storage.ErrNotFound)
	_, err = s.GetUserByPhone(ctx, "")
	wantErr(t, `GetUserByPhone("")`, err, storage.ErrNotFound)

	n, err := s.CountUsers(ctx)
	must(t, err)
	equal(t, "CountUsers", n, 2)
}

func testUserEmailUnique(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createUser(t, s, employee("Ann", "Lee", "Ann.Lee@Example.org"))
	_, err := s.CreateUser(ctx, employee("Ann", "Other", "ann.lee@EXAMPLE.org"))
	wantErr(t, "same email, other case", err, storage.ErrEmailInUse)
	wantErr(t, "ErrEmailInUse is an ErrAlreadyExists", err, storage.ErrAlreadyExists)
	n, err := s.CountUsers(ctx)
	must(t, err)
	equal(t, "users after the refused create", n, 1)
}

func testUserPhoneUnique(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createUser(t, s, clinician("Bo", "Kim", "bo@example.org", "+15551230002"))
	_, err := s.CreateUser(ctx, clinician("Di", "Kim", "di@example.org", "+15551230002"))
	wantErr(t, "same phone", err, storage.ErrPhoneInUse)
	wantErr(t, "ErrPhoneInUse is an ErrAlreadyExists", err, storage.ErrAlreadyExists)
	// Users without a phone do not collide.
	for _, email := range []string{"e1@example.org", "e2@example.org", "e3@example.org"} {
		createUser(t, s, employee("E", "Mp", email))
	}
	n, err := s.CountUsers(ctx)
	must(t, err)
	equal(t, "users", n, 4)
}

func testUserInvalid(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for name, mod := range map[string]func(*storage.User){
		"type":   func(u *storage.User) { u.Type = "robot" },
		"status": func(u *storage.User) { u.Status = "" },
		"role":   func(u *storage.User) { u.Roles = []storage.Role{"root"} },
	} {
		u := employee("In", "Valid", name+"@example.org")
		mod(&u)
		if _, err := s.CreateUser(ctx, u); err == nil {
			t.Errorf("CreateUser with a bad %s: want an error", name)
		}
	}
	n, err := s.CountUsers(ctx)
	must(t, err)
	equal(t, "users after refused creates", n, 0)

	// An update to a bad value changes nothing either.
	u := createUser(t, s, employee("Ok", "Fine", "ok@example.org"))
	if _, err := s.UpdateUser(ctx, u.ID, 0, func(u *storage.User) error { u.Status = "gone"; return nil }); err == nil {
		t.Fatal("UpdateUser to a bad status: want an error")
	}
	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "user after a refused update", got, u)
}

func testUserUpdate(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	updated, err := s.UpdateUser(ctx, u.ID, u.Version, func(x *storage.User) error {
		x.GivenName, x.Email, x.EmailVerified = "Anne", "Anne@Example.org", true
		x.Status, x.PasswordHash, x.JobTitle = storage.StatusDisabled, "hash2", "Lead"
		x.Type, x.Phone, x.Discipline = storage.UserTypeClinician, "+15551230003", "PT"
		// Not fn's to set:
		x.ID, x.CreatedAt, x.Version = "stolen", base, 99
		return nil
	})
	must(t, err)
	want := u
	want.GivenName, want.Email, want.EmailVerified = "Anne", "Anne@Example.org", true
	want.Status, want.PasswordHash, want.JobTitle = storage.StatusDisabled, "hash2", "Lead"
	want.Type, want.Phone, want.Discipline = storage.UserTypeClinician, "+15551230003", "PT"
	want.Version, want.UpdatedAt = 2, updated.UpdatedAt
	equal(t, "UpdateUser result", updated, want)
	if updated.UpdatedAt.Before(u.UpdatedAt) {
		t.Fatalf("UpdatedAt went back: %v → %v", u.UpdatedAt, updated.UpdatedAt)
	}
	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "GetUser after UpdateUser", got, updated)
	got, err = s.GetUserByEmail(ctx, "anne@example.org")
	must(t, err)
	equal(t, "GetUserByEmail(new email)", got.ID, u.ID)
	_, err = s.GetUserByEmail(ctx, "ann@example.org")
	wantErr(t, "GetUserByEmail(old email)", err, storage.ErrNotFound)

	// wantVersion 0 means "whatever is current".
	again, err := s.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error { x.Phone = ""; return nil })
	must(t, err)
	equal(t, "version after a second update", again.Version, int64(3))
	_, err = s.GetUserByPhone(ctx, "+15551230003")
	wantErr(t, "GetUserByPhone(cleared phone)", err, storage.ErrNotFound)

	_, err = s.UpdateUser(ctx, "nobody", 0, func(*storage.User) error { return nil })
	wantErr(t, "UpdateUser(unknown)", err, storage.ErrNotFound)
}

func testUserUpdateConflict(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	v2, err := s.UpdateUser(ctx, u.ID, u.Version, func(x *storage.User) error { x.JobTitle = "v2"; return nil })
	must(t, err)

	called := false
	_, err = s.UpdateUser(ctx, u.ID, u.Version, func(x *storage.User) error { called = true; x.JobTitle = "stale"; return nil })
	wantErr(t, "UpdateUser with a stale version", err, storage.ErrConflict)
	if called {
		t.Error("fn ran although the version was stale")
	}
	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "user after a conflict", got, v2)

	// fn's error is returned as is and nothing is written.
	boom := errors.New("boom")
	_, err = s.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error { x.JobTitle = "half"; return boom })
	if err != boom {
		t.Fatalf("UpdateUser returned %v, want fn's error as is", err)
	}
	got, err = s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "user after fn failed", got, v2)
}

func testUserUpdateUniqueKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	a := createUser(t, s, clinician("A", "One", "a@example.org", "+15551230010"))
	b := createUser(t, s, clinician("B", "Two", "b@example.org", "+15551230011"))
	_, err := s.UpdateUser(ctx, b.ID, 0, func(x *storage.User) error { x.Email = "A@EXAMPLE.ORG"; return nil })
	wantErr(t, "update to a taken email", err, storage.ErrEmailInUse)
	_, err = s.UpdateUser(ctx, b.ID, 0, func(x *storage.User) error { x.Phone = a.Phone; return nil })
	wantErr(t, "update to a taken phone", err, storage.ErrPhoneInUse)
	got, err := s.GetUser(ctx, b.ID)
	must(t, err)
	equal(t, "user after refused updates", got, b)

	// Once a clears its phone, b may take it.
	_, err = s.UpdateUser(ctx, a.ID, 0, func(x *storage.User) error { x.Phone = ""; return nil })
	must(t, err)
	_, err = s.UpdateUser(ctx, b.ID, 0, func(x *storage.User) error { x.Phone = a.Phone; return nil })
	must(t, err)
}

// testUserUpdateConcurrent: read-modify-write updates from many callers lose
// nothing.
func testUserUpdateConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	u, err := s.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error { x.JobTitle = "0"; return nil })
	must(t, err)
	errs := race(concurrency, func(int) error {
		_, err := s.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error {
			n, err := strconv.Atoi(x.JobTitle)
			x.JobTitle = strconv.Itoa(n + 1)
			return err
		})
		return err
	})
	equal(t, "successful updates", winners(t, errs, nil), concurrency)
	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "counter", got.JobTitle, strconv.Itoa(concurrency))
	equal(t, "version", got.Version, u.Version+concurrency)

	// With the version read up front, exactly one caller wins.
	errs = race(concurrency, func(i int) error {
		_, err := s.UpdateUser(ctx, u.ID, got.Version, func(x *storage.User) error {
			x.Department = "winner " + strconv.Itoa(i)
			return nil
		})
		return err
	})
	equal(t, "winners with one wantVersion", winners(t, errs, storage.ErrConflict), 1)
}

func testUserRoles(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	in := employee("Ro", "Les", "roles@example.org")
	in.Roles = []storage.Role{storage.RoleSuperAdmin, storage.RoleAdmin, storage.RoleAssigningManager, storage.RoleSuperAdmin}
	u := createUser(t, s, in)
	sorted := []storage.Role{storage.RoleAdmin, storage.RoleAssigningManager, storage.RoleSuperAdmin}
	equal(t, "roles as created", u.Roles, sorted)
	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "roles as read", got.Roles, sorted)
	// Every single-user read and the list read the same roles, in the
	// same order.
	got, err = s.GetUserByEmail(ctx, in.Email)
	must(t, err)
	equal(t, "roles as read by email", got.Roles, sorted)
	list, _, err := s.ListUsers(ctx, storage.UserQuery{})
	must(t, err)
	equal(t, "roles as listed", list[0].Roles, sorted)
	c := createClient(t, s, "roles")
	must(t, s.CreateAccessToken(ctx, storage.AccessToken{ID: "jti-roles", FamilyID: "fam", ClientID: c.ID,
		Subject: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	_, got, err = s.GetAccessTokenUser(ctx, "jti-roles")
	must(t, err)
	equal(t, "roles as read with a token", got.Roles, sorted)
	must(t, s.CreateRefreshToken(ctx, storage.RefreshToken{IDHash: "rt-roles", FamilyID: "fam", ClientID: c.ID,
		UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	_, got, err = s.GetRefreshTokenUser(ctx, "rt-roles")
	must(t, err)
	equal(t, "roles as read with a refresh token", got.Roles, sorted)

	u, err = s.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error {
		x.Roles = []storage.Role{storage.RoleAssigningManager}
		return nil
	})
	must(t, err)
	got, err = s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "roles replaced", got.Roles, []storage.Role{storage.RoleAssigningManager})

	_, err = s.UpdateUser(ctx, u.ID, 0, func(x *storage.User) error { x.Roles = nil; return nil })
	must(t, err)
	got, err = s.GetUser(ctx, u.ID)
	must(t, err)
	equal(t, "roles removed", got.Roles, []storage.Role(nil))
}

// userIDs lists the ids of users.
func userIDs(users []storage.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}
