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

// testClientThrottle: GetClientThrottle reads what GetClient and
// GetThrottle read, whichever of the two exists.
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
		got, th, err := s.GetClientThrottle(ctx, tc.client, tc.key)
		must(t, err)
		equal(t, "GetClientThrottle("+tc.client+", "+tc.key+") client", got, tc.want)
		equal(t, "GetClientThrottle("+tc.client+", "+tc.key+") throttle", th, tc.wantTh)
		if tc.want.ID != "" {
			want, err := s.GetClient(ctx, tc.client)
			must(t, err)
			equal(t, "GetClientThrottle client as GetClient", got, want)
		}
		wantTh, err := s.GetThrottle(ctx, tc.key)
		must(t, err)
		equal(t, "GetClientThrottle throttle as GetThrottle", th, wantTh)
	}
}
