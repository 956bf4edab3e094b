package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// mobileTests are the conformance tests of storage.Mobile.
var mobileTests = []struct {
	name string
	fn   func(t *testing.T, s storage.Storage)
}{
	{"MobileCredentialUpdate", testMobileCredentialUpdate},
	{"MobilePINAttemptLimits", testMobilePINAttemptLimits},
	{"MobilePINAttemptConcurrent", testMobilePINAttemptConcurrent},
	{"MobileCodeLifecycle", testMobileCodeLifecycle},
	{"MobileCodeTriesConcurrent", testMobileCodeTriesConcurrent},
	{"MobileCodeUseConcurrent", testMobileCodeUseConcurrent},
	{"RevokeMobileGrants", testRevokeMobileGrants},
	{"ListSignIns", testListSignIns},
}

const testPINHash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// activeCredential stores an active credential with a PIN for u.
func activeCredential(t *testing.T, s storage.Storage, u storage.User) storage.MobileCredential {
	t.Helper()
	c, err := s.UpdateMobileCredential(t.Context(), u.ID, func(c *storage.MobileCredential) error {
		c.State, c.PINHash, c.Phone = storage.MobileActive, testPINHash, u.Phone
		c.PhoneVerifiedAt, c.ActivatedAt = base, base
		return nil
	})
	must(t, err)
	return c
}

func testMobileCredentialUpdate(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))

	none, err := s.GetMobileCredential(ctx, u.ID)
	must(t, err)
	equal(t, "GetMobileCredential(none)", none, storage.MobileCredential{UserID: u.ID, State: storage.MobileNone})
	if none.StateAt(base) != storage.MobileNone || none.PhoneVerified(u.Phone) {
		t.Fatalf("zero credential: state %s, verified %v", none.StateAt(base), none.PhoneVerified(u.Phone))
	}

	// fn's error: nothing written, not even the empty row.
	boom := errors.New("boom")
	_, err = s.UpdateMobileCredential(ctx, u.ID, func(*storage.MobileCredential) error { return boom })
	wantErr(t, "UpdateMobileCredential(fn fails)", err, boom)
	got, err := s.GetMobileCredential(ctx, u.ID)
	must(t, err)
	if !got.CreatedAt.IsZero() {
		t.Fatalf("a failed update left a row: %+v", got)
	}

	c, err := s.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
		if c.State != storage.MobileNone || c.UserID != u.ID {
			t.Errorf("fn got %+v, want a zero credential of the user", *c)
		}
		c.State, c.PINHash, c.Phone = storage.MobileActive, testPINHash, u.Phone
		c.PhoneVerifiedAt, c.ActivatedAt, c.LastSignInAt = base, base.Add(time.Second), base.Add(time.Minute)
		c.PINFailures, c.LockedUntil = 2, base.Add(time.Hour)
		c.UserID, c.CreatedAt = "stolen", base.Add(-time.Hour) // not fn's to set
		return nil
	})
	must(t, err)
	if c.UserID != u.ID || c.CreatedAt.IsZero() || c.CreatedAt.Equal(base.Add(-time.Hour)) || c.UpdatedAt.IsZero() {
		t.Fatalf("UpdateMobileCredential let fn set UserID/CreatedAt or set no times: %+v", c)
	}
	got, err = s.GetMobileCredential(ctx, u.ID)
	must(t, err)
	equal(t, "GetMobileCredential", got, c)
	if got.StateAt(base) != storage.MobileLocked || got.StateAt(base.Add(time.Hour)) != storage.MobileActive {
		t.Errorf("StateAt: %s before the lock ends, %s after", got.StateAt(base), got.StateAt(base.Add(time.Hour)))
	}
	if !got.PhoneVerified(u.Phone) || got.PhoneVerified("+14155550199") || got.PhoneVerified("") {
		t.Error("PhoneVerified: want true for the credential's number only")
	}

	// Clearing keeps the row; times read back zero.
	c, err = s.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
		c.State, c.PINHash, c.ActivatedAt, c.PINFailures, c.LockedUntil = storage.MobileNone, "", time.Time{}, 0, time.Time{}
		return nil
	})
	must(t, err)
	got, err = s.GetMobileCredential(ctx, u.ID)
	must(t, err)
	equal(t, "GetMobileCredential after clearing", got, c)

	_, err = s.UpdateMobileCredential(ctx, "nobody", func(*storage.MobileCredential) error { return nil })
	wantErr(t, "UpdateMobileCredential(unknown user)", err, storage.ErrNotFound)
}

func pinAttempt(now time.Time) storage.PINAttempt {
	return storage.PINAttempt{Now: now, LockAfter: 5, LockUntil: now.Add(15 * time.Minute), VoidAfter: 10}
}

// Five attempts, then a lock; after the lock five more, then none.
func testMobilePINAttemptLimits(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))

	_, err := s.CountPINAttempt(ctx, u.ID, pinAttempt(base))
	wantErr(t, "CountPINAttempt(no credential)", err, storage.ErrLocked)

	activeCredential(t, s, u)
	now := base
	for i := 1; i <= 5; i++ {
		c, err := s.CountPINAttempt(ctx, u.ID, pinAttempt(now))
		must(t, err)
		if c.PINFailures != i {
			t.Fatalf("attempt %d: failures %d", i, c.PINFailures)
		}
		if locked := c.LockedUntil.After(now); locked != (i == 5) {
			t.Fatalf("attempt %d: locked until %v", i, c.LockedUntil)
		}
		if c.PINHash != testPINHash {
			t.Fatal("CountPINAttempt: want the PIN hash to check against")
		}
	}
	c, err := s.CountPINAttempt(ctx, u.ID, pinAttempt(now.Add(14*time.Minute)))
	wantErr(t, "CountPINAttempt while locked", err, storage.ErrLocked)
	if c.PINFailures != 5 || !c.LockedUntil.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("locked credential: %+v", c)
	}
	now = now.Add(15 * time.Minute)
	for i := 6; i <= 10; i++ {
		c, err := s.CountPINAttempt(ctx, u.ID, pinAttempt(now))
		must(t, err)
		if c.PINFailures != i || c.LockedUntil.After(now) {
			t.Fatalf("attempt %d after the lock: %+v", i, c)
		}
	}
	_, err = s.CountPINAttempt(ctx, u.ID, pinAttempt(now.Add(time.Hour)))
	wantErr(t, "CountPINAttempt after VoidAfter failures", err, storage.ErrLocked)

	// A cleared PIN is never counted.
	_, err = s.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
		c.State, c.PINHash, c.PINFailures = storage.MobileNone, "", 0
		return nil
	})
	must(t, err)
	_, err = s.CountPINAttempt(ctx, u.ID, pinAttempt(now.Add(time.Hour)))
	wantErr(t, "CountPINAttempt(PIN cleared)", err, storage.ErrLocked)
}

// Parallel attempts never get past the lock.
func testMobilePINAttemptConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))
	activeCredential(t, s, u)
	errs := race(3*concurrency, func(int) error {
		_, err := s.CountPINAttempt(ctx, u.ID, pinAttempt(base))
		return err
	})
	if n := winners(t, errs, storage.ErrLocked); n != 5 {
		t.Fatalf("%d attempts counted, want 5", n)
	}
	c, err := s.GetMobileCredential(ctx, u.ID)
	must(t, err)
	if c.PINFailures != 5 || !c.LockedUntil.After(base) {
		t.Fatalf("after the race: %+v", c)
	}
}

func mobileCode(u storage.User, purpose, hash string, created time.Time) storage.MobileCode {
	return storage.MobileCode{UserID: u.ID, Purpose: purpose, Phone: u.Phone, CodeHash: hash,
		CreatedAt: created, ExpiresAt: created.Add(10 * time.Minute)}
}

func testMobileCodeLifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))

	_, err := s.CreateMobileCode(ctx, mobileCode(storage.User{ID: "nobody"}, storage.CodeActivation, "h0", base))
	wantErr(t, "CreateMobileCode(unknown user)", err, storage.ErrNotFound)

	first, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h1", base))
	must(t, err)
	if first.ID == "" {
		t.Fatal("CreateMobileCode set no id")
	}
	other, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodePhoneChange, "h-other", base))
	must(t, err)
	c, err := s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(time.Second), 5)
	must(t, err)
	want := first
	want.Tries = 1
	equal(t, "TryMobileCode", c, want)

	// The newest code of a purpose wins; the other purpose is untouched.
	second, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h2", base.Add(time.Minute)))
	must(t, err)
	c, err = s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(time.Minute), 5)
	must(t, err)
	if c.ID != second.ID || c.Tries != 1 {
		t.Fatalf("after a newer code: tried %+v, want the newer one", c)
	}
	_, err = s.UseMobileCode(ctx, first.ID, base.Add(time.Minute))
	wantErr(t, "UseMobileCode(replaced)", err, storage.ErrNotFound)
	c, err = s.TryMobileCode(ctx, u.ID, storage.CodePhoneChange, base.Add(time.Minute), 5)
	must(t, err)
	if c.ID != other.ID {
		t.Fatal("a code of another purpose was voided")
	}

	// Tries stop at the limit.
	for i := 2; i <= 5; i++ {
		c, err = s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(time.Minute), 5)
		must(t, err)
		if c.Tries != i {
			t.Fatalf("try %d: tries %d", i, c.Tries)
		}
	}
	_, err = s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(time.Minute), 5)
	wantErr(t, "TryMobileCode beyond the limit", err, storage.ErrNotFound)

	// Use: once, and not after expiry.
	third, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h3", base.Add(2*time.Minute)))
	must(t, err)
	used, err := s.UseMobileCode(ctx, third.ID, base.Add(3*time.Minute))
	must(t, err)
	if !used.UsedAt.Equal(base.Add(3 * time.Minute)) {
		t.Fatalf("UseMobileCode: %+v", used)
	}
	_, err = s.UseMobileCode(ctx, third.ID, base.Add(3*time.Minute))
	wantErr(t, "UseMobileCode(again)", err, storage.ErrReused)
	_, err = s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(3*time.Minute), 5)
	wantErr(t, "TryMobileCode(used)", err, storage.ErrNotFound)
	fourth, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h4", base.Add(4*time.Minute)))
	must(t, err)
	_, err = s.TryMobileCode(ctx, u.ID, storage.CodeActivation, fourth.ExpiresAt, 5)
	wantErr(t, "TryMobileCode(expired)", err, storage.ErrNotFound)
	_, err = s.UseMobileCode(ctx, fourth.ID, fourth.ExpiresAt)
	wantErr(t, "UseMobileCode(expired)", err, storage.ErrNotFound)
	_, err = s.UseMobileCode(ctx, "unknown", base)
	wantErr(t, "UseMobileCode(unknown)", err, storage.ErrNotFound)

	// Voiding: one, then every open code of the user.
	must(t, s.VoidMobileCode(ctx, fourth.ID, base.Add(5*time.Minute)))
	_, err = s.UseMobileCode(ctx, fourth.ID, base.Add(5*time.Minute))
	wantErr(t, "UseMobileCode(voided)", err, storage.ErrNotFound)
	fifth, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h5", base.Add(5*time.Minute)))
	must(t, err)
	n, err := s.VoidMobileCodes(ctx, u.ID, base.Add(6*time.Minute))
	must(t, err)
	if n != 2 { // fifth and the phone change code
		t.Fatalf("VoidMobileCodes voided %d, want 2", n)
	}
	for _, id := range []string{fifth.ID, other.ID} {
		_, err = s.UseMobileCode(ctx, id, base.Add(6*time.Minute))
		wantErr(t, "UseMobileCode(after VoidMobileCodes)", err, storage.ErrNotFound)
	}
}

// Parallel entries against one code: exactly the limit are counted.
func testMobileCodeTriesConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))
	c, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h1", base))
	must(t, err)
	seen := make([]int, 3*concurrency)
	errs := race(3*concurrency, func(i int) error {
		got, err := s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(time.Second), 5)
		seen[i] = got.Tries
		return err
	})
	if n := winners(t, errs, storage.ErrNotFound); n != 5 {
		t.Fatalf("%d tries counted, want 5", n)
	}
	// Each of the five got its own try number.
	counts := map[int]int{}
	for i, err := range errs {
		if err == nil {
			counts[seen[i]]++
		}
	}
	for try := 1; try <= 5; try++ {
		if counts[try] != 1 {
			t.Fatalf("try numbers handed out %v: want 1…5 once each", counts)
		}
	}
	if got, err := s.TryMobileCode(ctx, u.ID, storage.CodeActivation, base.Add(time.Second), 5); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a sixth try after the race: %+v, %v", got, err)
	}
	_, err = s.UseMobileCode(ctx, c.ID, base.Add(time.Second))
	must(t, err) // tries are counted, not a verdict: the caller compares
}

func testMobileCodeUseConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))
	c, err := s.CreateMobileCode(ctx, mobileCode(u, storage.CodeActivation, "h1", base))
	must(t, err)
	errs := race(concurrency, func(int) error {
		_, err := s.UseMobileCode(ctx, c.ID, base.Add(time.Second))
		return err
	})
	if n := winners(t, errs, storage.ErrReused); n != 1 {
		t.Fatalf("%d uses won, want 1", n)
	}
}

// mobileFixture is a clinician signed in to a phone client and to an
// email client, by phone and by email, with tokens in both.
type mobileFixture struct {
	user         storage.User
	phone, email storage.Client
	phoneSession storage.Session
	emailSession storage.Session
	phoneRefresh storage.RefreshToken
	emailRefresh storage.RefreshToken
	phoneAccess  storage.AccessToken
	emailAccess  storage.AccessToken
	phoneRequest storage.AuthRequest
	emailRequest storage.AuthRequest
	expiresLater time.Time
}

// phoneAccessNext is an access token of the phone client issued with a
// rotation: RotateRefreshToken sets its family.
func (f mobileFixture) phoneAccessNext(id string, now time.Time) storage.AccessToken {
	return storage.AccessToken{ID: id, ClientID: f.phone.ID, Subject: f.user.ID, Audience: []string{f.phone.ID},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func newMobileFixture(t *testing.T, s storage.Storage) mobileFixture {
	t.Helper()
	ctx := t.Context()
	now := wallClock()
	later := now.Add(time.Hour)
	u := createUser(t, s, clinician("Ada", "Obi", "ada@example.org", "+14155550101"))
	phone, err := s.CreateClient(ctx, storage.Client{ID: "mobile", Name: "Clinician app", Public: true,
		RedirectURIs: []string{"com.cliniconnects.mobile:/callback"}, SignInMethod: storage.SignInPhone,
		GrantTypes: []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}})
	must(t, err)
	email := createClient(t, s, "sched")
	pf := grantFixture{client: phone, user: u}
	ef := grantFixture{client: email, user: u}
	f := mobileFixture{user: u, phone: phone, email: email, expiresLater: later}
	f.phoneSession = pf.session("s-phone", later)
	f.phoneSession.SignInMethod, f.phoneSession.Device = storage.SignInPhone, "Safari on iPhone"
	f.emailSession = ef.session("s-email", later)
	f.emailSession.SignInMethod, f.emailSession.Device = storage.SignInEmail, "Firefox on Linux"
	must(t, s.CreateSession(ctx, f.phoneSession))
	must(t, s.CreateSession(ctx, f.emailSession))
	f.phoneRefresh = pf.refresh("rt-phone", "fam-phone", later)
	f.phoneRefresh.Device = "CliniConnects/2.1 iOS"
	f.emailRefresh = ef.refresh("rt-email", "fam-email", later)
	must(t, s.CreateRefreshToken(ctx, f.phoneRefresh))
	must(t, s.CreateRefreshToken(ctx, f.emailRefresh))
	f.phoneAccess = pf.access("at-phone", "fam-phone", later)
	f.emailAccess = ef.access("at-email", "fam-email", later)
	must(t, s.CreateAccessToken(ctx, f.phoneAccess))
	must(t, s.CreateAccessToken(ctx, f.emailAccess))
	for _, r := range []struct {
		f   grantFixture
		id  string
		dst *storage.AuthRequest
	}{{pf, "req-phone", &f.phoneRequest}, {ef, "req-email", &f.emailRequest}} {
		req := r.f.authRequest(r.id, now)
		must(t, s.CreateAuthRequest(ctx, req))
		must(t, s.CompleteAuthRequest(ctx, r.id, storage.AuthResult{UserID: u.ID, AuthTime: now, AMR: []string{"pin"}}))
		must(t, s.SetAuthRequestCode(ctx, r.id, "code-"+r.id))
		*r.dst = req
	}
	return f
}

// A phone change's revocation takes the phone sign-ins and leaves the
// email ones.
func testRevokeMobileGrants(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newMobileFixture(t, s)
	now := wallClock()
	must(t, s.RevokeMobileGrants(ctx, f.user.ID, now))

	_, err := s.GetSession(ctx, f.phoneSession.IDHash, now)
	wantErr(t, "phone session", err, storage.ErrNotFound)
	got, err := s.GetSession(ctx, f.emailSession.IDHash, now)
	must(t, err)
	equal(t, "email session (untouched)", got, f.emailSession)

	rt, err := s.GetRefreshToken(ctx, f.phoneRefresh.IDHash)
	must(t, err)
	if rt.RevokedAt.IsZero() {
		t.Error("the phone client's refresh token is not revoked")
	}
	rt, err = s.GetRefreshToken(ctx, f.emailRefresh.IDHash)
	must(t, err)
	if !rt.RevokedAt.IsZero() {
		t.Error("the email client's refresh token was revoked")
	}
	at, err := s.GetAccessToken(ctx, f.phoneAccess.ID)
	must(t, err)
	if at.RevokedAt.IsZero() {
		t.Error("the phone client's access token is not revoked")
	}
	at, err = s.GetAccessToken(ctx, f.emailAccess.ID)
	must(t, err)
	if !at.RevokedAt.IsZero() {
		t.Error("the email client's access token was revoked")
	}
	// The family stays revoked: a token stored in it concurrently (the
	// rotation racing the phone change) is dead as well.
	late := f.phoneRefresh
	late.IDHash = "rt-phone-late"
	must(t, s.CreateRefreshToken(ctx, late))
	rt, err = s.GetRefreshToken(ctx, late.IDHash)
	must(t, err)
	if rt.RevokedAt.IsZero() {
		t.Error("a token stored later in a revoked phone family is alive")
	}
	err = s.RotateRefreshToken(ctx, f.phoneRefresh.IDHash, storage.RefreshToken{IDHash: "rt-phone-next",
		ClientID: f.phone.ID, UserID: f.user.ID, AuthTime: base, CreatedAt: now, ExpiresAt: f.expiresLater},
		f.phoneAccessNext("at-phone-next", now), now, 0)
	wantErr(t, "RotateRefreshToken(revoked phone family)", err, storage.ErrReused)

	// An authorization code of the phone client not yet redeemed is dead.
	_, err = s.GetAuthRequestByCode(ctx, "code-req-phone")
	wantErr(t, "GetAuthRequestByCode(phone client, after the revocation)", err, storage.ErrNotFound)
	_, err = s.GetAuthRequestByCode(ctx, "code-req-email")
	must(t, err)

	// Another user's phone sign-ins are untouched.
	other := createUser(t, s, clinician("Bo", "Yu", "bo@example.org", "+14155550102"))
	ses := grantFixture{client: f.phone, user: other}.session("s-other", f.expiresLater)
	ses.SignInMethod = storage.SignInPhone
	must(t, s.CreateSession(ctx, ses))
	must(t, s.RevokeMobileGrants(ctx, f.user.ID, now))
	_, err = s.GetSession(ctx, ses.IDHash, now)
	must(t, err)
}

func testListSignIns(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := newMobileFixture(t, s)
	now := wallClock()
	// Activity: the email session was used last, then the phone family
	// refreshed (the successor keeps the device), then the rest.
	must(t, s.TouchSession(ctx, f.emailSession.IDHash, now.Add(3*time.Minute)))
	next := storage.RefreshToken{IDHash: "rt-phone-2", ClientID: f.phone.ID, UserID: f.user.ID,
		Scopes: f.phoneRefresh.Scopes, AuthTime: f.phoneRefresh.AuthTime, CreatedAt: now.Add(2 * time.Minute), ExpiresAt: f.expiresLater}
	must(t, s.RotateRefreshToken(ctx, f.phoneRefresh.IDHash, next, f.phoneAccessNext("at-phone-2", now), now.Add(2*time.Minute), 0))
	rt, err := s.GetRefreshToken(ctx, "rt-phone-2")
	must(t, err)
	if rt.Device != f.phoneRefresh.Device {
		t.Fatalf("rotated token's device %q, want the family's %q", rt.Device, f.phoneRefresh.Device)
	}

	list, err := s.ListSignIns(ctx, f.user.ID, now.Add(4*time.Minute))
	must(t, err)
	want := []storage.SignIn{
		{Kind: storage.SignInSession, ID: f.emailSession.IDHash, Method: storage.SignInEmail, Device: "Firefox on Linux",
			SignedInAt: f.emailSession.AuthTime, LastUsedAt: now.Add(3 * time.Minute)},
		{Kind: storage.SignInTokens, ID: "fam-phone", ClientID: f.phone.ID, Method: storage.SignInPhone,
			Device: f.phoneRefresh.Device, SignedInAt: f.phoneRefresh.AuthTime, LastUsedAt: now.Add(2 * time.Minute)},
		{Kind: storage.SignInTokens, ID: "fam-email", ClientID: f.email.ID, Method: storage.SignInEmail,
			SignedInAt: f.emailRefresh.AuthTime, LastUsedAt: f.emailRefresh.CreatedAt},
		{Kind: storage.SignInSession, ID: f.phoneSession.IDHash, Method: storage.SignInPhone, Device: "Safari on iPhone",
			SignedInAt: f.phoneSession.AuthTime, LastUsedAt: f.phoneSession.LastSeenAt},
	}
	equal(t, "ListSignIns", list, want)

	// Revoked and expired ones are gone.
	must(t, s.RevokeMobileGrants(ctx, f.user.ID, now.Add(4*time.Minute)))
	list, err = s.ListSignIns(ctx, f.user.ID, now.Add(4*time.Minute))
	must(t, err)
	equal(t, "ListSignIns after RevokeMobileGrants", list, []storage.SignIn{want[0], want[2]})
	list, err = s.ListSignIns(ctx, f.user.ID, f.expiresLater)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("ListSignIns at expiry: %+v", list)
	}
	list, err = s.ListSignIns(ctx, "nobody", now)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("ListSignIns(unknown user): %+v", list)
	}
}
