package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testClientCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	in := webClient("sched")
	c, err := s.CreateClient(ctx, in)
	must(t, err)
	equal(t, "CreateClient", c, in)
	got, err := s.GetClient(ctx, "sched")
	must(t, err)
	equal(t, "GetClient (every list round-trips)", got, in)

	_, err = s.CreateClient(ctx, webClient("sched"))
	wantErr(t, "CreateClient(same id)", err, storage.ErrAlreadyExists)

	// A public client with empty lists; the store sets the times.
	mobile := storage.Client{ID: "mobile", Name: "Clinician app", Public: true, GrantTypes: []string{}}
	m, err := s.CreateClient(ctx, mobile)
	must(t, err)
	if m.CreatedAt.IsZero() || !m.UpdatedAt.Equal(m.CreatedAt) {
		t.Fatalf("CreateClient set CreatedAt %v, UpdatedAt %v", m.CreatedAt, m.UpdatedAt)
	}
	mobile.GrantTypes, mobile.CreatedAt, mobile.UpdatedAt = nil, m.CreatedAt, m.UpdatedAt
	equal(t, "CreateClient with empty lists", m, mobile)
	got, err = s.GetClient(ctx, "mobile")
	must(t, err)
	equal(t, "GetClient with empty lists", got, mobile)

	list, err := s.ListClients(ctx)
	must(t, err)
	equal(t, "ListClients", list, []storage.Client{m, c})

	before := wallClock()
	updated, err := s.UpdateClient(ctx, "sched", func(x *storage.Client) error {
		x.Name = "Scheduling 2"
		x.RedirectURIs = append(x.RedirectURIs, "https://sched.example.org/cb3")
		x.AdmitRoles = nil
		x.AdmitTypes = []storage.UserType{storage.UserTypeEmployee, storage.UserTypeClinician}
		x.ID, x.CreatedAt = "stolen", time.Time{} // not fn's to set
		return nil
	})
	must(t, err)
	want := in
	want.Name = "Scheduling 2"
	want.RedirectURIs = append(want.RedirectURIs, "https://sched.example.org/cb3")
	want.AdmitRoles = nil
	want.AdmitTypes = []storage.UserType{storage.UserTypeEmployee, storage.UserTypeClinician}
	want.UpdatedAt = updated.UpdatedAt
	equal(t, "UpdateClient", updated, want)
	if updated.UpdatedAt.Before(before) {
		t.Errorf("UpdatedAt %v: want the time of the update (≥ %v)", updated.UpdatedAt, before)
	}
	got, err = s.GetClient(ctx, "sched")
	must(t, err)
	equal(t, "GetClient after UpdateClient", got, updated)

	boom := errors.New("boom")
	_, err = s.UpdateClient(ctx, "sched", func(x *storage.Client) error { x.Name = "half"; return boom })
	if err != boom {
		t.Fatalf("UpdateClient returned %v, want fn's error as is", err)
	}
	got, err = s.GetClient(ctx, "sched")
	must(t, err)
	equal(t, "client after fn failed", got, updated)
	_, err = s.UpdateClient(ctx, "nobody", func(*storage.Client) error { return nil })
	wantErr(t, "UpdateClient(unknown)", err, storage.ErrNotFound)

	must(t, s.DeleteClient(ctx, "sched"))
	_, err = s.GetClient(ctx, "sched")
	wantErr(t, "GetClient(deleted)", err, storage.ErrNotFound)
	wantErr(t, "DeleteClient(deleted)", s.DeleteClient(ctx, "sched"), storage.ErrNotFound)
	list, err = s.ListClients(ctx)
	must(t, err)
	equal(t, "ListClients after delete", list, []storage.Client{m})
}

// testClientDeleteCascades: a deleted client's requests and tokens go too.
func testClientDeleteCascades(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	must(t, s.CreateAuthRequest(ctx, f.authRequest("req1", wallClock())))
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt1", "fam1", base.Add(time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("at1", "fam1", base.Add(time.Hour))))
	must(t, s.DeleteClient(ctx, f.client.ID))
	_, err := s.GetAuthRequest(ctx, "req1")
	wantErr(t, "auth request of a deleted client", err, storage.ErrNotFound)
	_, err = s.GetRefreshToken(ctx, "rt1")
	wantErr(t, "refresh token of a deleted client", err, storage.ErrNotFound)
	_, err = s.GetAccessToken(ctx, "at1")
	wantErr(t, "access token of a deleted client", err, storage.ErrNotFound)
	_, err = s.GetUser(ctx, f.user.ID)
	must(t, err)
}

// testClientThrottle: GetClientThrottleToken without a token reads what
// GetClient and GetThrottle read, whichever of the two exists.
func testClientThrottle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	c := createClient(t, s, "sched")
	mobile, err := s.CreateClient(ctx, storage.Client{ID: "mobile", Name: "Clinician app", Public: true})
	must(t, err)
	locked := failureAt(base, 1)
	_, err = s.RecordFailure(ctx, "src:locked", locked)
	must(t, err)
	wantLocked := storage.Throttle{Key: "src:locked", Failures: 1, LastFailureAt: locked.Now, LockedUntil: locked.LockUntil}
	for _, tc := range []struct {
		client, key string
		want        storage.Client
		wantTh      storage.Throttle
	}{
		{"sched", "src:none", c, storage.Throttle{Key: "src:none"}},
		{"sched", "src:locked", c, wantLocked},
		{"mobile", "src:locked", mobile, wantLocked},
		{"nobody", "src:locked", storage.Client{}, wantLocked},
		{"nobody", "src:none", storage.Client{}, storage.Throttle{Key: "src:none"}},
		{"", "", storage.Client{}, storage.Throttle{}},
	} {
		name := "GetClientThrottleToken(" + tc.client + ", " + tc.key + ", \"\")"
		got, th, tok, u, err := s.GetClientThrottleToken(ctx, tc.client, tc.key, "")
		must(t, err)
		equal(t, name+" client", got, tc.want)
		equal(t, name+" throttle", th, tc.wantTh)
		equal(t, name+" token", tok, storage.AccessToken{})
		equal(t, name+" user", u, storage.User{})
		if tc.want.ID != "" {
			want, err := s.GetClient(ctx, tc.client)
			must(t, err)
			equal(t, name+" client as GetClient", got, want)
		}
		wantTh, err := s.GetThrottle(ctx, tc.key)
		must(t, err)
		equal(t, name+" throttle as GetThrottle", th, wantTh)
	}
}

// testClientThrottleToken: GetClientThrottleToken with a token id reads
// what GetClient, GetThrottle and GetAccessTokenUser read, for every mix
// of a missing client, a missing token, a revoked family and a subject
// that is no user.
func testClientThrottleToken(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	_, err := s.UpdateUser(ctx, f.user.ID, 0, func(u *storage.User) error {
		u.Roles = []storage.Role{storage.RoleAdmin, storage.RoleAssigningManager}
		return nil
	})
	must(t, err)
	live := f.access("at-live", "fam1", base.Add(time.Hour))
	must(t, s.CreateAccessToken(ctx, live))
	// Stored after its family's revocation: no revoked_at of its own.
	must(t, s.RevokeFamily(ctx, "fam-revoked", base.Add(time.Minute)))
	must(t, s.CreateAccessToken(ctx, f.access("at-family-revoked", "fam-revoked", base.Add(time.Hour))))
	own := f.access("at-own-revoked", "fam2", base.Add(time.Hour))
	own.RevokedAt = base.Add(2 * time.Minute)
	must(t, s.CreateAccessToken(ctx, own))
	ghost := f.access("at-ghost", "fam3", base.Add(time.Hour))
	ghost.Subject = "deleted-user"
	must(t, s.CreateAccessToken(ctx, ghost))
	must(t, s.CreateAccessToken(ctx, storage.AccessToken{ID: "at-service", ClientID: f.client.ID,
		Subject: f.client.ID, Scopes: []string{"admin"}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	locked := failureAt(base, 1)
	_, err = s.RecordFailure(ctx, "src:locked", locked)
	must(t, err)

	for _, client := range []string{f.client.ID, "nobody"} {
		for _, key := range []string{"src:locked", "src:none"} {
			for _, token := range []string{"at-live", "at-family-revoked", "at-own-revoked", "at-ghost", "at-service", "nope"} {
				name := "GetClientThrottleToken(" + client + ", " + key + ", " + token + ")"
				c, th, tok, u, err := s.GetClientThrottleToken(ctx, client, key, token)
				must(t, err)
				wantC, err := s.GetClient(ctx, client)
				if errors.Is(err, storage.ErrNotFound) {
					wantC, err = storage.Client{}, nil
				}
				must(t, err)
				equal(t, name+" client as GetClient", c, wantC)
				wantTh, err := s.GetThrottle(ctx, key)
				must(t, err)
				equal(t, name+" throttle as GetThrottle", th, wantTh)
				wantT, wantU, err := s.GetAccessTokenUser(ctx, token)
				if errors.Is(err, storage.ErrNotFound) {
					wantT, wantU, err = storage.AccessToken{}, storage.User{}, nil
				}
				must(t, err)
				equal(t, name+" token as GetAccessTokenUser", tok, wantT)
				equal(t, name+" user as GetAccessTokenUser", u, wantU)
			}
		}
	}

	// What GetAccessTokenUser reads, spelled out, so that the comparison
	// above cannot pass on two equally wrong reads.
	_, _, tok, u, err := s.GetClientThrottleToken(ctx, f.client.ID, "src:none", "at-live")
	must(t, err)
	equal(t, "live token", tok, live)
	equal(t, "live token's user roles", u.Roles, []storage.Role{storage.RoleAdmin, storage.RoleAssigningManager})
	equal(t, "live token's user", u.ID, f.user.ID)
	_, _, tok, _, err = s.GetClientThrottleToken(ctx, "nobody", "src:none", "at-family-revoked")
	must(t, err)
	equal(t, "token stored in a revoked family: RevokedAt", tok.RevokedAt, base.Add(time.Minute))
	_, _, tok, u, err = s.GetClientThrottleToken(ctx, f.client.ID, "src:locked", "at-ghost")
	must(t, err)
	equal(t, "token of no user", tok, ghost)
	equal(t, "token of no user: user", u, storage.User{})
	_, _, tok, u, err = s.GetClientThrottleToken(ctx, f.client.ID, "src:locked", "nope")
	must(t, err)
	equal(t, "unknown token", tok, storage.AccessToken{})
	equal(t, "unknown token: user", u, storage.User{})
}
