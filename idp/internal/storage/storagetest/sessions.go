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
