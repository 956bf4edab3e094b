package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func testAccessTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	in := f.access("jti1", "fam1", base.Add(time.Hour))
	must(t, s.CreateAccessToken(ctx, in))
	wantErr(t, "CreateAccessToken(same id)", s.CreateAccessToken(ctx, in), storage.ErrAlreadyExists)
	got, err := s.GetAccessToken(ctx, "jti1")
	must(t, err)
	equal(t, "GetAccessToken", got, in)

	// A client_credentials token: no family, the client is the subject.
	svc := storage.AccessToken{ID: "jti2", ClientID: f.client.ID, Subject: f.client.ID, Scopes: []string{"admin"},
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreateAccessToken(ctx, svc))
	got, err = s.GetAccessToken(ctx, "jti2")
	must(t, err)
	equal(t, "GetAccessToken(client_credentials)", got, svc)

	must(t, s.RevokeAccessToken(ctx, "jti1", base.Add(time.Minute)))
	must(t, s.RevokeAccessToken(ctx, "jti1", base.Add(time.Hour))) // again: first time kept
	got, err = s.GetAccessToken(ctx, "jti1")
	must(t, err)
	equal(t, "RevokedAt", got.RevokedAt, base.Add(time.Minute))
	wantErr(t, "RevokeAccessToken(unknown)", s.RevokeAccessToken(ctx, "nope", base), storage.ErrNotFound)
	_, err = s.GetAccessToken(ctx, "nope")
	wantErr(t, "GetAccessToken(unknown)", err, storage.ErrNotFound)

	// The token and its user in one call: the same as the two reads.
	gotT, gotU, err := s.GetAccessTokenUser(ctx, "jti1")
	must(t, err)
	wantT, err := s.GetAccessToken(ctx, "jti1")
	must(t, err)
	wantU, err := s.GetUser(ctx, in.Subject)
	must(t, err)
	equal(t, "GetAccessTokenUser token", gotT, wantT)
	equal(t, "GetAccessTokenUser user", gotU, wantU)
	gotT, gotU, err = s.GetAccessTokenUser(ctx, "jti2")
	must(t, err)
	equal(t, "GetAccessTokenUser(client_credentials) token", gotT, svc)
	equal(t, "GetAccessTokenUser(client_credentials) user", gotU, storage.User{})
	_, _, err = s.GetAccessTokenUser(ctx, "nope")
	wantErr(t, "GetAccessTokenUser(unknown)", err, storage.ErrNotFound)
}

func testRefreshRotation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	rt1 := f.refresh("rt1", "fam1", base.Add(24*time.Hour))
	must(t, s.CreateRefreshToken(ctx, rt1))
	wantErr(t, "CreateRefreshToken(same hash)", s.CreateRefreshToken(ctx, rt1), storage.ErrAlreadyExists)
	got, err := s.GetRefreshToken(ctx, "rt1")
	must(t, err)
	equal(t, "GetRefreshToken", got, rt1)
	// The token and its user in one call: the same as the two reads.
	gotT, gotU, err := s.GetRefreshTokenUser(ctx, "rt1")
	must(t, err)
	equal(t, "GetRefreshTokenUser token", gotT, rt1)
	wantU, err := s.GetUser(ctx, rt1.UserID)
	must(t, err)
	equal(t, "GetRefreshTokenUser user", gotU, wantU)
	_, _, err = s.GetRefreshTokenUser(ctx, "nope")
	wantErr(t, "GetRefreshTokenUser(unknown)", err, storage.ErrNotFound)
	must(t, s.CreateAccessToken(ctx, f.access("at1", "fam1", base.Add(time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("bystander", "fam2", base.Add(time.Hour))))

	// rt1 → rt2: rt1 is marked rotated, rt2 joins the family.
	t1 := base.Add(time.Hour)
	rt2 := f.refresh("rt2", "fam1", base.Add(25*time.Hour))
	rt2.CreatedAt = t1
	must(t, s.RotateRefreshToken(ctx, "rt1", rt2, f.accessFor("rt2"), t1, 0))
	got, err = s.GetRefreshToken(ctx, "rt1")
	must(t, err)
	rt1.RotatedAt, rt1.SuccessorHash = t1, "rt2"
	equal(t, "rotated token", got, rt1)
	got, err = s.GetRefreshToken(ctx, "rt2")
	must(t, err)
	equal(t, "successor", got, rt2)
	wantAccess := f.accessFor("rt2")
	wantAccess.FamilyID = "fam1"
	gotAccess, err := s.GetAccessToken(ctx, "at-rt2")
	must(t, err)
	equal(t, "access token stored with the rotation", gotAccess, wantAccess)

	// Presenting rt1 again is reuse: the family, access tokens included,
	// is revoked; another family is not.
	t2 := base.Add(2 * time.Hour)
	err = s.RotateRefreshToken(ctx, "rt1", f.refresh("rt3", "fam1", base.Add(26*time.Hour)), f.accessFor("rt3"), t2, 0)
	wantErr(t, "rotating a rotated token", err, storage.ErrReused)
	for _, h := range []string{"rt1", "rt2"} {
		got, err := s.GetRefreshToken(ctx, h)
		must(t, err)
		equal(t, h+" RevokedAt", got.RevokedAt, t2)
	}
	_, err = s.GetRefreshToken(ctx, "rt3")
	wantErr(t, "the reuse stored no successor", err, storage.ErrNotFound)
	noAccess(t, s, "at-rt3")
	gotAccess, err = s.GetAccessToken(ctx, "at-rt2")
	must(t, err)
	equal(t, "rotation's access token RevokedAt", gotAccess.RevokedAt, t2)
	at, err := s.GetAccessToken(ctx, "at1")
	must(t, err)
	equal(t, "family access token RevokedAt", at.RevokedAt, t2)
	by, err := s.GetAccessToken(ctx, "bystander")
	must(t, err)
	equal(t, "other family's access token RevokedAt", by.RevokedAt, time.Time{})

	// The successor is revoked now: presenting it is reuse too.
	err = s.RotateRefreshToken(ctx, "rt2", f.refresh("rt4", "fam1", base.Add(26*time.Hour)), f.accessFor("rt4"), t2, 0)
	wantErr(t, "rotating a revoked token", err, storage.ErrReused)
	noAccess(t, s, "at-rt4")
}

// accessIn checks that the access token id, stored by a rotation, is in
// family.
func accessIn(t *testing.T, s storage.Storage, id, family string) {
	t.Helper()
	at, err := s.GetAccessToken(t.Context(), id)
	must(t, err)
	equal(t, id+" FamilyID", at.FamilyID, family)
}

// noAccess checks that a refused rotation stored no access token id.
func noAccess(t *testing.T, s storage.Storage, id string) {
	t.Helper()
	_, err := s.GetAccessToken(t.Context(), id)
	wantErr(t, id+" of a refused rotation", err, storage.ErrNotFound)
}

func testRefreshRotationRejects(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	err := s.RotateRefreshToken(ctx, "unknown", f.refresh("n1", "famX", base.Add(time.Hour)), f.accessFor("n1"), base, 0)
	wantErr(t, "rotating an unknown token", err, storage.ErrNotFound)
	noAccess(t, s, "at-n1")

	// An expired token is not found, and not reuse: its family stands.
	must(t, s.CreateRefreshToken(ctx, f.refresh("old", "fam1", base.Add(time.Hour))))
	must(t, s.CreateRefreshToken(ctx, f.refresh("sibling", "fam1", base.Add(48*time.Hour))))
	err = s.RotateRefreshToken(ctx, "old", f.refresh("n2", "fam1", base.Add(48*time.Hour)), f.accessFor("n2"), base.Add(time.Hour), 0)
	wantErr(t, "rotating an expired token", err, storage.ErrNotFound)
	noAccess(t, s, "at-n2")
	sib, err := s.GetRefreshToken(ctx, "sibling")
	must(t, err)
	equal(t, "sibling RevokedAt", sib.RevokedAt, time.Time{})

	// A successor naming an unknown user is refused and the old token
	// stays unrotated.
	must(t, s.CreateRefreshToken(ctx, f.refresh("live", "fam2", base.Add(48*time.Hour))))
	bad := f.refresh("n3", "fam2", base.Add(48*time.Hour))
	bad.UserID = "nobody"
	if err := s.RotateRefreshToken(ctx, "live", bad, f.accessFor("n3"), base, 0); err == nil {
		t.Fatal("rotation to a successor of an unknown user: want an error")
	}
	live, err := s.GetRefreshToken(ctx, "live")
	must(t, err)
	equal(t, "token after a failed rotation: RotatedAt", live.RotatedAt, time.Time{})
	noAccess(t, s, "at-n3")
}

// testRefreshRotationConcurrent: of many callers presenting one token at
// once exactly one rotates it; the others are reuse, and the family —
// including the winner's successor — ends revoked.
func testRefreshRotationConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt", "fam1", base.Add(24*time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("at", "fam1", base.Add(time.Hour))))
	now := base.Add(time.Hour)
	errs := race(concurrency, func(i int) error {
		return s.RotateRefreshToken(ctx, "rt", f.refresh(fmt.Sprintf("next%d", i), "fam1", base.Add(25*time.Hour)), f.accessFor(fmt.Sprintf("next%d", i)), now, 0)
	})
	equal(t, "callers that rotated the token", winners(t, errs, storage.ErrReused), 1)
	for i, err := range errs {
		h := fmt.Sprintf("next%d", i)
		got, gerr := s.GetRefreshToken(ctx, h)
		if err != nil {
			wantErr(t, "successor of a losing caller", gerr, storage.ErrNotFound)
			noAccess(t, s, "at-"+h)
			continue
		}
		must(t, gerr)
		accessIn(t, s, "at-"+h, "fam1")
		if got.RevokedAt.IsZero() {
			t.Errorf("winner's successor %s is not revoked after the reuse", h)
		}
	}
	at, err := s.GetAccessToken(ctx, "at")
	must(t, err)
	if at.RevokedAt.IsZero() {
		t.Error("family access token not revoked after the reuse")
	}
}

func testRevokeRefreshAndFamily(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	must(t, s.CreateRefreshToken(ctx, f.refresh("a1", "famA", base.Add(time.Hour))))
	must(t, s.CreateRefreshToken(ctx, f.refresh("a2", "famA", base.Add(time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("atA", "famA", base.Add(time.Hour))))
	must(t, s.CreateRefreshToken(ctx, f.refresh("b1", "famB", base.Add(time.Hour))))

	must(t, s.RevokeRefreshToken(ctx, "a1", base))
	must(t, s.RevokeRefreshToken(ctx, "a1", base.Add(time.Minute))) // again: first time kept
	a1, err := s.GetRefreshToken(ctx, "a1")
	must(t, err)
	equal(t, "a1 RevokedAt", a1.RevokedAt, base)
	a2, err := s.GetRefreshToken(ctx, "a2")
	must(t, err)
	equal(t, "a2 RevokedAt after revoking a1 alone", a2.RevokedAt, time.Time{})
	wantErr(t, "RevokeRefreshToken(unknown)", s.RevokeRefreshToken(ctx, "nope", base), storage.ErrNotFound)

	t1 := base.Add(time.Minute)
	must(t, s.RevokeFamily(ctx, "famA", t1))
	a1, err = s.GetRefreshToken(ctx, "a1")
	must(t, err)
	equal(t, "a1 keeps its first RevokedAt", a1.RevokedAt, base)
	a2, err = s.GetRefreshToken(ctx, "a2")
	must(t, err)
	equal(t, "a2 RevokedAt", a2.RevokedAt, t1)
	at, err := s.GetAccessToken(ctx, "atA")
	must(t, err)
	equal(t, "atA RevokedAt", at.RevokedAt, t1)
	b1, err := s.GetRefreshToken(ctx, "b1")
	must(t, err)
	equal(t, "other family RevokedAt", b1.RevokedAt, time.Time{})
}

func testRevokeUserGrants(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	g := grantFixture{client: f.client, user: createUser(t, s, employee("Bo", "Bystander", "bo@example.org"))}
	for _, x := range []grantFixture{f, g} {
		id := x.user.ID
		must(t, s.CreateSession(ctx, x.session("s-"+id, base.Add(time.Hour))))
		must(t, s.CreateRefreshToken(ctx, x.refresh("rt-"+id, "fam-"+id, base.Add(time.Hour))))
		must(t, s.CreateAccessToken(ctx, x.access("at-"+id, "fam-"+id, base.Add(time.Hour))))
		for _, purpose := range []string{storage.PurposePasswordReset, storage.PurposeInvitation, storage.PurposeEmailChange} {
			must(t, s.CreateOneTimeToken(ctx, oneTimeToken(purpose+"-"+id, x.user, purpose, base)))
		}
	}
	// A used link keeps its state.
	must(t, s.CreateOneTimeToken(ctx, oneTimeToken("used-"+f.user.ID, f.user, storage.PurposePasswordReset, base.Add(time.Second))))
	_, err := s.UseOneTimeToken(ctx, "used-"+f.user.ID, storage.PurposePasswordReset, base.Add(2*time.Second))
	must(t, err)
	now := base.Add(time.Minute)
	must(t, s.RevokeUserGrants(ctx, f.user.ID, now))

	// Every open link of the user is voided, whatever its purpose; the
	// used one and the bystander's stay as they were.
	for _, purpose := range []string{storage.PurposeInvitation, storage.PurposeEmailChange} {
		tok := getOneTimeToken(t, s, purpose+"-"+f.user.ID)
		equal(t, purpose+" link VoidedAt", tok.VoidedAt, now)
		_, err := s.UseOneTimeToken(ctx, tok.Hash, purpose, now)
		wantErr(t, "UseOneTimeToken(voided with the grants)", err, storage.ErrNotFound)
		equal(t, "bystander's "+purpose+" link", getOneTimeToken(t, s, purpose+"-"+g.user.ID).VoidedAt, time.Time{})
	}
	used := getOneTimeToken(t, s, "used-"+f.user.ID)
	equal(t, "used link VoidedAt", used.VoidedAt, time.Time{})
	equal(t, "used link UsedAt", used.UsedAt, base.Add(2*time.Second))

	id := f.user.ID
	_, err = s.GetSession(ctx, "s-"+id, now)
	wantErr(t, "session of the revoked user", err, storage.ErrNotFound)
	rt, err := s.GetRefreshToken(ctx, "rt-"+id)
	must(t, err)
	equal(t, "refresh token RevokedAt", rt.RevokedAt, now)
	at, err := s.GetAccessToken(ctx, "at-"+id)
	must(t, err)
	equal(t, "access token RevokedAt", at.RevokedAt, now)

	// A refresh rotating while the revocation ran stores its successor
	// after it, in the same family: the successor and its access token
	// read back revoked and cannot be rotated.
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt2-"+id, "fam-"+id, base.Add(2*time.Hour))))
	must(t, s.CreateAccessToken(ctx, f.access("at2-"+id, "fam-"+id, base.Add(2*time.Hour))))
	rt, err = s.GetRefreshToken(ctx, "rt2-"+id)
	must(t, err)
	equal(t, "successor stored after the revocation: RevokedAt", rt.RevokedAt, now)
	_, u, err := s.GetRefreshTokenUser(ctx, "rt2-"+id)
	must(t, err)
	equal(t, "successor's user", u.ID, id)
	at, err = s.GetAccessToken(ctx, "at2-"+id)
	must(t, err)
	equal(t, "access token stored after the revocation: RevokedAt", at.RevokedAt, now)
	err = s.RotateRefreshToken(ctx, "rt2-"+id, f.refresh("rt3-"+id, "fam-"+id, base.Add(3*time.Hour)), f.accessFor("rt3-"+id), now.Add(time.Second), 0)
	wantErr(t, "rotating a successor stored after the revocation", err, storage.ErrReused)

	id = g.user.ID
	_, err = s.GetSession(ctx, "s-"+id, now)
	must(t, err)
	rt, err = s.GetRefreshToken(ctx, "rt-"+id)
	must(t, err)
	equal(t, "bystander refresh token RevokedAt", rt.RevokedAt, time.Time{})
	at, err = s.GetAccessToken(ctx, "at-"+id)
	must(t, err)
	equal(t, "bystander access token RevokedAt", at.RevokedAt, time.Time{})
	must(t, s.RotateRefreshToken(ctx, "rt-"+id, g.refresh("rt2-"+id, "fam-"+id, base.Add(2*time.Hour)), g.accessFor("rt2-"+id), now, 0))
}

// testRevokeUserGrantsRacingRotation: a rotation still open when the
// user's grants are revoked commits its successor afterwards (on
// PostgreSQL the revocation's UPDATE waits for the rotated row and
// rechecks that row only; the successor is outside its snapshot). The
// successor and its access token must read back revoked all the same and
// not rotate: a client refreshing in a loop keeps nothing through a
// password reset. On SQLite the revocation waits for the write lock and
// sees the successor.
func testRevokeUserGrantsRacingRotation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	must(t, s.CreateRefreshToken(ctx, f.refresh("race1", "famR", base.Add(24*time.Hour))))
	rotated, release := make(chan struct{}), make(chan struct{})
	rotation := make(chan error, 1)
	go func() {
		rotation <- s.InTx(ctx, func(tx storage.Storage) error {
			if err := tx.RotateRefreshToken(ctx, "race1", f.refresh("race2", "famR", base.Add(25*time.Hour)), f.access("race2-at", "", base.Add(2*time.Hour)), base.Add(time.Minute), 0); err != nil {
				return err
			}
			close(rotated)
			<-release // the revocation starts meanwhile
			return nil
		})
	}()
	select {
	case <-rotated:
	case err := <-rotation:
		t.Fatalf("rotation: %v", err)
	}
	now := base.Add(2 * time.Minute)
	revoked := make(chan error, 1)
	go func() { revoked <- s.RevokeUserGrants(ctx, f.user.ID, now) }()
	// Let the revocation reach the row the rotation holds, then commit.
	time.Sleep(300 * time.Millisecond)
	close(release)
	must(t, <-rotation)
	must(t, <-revoked)

	rt, err := s.GetRefreshToken(ctx, "race2")
	must(t, err)
	if rt.RevokedAt.IsZero() {
		t.Fatal("the successor of a rotation that raced the user's revocation is live")
	}
	at, err := s.GetAccessToken(ctx, "race2-at")
	must(t, err)
	if at.RevokedAt.IsZero() {
		t.Error("the access token of a rotation that raced the user's revocation is live")
	}
	err = s.RotateRefreshToken(ctx, "race2", f.refresh("race3", "famR", base.Add(26*time.Hour)), f.accessFor("race3"), now.Add(time.Second), 0)
	if err == nil {
		t.Error("the successor of a rotation that raced the user's revocation rotated")
	}
}

// testRevokedFamilyLateTokens: tokens stored in a family after it was
// revoked — the winner of a code exchange still issuing while a replay of
// the code revokes the family — read back revoked and cannot be rotated.
func testRevokedFamilyLateTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	t1 := base.Add(time.Minute)
	must(t, s.RevokeFamily(ctx, "famL", t1)) // no tokens yet
	must(t, s.RevokeFamily(ctx, "famL", t1.Add(time.Minute)))
	must(t, s.CreateAccessToken(ctx, f.access("atL", "famL", base.Add(time.Hour))))
	must(t, s.CreateRefreshToken(ctx, f.refresh("rtL", "famL", base.Add(24*time.Hour))))
	must(t, s.CreateRefreshToken(ctx, f.refresh("bystander", "famOK", base.Add(24*time.Hour))))
	at, err := s.GetAccessToken(ctx, "atL")
	must(t, err)
	equal(t, "late access token RevokedAt (the family's first revocation)", at.RevokedAt, t1)
	rt, err := s.GetRefreshToken(ctx, "rtL")
	must(t, err)
	equal(t, "late refresh token RevokedAt", rt.RevokedAt, t1)
	err = s.RotateRefreshToken(ctx, "rtL", f.refresh("rtL2", "famL", base.Add(25*time.Hour)), f.accessFor("rtL2"), t1.Add(time.Hour), 0)
	wantErr(t, "rotating a late token of a revoked family", err, storage.ErrReused)
	_, err = s.GetRefreshToken(ctx, "rtL2")
	wantErr(t, "successor of a refused rotation", err, storage.ErrNotFound)
	must(t, s.RotateRefreshToken(ctx, "bystander", f.refresh("bystander2", "famOK", base.Add(25*time.Hour)), f.accessFor("bystander2"), t1, 0))

	// The code replay race: the replay revokes the family before the
	// winner of the exchange has stored its tokens.
	completedWithCode(t, s, f, "req1", "code1")
	now := wallClock()
	_, err = s.RedeemCode(ctx, "code1", "famC", now)
	must(t, err)
	replay := now.Add(time.Second)
	_, err = s.RedeemCode(ctx, "code1", "famZ", replay)
	wantErr(t, "replayed code", err, storage.ErrReused)
	must(t, s.CreateAccessToken(ctx, f.access("atC", "famC", now.Add(time.Hour))))
	must(t, s.CreateRefreshToken(ctx, f.refresh("rtC", "famC", now.Add(24*time.Hour))))
	at, err = s.GetAccessToken(ctx, "atC")
	must(t, err)
	equal(t, "winner's access token RevokedAt", at.RevokedAt, replay)
	rt, err = s.GetRefreshToken(ctx, "rtC")
	must(t, err)
	equal(t, "winner's refresh token RevokedAt", rt.RevokedAt, replay)
	err = s.RotateRefreshToken(ctx, "rtC", f.refresh("rtC2", "famC", now.Add(25*time.Hour)), f.accessFor("rtC2"), replay, 0)
	wantErr(t, "rotating the winner's refresh token", err, storage.ErrReused)
}

// testRefreshReuseWindow: a token presented again within the reuse window,
// while its successor is unused, is a retry — it gets a new successor and
// the unused one is retired; outside the window, or once the successor was
// used, it is reuse and the family is revoked.
func testRefreshReuseWindow(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	const window = 30 * time.Second
	exp := base.Add(24 * time.Hour)
	revokedAt := func(h string) time.Time {
		t.Helper()
		got, err := s.GetRefreshToken(ctx, h)
		must(t, err)
		return got.RevokedAt
	}
	must(t, s.CreateRefreshToken(ctx, f.refresh("rt1", "fam1", exp)))
	must(t, s.CreateAccessToken(ctx, f.access("at1", "fam1", base.Add(time.Hour))))
	t1 := base.Add(time.Hour)
	must(t, s.RotateRefreshToken(ctx, "rt1", f.refresh("rt2", "fam1", exp), f.accessFor("rt2"), t1, window))

	// Two retries: each retires the previous, unused successor.
	must(t, s.RotateRefreshToken(ctx, "rt1", f.refresh("rt3", "fam1", exp), f.accessFor("rt3"), t1.Add(10*time.Second), window))
	equal(t, "first successor after a retry: RevokedAt", revokedAt("rt2"), t1.Add(10*time.Second))
	equal(t, "retry's successor: RevokedAt", revokedAt("rt3"), time.Time{})
	accessIn(t, s, "at-rt2", "fam1")
	accessIn(t, s, "at-rt3", "fam1")
	must(t, s.RotateRefreshToken(ctx, "rt1", f.refresh("rt4", "fam1", exp), f.accessFor("rt4"), t1.Add(20*time.Second), window))
	equal(t, "second successor after another retry: RevokedAt", revokedAt("rt3"), t1.Add(20*time.Second))
	got, err := s.GetRefreshToken(ctx, "rt1")
	must(t, err)
	equal(t, "rotated token's successor", got.SuccessorHash, "rt4")
	at, err := s.GetAccessToken(ctx, "at1")
	must(t, err)
	equal(t, "a retry revokes no access token of the family", at.RevokedAt, time.Time{})
	// A retired successor itself is dead: presenting it is reuse.
	err = s.RotateRefreshToken(ctx, "rt2", f.refresh("x", "fam1", exp), f.accessFor("x"), t1.Add(21*time.Second), window)
	wantErr(t, "rotating a retired successor", err, storage.ErrReused)
	noAccess(t, s, "at-x")
	equal(t, "family after a retired successor was presented", revokedAt("rt4"), t1.Add(21*time.Second))

	// Once the successor was used, the old token is reuse even inside the
	// window.
	must(t, s.CreateRefreshToken(ctx, f.refresh("u1", "famU", exp)))
	must(t, s.RotateRefreshToken(ctx, "u1", f.refresh("u2", "famU", exp), f.accessFor("u2"), t1, window))
	must(t, s.RotateRefreshToken(ctx, "u2", f.refresh("u3", "famU", exp), f.accessFor("u3"), t1.Add(time.Second), window))
	err = s.RotateRefreshToken(ctx, "u1", f.refresh("u4", "famU", exp), f.accessFor("u4"), t1.Add(2*time.Second), window)
	wantErr(t, "retry after the successor was used", err, storage.ErrReused)
	noAccess(t, s, "at-u4")
	equal(t, "family of a used successor: RevokedAt", revokedAt("u3"), t1.Add(2*time.Second))

	// Outside the window: reuse.
	must(t, s.CreateRefreshToken(ctx, f.refresh("o1", "famO", exp)))
	must(t, s.RotateRefreshToken(ctx, "o1", f.refresh("o2", "famO", exp), f.accessFor("o2"), t1, window))
	err = s.RotateRefreshToken(ctx, "o1", f.refresh("o3", "famO", exp), f.accessFor("o3"), t1.Add(window+time.Second), window)
	wantErr(t, "retry after the window", err, storage.ErrReused)
	noAccess(t, s, "at-o3")
	equal(t, "family after a late retry: RevokedAt", revokedAt("o2"), t1.Add(window+time.Second))

	// No window: the first repeat is reuse.
	must(t, s.CreateRefreshToken(ctx, f.refresh("z1", "famZ", exp)))
	must(t, s.RotateRefreshToken(ctx, "z1", f.refresh("z2", "famZ", exp), f.accessFor("z2"), t1, 0))
	err = s.RotateRefreshToken(ctx, "z1", f.refresh("z3", "famZ", exp), f.accessFor("z3"), t1, 0)
	wantErr(t, "repeat without a window", err, storage.ErrReused)
	noAccess(t, s, "at-z3")
}

// testRefreshRetriesConcurrent: retries of one token racing within the
// window all succeed (they serialize on the token), and exactly one
// successor — the last — is live; the family stands. So do first
// rotations racing: the one that rotates first is the others' original.
func testRefreshRetriesConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newGrantFixture(t, s)
	exp := base.Add(24 * time.Hour)
	t1 := base.Add(time.Hour)
	for _, rotatedBefore := range []bool{true, false} {
		old, family := fmt.Sprintf("c-%t", rotatedBefore), fmt.Sprintf("fam-%t", rotatedBefore)
		must(t, s.CreateRefreshToken(ctx, f.refresh(old, family, exp)))
		if rotatedBefore {
			must(t, s.RotateRefreshToken(ctx, old, f.refresh(old+"-next", family, exp), f.accessFor(old+"-next"), t1, time.Minute))
		}
		next := func(i int) string { return fmt.Sprintf("%s-retry%d", old, i) }
		errs := race(concurrency, func(i int) error {
			return s.RotateRefreshToken(ctx, old, f.refresh(next(i), family, exp), f.accessFor(next(i)), t1.Add(time.Second), time.Minute)
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s: retry %d: %v", old, i, err)
			}
		}
		got, err := s.GetRefreshToken(ctx, old)
		must(t, err)
		live := 0
		for i := range errs {
			succ, err := s.GetRefreshToken(ctx, next(i))
			must(t, err)
			accessIn(t, s, "at-"+next(i), family)
			if succ.RevokedAt.IsZero() {
				live++
				equal(t, old+": the live successor is the one the old token names", got.SuccessorHash, succ.IDHash)
			}
		}
		equal(t, old+": live successors after concurrent retries", live, 1)
	}
}
