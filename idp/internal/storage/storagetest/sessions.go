package storagetest

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testSessions(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	in := f.session("s1", base.Add(8*time.Hour))
	must(t, s.CreateSession(ctx, in))
	wantErr(t, "CreateSession(same id)", s.CreateSession(ctx, in), storage.ErrAlreadyExists)
	orphan := f.session("s2", base.Add(time.Hour))
	orphan.UserID = "nobody"
	wantErr(t, "CreateSession(unknown user)", s.CreateSession(ctx, orphan), storage.ErrNotFound)

	got, err := s.GetSession(ctx, "s1", base.Add(time.Minute))
	must(t, err)
	equal(t, "GetSession", got, in)

	seen := base.Add(time.Hour)
	must(t, s.TouchSession(ctx, "s1", seen))
	got, err = s.GetSession(ctx, "s1", seen)
	must(t, err)
	in.LastSeenAt = seen
	equal(t, "GetSession after TouchSession", got, in)

	// Expiry is checked against the caller's now.
	_, err = s.GetSession(ctx, "s1", in.ExpiresAt)
	wantErr(t, "GetSession at expiry", err, storage.ErrNotFound)
	wantErr(t, "TouchSession after expiry", s.TouchSession(ctx, "s1", in.ExpiresAt.Add(time.Second)), storage.ErrNotFound)
	_, err = s.GetSession(ctx, "unknown", base)
	wantErr(t, "GetSession(unknown)", err, storage.ErrNotFound)
	wantErr(t, "TouchSession(unknown)", s.TouchSession(ctx, "unknown", base), storage.ErrNotFound)

	must(t, s.RevokeSession(ctx, "s1", seen))
	_, err = s.GetSession(ctx, "s1", seen)
	wantErr(t, "GetSession(revoked)", err, storage.ErrNotFound)
	wantErr(t, "TouchSession(revoked)", s.TouchSession(ctx, "s1", seen), storage.ErrNotFound)
	must(t, s.RevokeSession(ctx, "s1", seen.Add(time.Hour))) // again: no error
	wantErr(t, "RevokeSession(unknown)", s.RevokeSession(ctx, "unknown", seen), storage.ErrNotFound)
}

func testSessionClients(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	must(t, s.CreateSession(ctx, f.session("s1", base.Add(8*time.Hour))))
	must(t, s.CreateSession(ctx, f.session("s2", base.Add(8*time.Hour))))
	has := func(id, client string) bool {
		t.Helper()
		ok, err := s.SessionHasClient(ctx, id, client)
		must(t, err)
		return ok
	}
	equal(t, "SessionHasClient before any sign-in", has("s1", f.client.ID), false)
	must(t, s.AddSessionClient(ctx, "s1", f.client.ID))
	must(t, s.AddSessionClient(ctx, "s1", f.client.ID)) // again: no error
	equal(t, "SessionHasClient after AddSessionClient", has("s1", f.client.ID), true)
	equal(t, "another session", has("s2", f.client.ID), false)
	equal(t, "another client", has("s1", "other-client"), false)
	equal(t, "an unknown session", has("nope", f.client.ID), false)

	// The record goes with its session.
	_, err := s.DeleteExpired(ctx, base.Add(9*time.Hour))
	must(t, err)
	equal(t, "SessionHasClient after the session expired and was deleted", has("s1", f.client.ID), false)
}
