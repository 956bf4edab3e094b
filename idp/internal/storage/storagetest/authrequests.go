package storagetest

import (
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testAuthRequestLifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	now := wallClock()

	// Every field round-trips, MaxAge both set and unset.
	in := f.authRequest("req1", now)
	maxAge := 90 * time.Second
	in.MaxAge, in.Prompt, in.LoginHint, in.ResponseMode = &maxAge, []string{"login", "consent"}, "ann@example.org", "query"
	in.HintSubject = f.user.ID
	in.BrowserHash = "browser-hash-1"
	in.ACRValues = []string{"mfa"}
	must(t, s.CreateAuthRequest(ctx, in))
	got, err := s.GetAuthRequest(ctx, "req1")
	must(t, err)
	equal(t, "GetAuthRequest", got, in)
	must(t, s.CreateAuthRequest(ctx, f.authRequest("req2", now)))
	got, err = s.GetAuthRequest(ctx, "req2")
	must(t, err)
	equal(t, "GetAuthRequest without max_age", got, f.authRequest("req2", now))

	// The user authenticates.
	res := storage.AuthResult{UserID: f.user.ID, AuthTime: now, AMR: []string{"pwd", "otp"}, SessionID: "ses-hash"}
	must(t, s.CompleteAuthRequest(ctx, "req1", res))
	want := in
	want.UserID, want.AuthTime, want.AMR, want.SessionID, want.Done = res.UserID, res.AuthTime, res.AMR, res.SessionID, true
	got, err = s.GetAuthRequest(ctx, "req1")
	must(t, err)
	equal(t, "completed request", got, want)

	// A code is issued and found by its hash.
	_, err = s.GetAuthRequestByCode(ctx, "code-hash-1")
	wantErr(t, "GetAuthRequestByCode before the code", err, storage.ErrNotFound)
	must(t, s.SetAuthRequestCode(ctx, "req1", "code-hash-1"))
	want.CodeHash = "code-hash-1"
	got, err = s.GetAuthRequestByCode(ctx, "code-hash-1")
	must(t, err)
	equal(t, "GetAuthRequestByCode", got, want)

	// One code per request: a second callback mints nothing.
	wantErr(t, "SetAuthRequestCode a second time", s.SetAuthRequestCode(ctx, "req1", "code-hash-2"), storage.ErrNotFound)
	got, err = s.GetAuthRequest(ctx, "req1")
	must(t, err)
	equal(t, "request after a second SetAuthRequestCode", got, want)

	must(t, s.DeleteAuthRequest(ctx, "req1"))
	_, err = s.GetAuthRequest(ctx, "req1")
	wantErr(t, "GetAuthRequest(deleted)", err, storage.ErrNotFound)
	_, err = s.GetAuthRequestByCode(ctx, "code-hash-1")
	wantErr(t, "GetAuthRequestByCode(deleted)", err, storage.ErrNotFound)
	wantErr(t, "DeleteAuthRequest(deleted)", s.DeleteAuthRequest(ctx, "req1"), storage.ErrNotFound)
}

func testAuthRequestRejects(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	now := wallClock()
	res := storage.AuthResult{UserID: f.user.ID, AuthTime: now, AMR: []string{"pwd"}}

	must(t, s.CreateAuthRequest(ctx, f.authRequest("req1", now)))
	wantErr(t, "CreateAuthRequest(same id)", s.CreateAuthRequest(ctx, f.authRequest("req1", now)), storage.ErrAlreadyExists)
	orphan := f.authRequest("req2", now)
	orphan.ClientID = "no-such-client"
	wantErr(t, "CreateAuthRequest(unknown client)", s.CreateAuthRequest(ctx, orphan), storage.ErrNotFound)

	wantErr(t, "CompleteAuthRequest(unknown)", s.CompleteAuthRequest(ctx, "nope", res), storage.ErrNotFound)
	wantErr(t, "SetAuthRequestCode(not completed)", s.SetAuthRequestCode(ctx, "req1", "h"), storage.ErrNotFound)

	// An expired request cannot be completed, and its code is not found.
	expired := f.authRequest("old", now.Add(-time.Hour))
	must(t, s.CreateAuthRequest(ctx, expired))
	wantErr(t, "CompleteAuthRequest(expired)", s.CompleteAuthRequest(ctx, "old", res), storage.ErrNotFound)
	expired = f.authRequest("old2", now.Add(-time.Hour))
	expired.Done, expired.UserID, expired.CodeHash = true, f.user.ID, "old-code"
	must(t, s.CreateAuthRequest(ctx, expired))
	_, err := s.GetAuthRequestByCode(ctx, "old-code")
	wantErr(t, "GetAuthRequestByCode(expired)", err, storage.ErrNotFound)
	_, err = s.RedeemCode(ctx, "old-code", "fam", now)
	wantErr(t, "RedeemCode(expired)", err, storage.ErrNotFound)
}

// completedWithCode creates a completed request holding codeHash.
func completedWithCode(t *testing.T, s storage.Storage, f grantFixture, id, codeHash string) storage.AuthRequest {
	t.Helper()
	ctx := t.Context()
	r := f.authRequest(id, wallClock())
	must(t, s.CreateAuthRequest(ctx, r))
	must(t, s.CompleteAuthRequest(ctx, id, storage.AuthResult{UserID: f.user.ID, AuthTime: r.CreatedAt, AMR: []string{"pwd"}}))
	must(t, s.SetAuthRequestCode(ctx, id, codeHash))
	got, err := s.GetAuthRequest(ctx, id)
	must(t, err)
	return got
}

func testRedeemCode(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	r := completedWithCode(t, s, f, "req1", "code1")
	now := wallClock()

	got, err := s.RedeemCode(ctx, "code1", "fam1", now)
	must(t, err)
	want := r
	want.RedeemedAt, want.FamilyID = now, "fam1"
	equal(t, "RedeemCode", got, want)
	byCode, err := s.GetAuthRequestByCode(ctx, "code1")
	must(t, err)
	equal(t, "GetAuthRequestByCode finds a redeemed code", byCode, want)

	// The exchange produced tokens; another family's tokens stand by.
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt1", "fam1", base.Add(time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("at1", "fam1", base.Add(time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("other", "fam2", base.Add(time.Hour))))

	later := now.Add(time.Second)
	_, err = s.RedeemCode(ctx, "code1", "fam-attacker", later)
	wantErr(t, "RedeemCode a second time", err, storage.ErrReused)
	rt, err := s.GetRefreshToken(ctx, "rt1")
	must(t, err)
	equal(t, "refresh token of the reused code: RevokedAt", rt.RevokedAt, later)
	at, err := s.GetAccessToken(ctx, "at1")
	must(t, err)
	equal(t, "access token of the reused code: RevokedAt", at.RevokedAt, later)
	other, err := s.GetAccessToken(ctx, "other")
	must(t, err)
	equal(t, "another family's token: RevokedAt", other.RevokedAt, time.Time{})
	byCode, err = s.GetAuthRequestByCode(ctx, "code1")
	must(t, err)
	equal(t, "the second call changed nothing on the request", byCode, want)

	_, err = s.RedeemCode(ctx, "no-such-code", "fam3", now)
	wantErr(t, "RedeemCode(unknown)", err, storage.ErrNotFound)
}

// testOneCodePerRequestConcurrent: callbacks racing for one completed
// request store exactly one code.
func testOneCodePerRequestConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	r := f.authRequest("req1", wallClock())
	must(t, s.CreateAuthRequest(ctx, r))
	must(t, s.CompleteAuthRequest(ctx, "req1", storage.AuthResult{UserID: f.user.ID, AuthTime: r.CreatedAt, AMR: []string{"pwd"}}))
	errs := race(concurrency, func(i int) error {
		return s.SetAuthRequestCode(ctx, "req1", "code-"+string(rune('a'+i)))
	})
	equal(t, "callers that stored a code", winners(t, errs, storage.ErrNotFound), 1)
}

func testRedeemCodeConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	completedWithCode(t, s, f, "req1", "code1")
	now := wallClock()
	errs := race(concurrency, func(i int) error {
		_, err := s.RedeemCode(ctx, "code1", "fam"+string(rune('a'+i)), now)
		return err
	})
	equal(t, "callers that redeemed the code", winners(t, errs, storage.ErrReused), 1)
}

// testAuthRequestClient: GetAuthRequestClient reads what GetAuthRequest
// and GetClient of the request's client read, in every state of the
// request.
func testAuthRequestClient(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	other := createClient(t, s, "portal")
	now := wallClock()
	check := func(what, id string) {
		t.Helper()
		r, c, err := s.GetAuthRequestClient(ctx, id)
		must(t, err)
		wantR, err := s.GetAuthRequest(ctx, id)
		must(t, err)
		wantC, err := s.GetClient(ctx, wantR.ClientID)
		must(t, err)
		equal(t, what+": request as GetAuthRequest", r, wantR)
		equal(t, what+": client as GetClient", c, wantC)
	}

	in := f.authRequest("req1", now)
	maxAge := 90 * time.Second
	in.MaxAge, in.Prompt, in.BrowserHash, in.ACRValues = &maxAge, []string{"login"}, "browser-hash-1", []string{"mfa"}
	must(t, s.CreateAuthRequest(ctx, in))
	check("new request", "req1")
	o := f.authRequest("req2", now)
	o.ClientID = other.ID
	must(t, s.CreateAuthRequest(ctx, o))
	check("another client's request", "req2")

	must(t, s.CompleteAuthRequest(ctx, "req1", storage.AuthResult{UserID: f.user.ID, AuthTime: now, AMR: []string{"pwd"}, SessionID: "ses-hash"}))
	check("completed request", "req1")
	must(t, s.SetAuthRequestCode(ctx, "req1", "code-hash-1"))
	check("request with its code", "req1")

	_, _, err := s.GetAuthRequestClient(ctx, "nope")
	wantErr(t, "GetAuthRequestClient(unknown)", err, storage.ErrNotFound)
	must(t, s.DeleteClient(ctx, other.ID))
	_, _, err = s.GetAuthRequestClient(ctx, "req2")
	wantErr(t, "GetAuthRequestClient(request of a deleted client)", err, storage.ErrNotFound)
}
