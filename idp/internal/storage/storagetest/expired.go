package storagetest

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testDeleteExpired(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	now := wallClock()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)

	// One expired and one live row of every kind DeleteExpired cleans.
	must(t, s.CreateAuthRequest(ctx, f.authRequest("req-old", past.Add(-15*time.Minute))))
	must(t, s.CreateAuthRequest(ctx, f.authRequest("req-live", now)))
	must(t, s.CreateSession(ctx, f.session("s-old", past)))
	must(t, s.CreateSession(ctx, f.session("s-live", future)))
	must(t, s.CreateAccessToken(ctx, f.access("at-old", "fam", past)))
	must(t, s.CreateAccessToken(ctx, f.access("at-live", "fam", future)))
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt-old", "fam", past)))
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt-live", "fam", future)))
	ott := func(hash, purpose string, expires time.Time) storage.OneTimeToken {
		return storage.OneTimeToken{Hash: hash, UserID: f.user.ID, Purpose: purpose, CreatedAt: past.Add(-time.Hour), ExpiresAt: expires}
	}
	must(t, s.CreateOneTimeToken(ctx, ott("ott-old", storage.PurposeInvitation, past)))
	must(t, s.CreateOneTimeToken(ctx, ott("ott-live", storage.PurposePasswordReset, future)))
	// A revoked family stays revoked: it is not DeleteExpired's.
	must(t, s.RevokeFamily(ctx, "fam-revoked", past.Add(-24*time.Hour)))
	// A throttle matters until its window (and any lock) is over.
	_, err := s.RecordFailure(ctx, "account:old", storage.Failure{Now: now.Add(-2 * window), ResetBefore: now.Add(-3 * window)})
	must(t, err)
	_, err = s.RecordFailure(ctx, "account:live", storage.Failure{Now: now, ResetBefore: now.Add(-window)})
	must(t, err)
	locked := storage.Failure{Now: now.Add(-2 * window), ResetBefore: now.Add(-3 * window), LockAfter: 1, LockUntil: future}
	_, err = s.RecordFailure(ctx, "account:locked", locked)
	must(t, err)
	// Signing keys are not DeleteExpired's.
	must(t, s.CreateSigningKey(ctx, storage.SigningKey{ID: "k", Algorithm: "RS256", PrivateKey: []byte{1}, PublicKey: []byte{2},
		CreatedAt: past, ActivateAt: past, ExpireAt: past}))

	n, err := s.DeleteExpired(ctx, now)
	must(t, err)
	equal(t, "rows deleted", n, int64(6))
	n, err = s.DeleteExpired(ctx, now)
	must(t, err)
	equal(t, "rows deleted the second time", n, int64(0))

	_, err = s.GetAuthRequest(ctx, "req-old")
	wantErr(t, "expired auth request", err, storage.ErrNotFound)
	_, err = s.GetAuthRequest(ctx, "req-live")
	must(t, err)
	_, err = s.GetSession(ctx, "s-live", now)
	must(t, err)
	_, err = s.GetAccessToken(ctx, "at-old")
	wantErr(t, "expired access token", err, storage.ErrNotFound)
	_, err = s.GetAccessToken(ctx, "at-live")
	must(t, err)
	_, err = s.GetRefreshToken(ctx, "rt-old")
	wantErr(t, "expired refresh token", err, storage.ErrNotFound)
	_, err = s.GetRefreshToken(ctx, "rt-live")
	must(t, err)
	_, err = s.GetOneTimeToken(ctx, "ott-old")
	wantErr(t, "expired one-time token", err, storage.ErrNotFound)
	_, err = s.GetOneTimeToken(ctx, "ott-live")
	must(t, err)
	must(t, s.CreateAccessToken(ctx, f.access("at-late", "fam-revoked", future)))
	late, err := s.GetAccessToken(ctx, "at-late")
	must(t, err)
	equal(t, "token of a family revoked before DeleteExpired: RevokedAt", late.RevokedAt, past.Add(-24*time.Hour))
	for key, want := range map[string]int{"account:old": 0, "account:live": 1, "account:locked": 1} {
		th, err := s.GetThrottle(ctx, key)
		must(t, err)
		equal(t, key+" failures", th.Failures, want)
	}
}
