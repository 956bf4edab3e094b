package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// oneTimeToken is an open token of u for purpose, created at created and
// valid for half an hour.
func oneTimeToken(hash string, u storage.User, purpose string, created time.Time) storage.OneTimeToken {
	return storage.OneTimeToken{
		Hash:      hash,
		UserID:    u.ID,
		Purpose:   purpose,
		SentTo:    u.Email,
		CreatedAt: created,
		ExpiresAt: created.Add(30 * time.Minute),
	}
}

func getOneTimeToken(t *testing.T, s storage.Storage, hash string) storage.OneTimeToken {
	t.Helper()
	got, err := s.GetOneTimeToken(t.Context(), hash)
	if err != nil {
		t.Fatalf("GetOneTimeToken(%s): %v", hash, err)
	}
	return got
}

func testOneTimeTokenCreateGet(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	in := oneTimeToken("h1", ann, storage.PurposeEmailChange, base)
	in.SentTo = "ann.lee@example.org"
	in.Data = ann.Email
	must(t, s.CreateOneTimeToken(ctx, in))
	equal(t, "GetOneTimeToken", getOneTimeToken(t, s, "h1"), in)

	wantErr(t, "CreateOneTimeToken(same hash)", s.CreateOneTimeToken(ctx, oneTimeToken("h1", ann, storage.PurposeEmailChange, base.Add(time.Minute))), storage.ErrAlreadyExists)
	equal(t, "token after a refused duplicate (not voided by it)", getOneTimeToken(t, s, "h1"), in)
	wantErr(t, "CreateOneTimeToken(unknown user)",
		s.CreateOneTimeToken(ctx, oneTimeToken("h2", storage.User{ID: "nobody"}, storage.PurposePasswordReset, base)), storage.ErrNotFound)
	_, err := s.GetOneTimeToken(ctx, "h2")
	wantErr(t, "GetOneTimeToken(refused)", err, storage.ErrNotFound)
	_, err = s.GetOneTimeToken(ctx, "nope")
	wantErr(t, "GetOneTimeToken(unknown)", err, storage.ErrNotFound)
}

// testOneTimeTokenNewestWins: a new token voids the user's open tokens of
// the same purpose, and nothing else.
func testOneTimeTokenNewestWins(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	bo := createUser(t, s, employee("Bo", "Kim", "bo@example.org"))
	first := oneTimeToken("reset1", ann, storage.PurposePasswordReset, base)
	invite := oneTimeToken("invite1", ann, storage.PurposeInvitation, base)
	others := oneTimeToken("bo-reset", bo, storage.PurposePasswordReset, base)
	for _, tok := range []storage.OneTimeToken{first, invite, others} {
		must(t, s.CreateOneTimeToken(ctx, tok))
	}

	t1 := base.Add(time.Minute)
	second := oneTimeToken("reset2", ann, storage.PurposePasswordReset, t1)
	must(t, s.CreateOneTimeToken(ctx, second))
	voided := first
	voided.VoidedAt = t1
	equal(t, "the earlier reset token", getOneTimeToken(t, s, "reset1"), voided)
	equal(t, "the newer reset token", getOneTimeToken(t, s, "reset2"), second)
	equal(t, "the user's token of another purpose", getOneTimeToken(t, s, "invite1"), invite)
	equal(t, "another user's token", getOneTimeToken(t, s, "bo-reset"), others)

	_, err := s.UseOneTimeToken(ctx, "reset1", storage.PurposePasswordReset, t1)
	wantErr(t, "UseOneTimeToken(voided)", err, storage.ErrNotFound)

	// A used token keeps its state when a newer one comes.
	t2 := t1.Add(time.Minute)
	_, err = s.UseOneTimeToken(ctx, "reset2", storage.PurposePasswordReset, t2)
	must(t, err)
	must(t, s.CreateOneTimeToken(ctx, oneTimeToken("reset3", ann, storage.PurposePasswordReset, t2.Add(time.Minute))))
	used := getOneTimeToken(t, s, "reset2")
	equal(t, "used token: UsedAt", used.UsedAt, t2)
	equal(t, "used token: VoidedAt", used.VoidedAt, time.Time{})
	equal(t, "voided token keeps its first VoidedAt", getOneTimeToken(t, s, "reset1").VoidedAt, t1)
}

func testOneTimeTokenUse(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	tok := oneTimeToken("h1", ann, storage.PurposeInvitation, base)
	tok.Data = "first password"
	must(t, s.CreateOneTimeToken(ctx, tok))

	_, err := s.UseOneTimeToken(ctx, "h1", storage.PurposePasswordReset, base)
	wantErr(t, "UseOneTimeToken(other purpose)", err, storage.ErrNotFound)
	_, err = s.UseOneTimeToken(ctx, "h1", storage.PurposeInvitation, tok.ExpiresAt)
	wantErr(t, "UseOneTimeToken(at expiry)", err, storage.ErrNotFound)
	_, err = s.UseOneTimeToken(ctx, "nope", storage.PurposeInvitation, base)
	wantErr(t, "UseOneTimeToken(unknown)", err, storage.ErrNotFound)
	equal(t, "token after refused uses", getOneTimeToken(t, s, "h1"), tok)

	now := base.Add(time.Minute)
	got, err := s.UseOneTimeToken(ctx, "h1", storage.PurposeInvitation, now)
	must(t, err)
	want := tok
	want.UsedAt = now
	equal(t, "UseOneTimeToken", got, want)
	equal(t, "GetOneTimeToken after use", getOneTimeToken(t, s, "h1"), want)

	_, err = s.UseOneTimeToken(ctx, "h1", storage.PurposeInvitation, now.Add(time.Second))
	wantErr(t, "UseOneTimeToken a second time", err, storage.ErrReused)
	equal(t, "UsedAt after the second use", getOneTimeToken(t, s, "h1").UsedAt, now)
}

// testOneTimeTokenConcurrent: of many callers using one token exactly one
// wins; of many tokens created at once for one user and purpose exactly one
// stays open.
func testOneTimeTokenConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	must(t, s.CreateOneTimeToken(ctx, oneTimeToken("h", ann, storage.PurposePasswordReset, base)))
	errs := race(concurrency, func(int) error {
		_, err := s.UseOneTimeToken(ctx, "h", storage.PurposePasswordReset, base.Add(time.Minute))
		return err
	})
	equal(t, "callers that used the token", winners(t, errs, storage.ErrReused), 1)

	errs = race(concurrency, func(i int) error {
		return s.CreateOneTimeToken(ctx, oneTimeToken(fmt.Sprintf("c%d", i), ann, storage.PurposeEmailChange, base))
	})
	equal(t, "tokens created", winners(t, errs, nil), concurrency)
	open := 0
	for i := range concurrency {
		if getOneTimeToken(t, s, fmt.Sprintf("c%d", i)).VoidedAt.IsZero() {
			open++
		}
	}
	equal(t, "open tokens after concurrent creates", open, 1)
}
