package account_test

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

const (
	clinPhone = "+14155550123"
	newPhone  = "+14155550188"
	goodPIN   = "583920"
	otherPIN  = "804617"
	src       = "198.51.100.7"
)

// mobileFixture is the account fixture with the mobile use cases on it.
type mobileFixture struct {
	*fixture
	m *account.Mobile
}

func newMobileFixture(t *testing.T, st storage.Storage) *mobileFixture {
	f := newFixture(t, st)
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	m, err := account.NewMobile(f.svc, kek, true)
	if err != nil {
		t.Fatal(err)
	}
	m.Floor = time.Millisecond
	return &mobileFixture{fixture: f, m: m}
}

// clinician stores an active clinician with phone.
func (f *mobileFixture) clinician(email, phone string) storage.User {
	f.t.Helper()
	u, err := f.svc.CreateUser(context.Background(), account.NewUser{
		Email: email, GivenName: "Ama", FamilyName: "Mensah", Type: storage.UserTypeClinician, Phone: phone, Password: firstPW,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// sms returns the SMS in the outbox to phone, oldest first.
func (f *mobileFixture) sms(phone string) []notify.SMS {
	f.t.Helper()
	msgs, err := f.st.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []notify.SMS
	for _, msg := range msgs {
		if msg.Channel != notify.ChannelSMS || msg.To != phone {
			continue
		}
		s, err := f.outbox.OpenSMS(msg)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// emails returns the emails in the outbox to addr.
func (f *mobileFixture) emails(addr string) []notify.Email {
	f.t.Helper()
	msgs, err := f.st.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []notify.Email
	for _, msg := range msgs {
		if msg.Channel == notify.ChannelEmail && msg.To == addr {
			e, err := f.outbox.Open(msg)
			if err != nil {
				f.t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	return out
}

var codeRE = regexp.MustCompile(`code[^:]*: ([0-9]{6})\n`)

// lastCode is the code of the newest SMS to phone.
func (f *mobileFixture) lastCode(phone string) string {
	f.t.Helper()
	all := f.sms(phone)
	if len(all) == 0 {
		f.t.Fatalf("no SMS to %s", phone)
	}
	m := codeRE.FindStringSubmatch(all[len(all)-1].Body)
	if m == nil {
		f.t.Fatalf("no code in %q", all[len(all)-1].Body)
	}
	return m[1]
}

// wrong is a well-formed code that is not code.
func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// activate runs the whole activation of u and returns the user SetPIN gave.
func (f *mobileFixture) activate(u storage.User, pinText string) storage.User {
	f.t.Helper()
	ctx := context.Background()
	if err := f.m.RequestActivationCode(ctx, u.Phone, src); err != nil {
		f.t.Fatal(err)
	}
	ticket, err := f.m.VerifyActivationCode(ctx, u.Phone, f.lastCode(u.Phone), src)
	if err != nil {
		f.t.Fatal(err)
	}
	got, err := f.m.SetPIN(ctx, ticket, pinText, src)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func (f *mobileFixture) cred(id string) storage.MobileCredential {
	f.t.Helper()
	c, err := f.st.GetMobileCredential(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// auditActions lists the actions of the entries about userID, oldest first.
func (f *mobileFixture) auditActions(userID string) []string {
	f.t.Helper()
	es, _, err := f.st.ListAudit(context.Background(), storage.AuditQuery{TargetID: userID, Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

func wantLocked(t *testing.T, what string, err error) {
	t.Helper()
	var le *signin.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("%s: %v, want a lock", what, err)
	}
}

func TestActivationAndPINSignIn(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)

		// Typed as people type it.
		if err := f.m.RequestActivationCode(ctx, " +1 (415) 555-0123 ", src); err != nil {
			t.Fatal(err)
		}
		sms := f.sms(clinPhone)
		if len(sms) != 1 {
			t.Fatalf("%d SMS, want 1", len(sms))
		}
		code := f.lastCode(clinPhone)
		if c := f.cred(u.ID); c.StateAt(f.clock.Now()) != storage.MobilePending || c.PhoneVerified(clinPhone) {
			t.Fatalf("after the request: %+v", c)
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, wrong(code), src); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("wrong code: %v", err)
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, "12345", src); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("malformed code: %v", err)
		}
		ticket, err := f.m.VerifyActivationCode(ctx, clinPhone, code, src)
		if err != nil {
			t.Fatal(err)
		}
		if c := f.cred(u.ID); !c.PhoneVerified(clinPhone) || c.State != storage.MobilePending {
			t.Fatalf("after the code: %+v, want the number confirmed", c)
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, code, src); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("the code twice: %v", err)
		}

		// The PIN policy, then the PIN.
		for _, bad := range []string{"123456", "111111", "12345", "5550123", "12a456"} {
			var fe *account.FieldError
			if _, err := f.m.SetPIN(ctx, ticket, bad, src); !errors.As(err, &fe) || fe.Field != "pin" {
				t.Fatalf("SetPIN(%q) = %v, want a pin field error", bad, err)
			}
		}
		got, err := f.m.SetPIN(ctx, ticket, goodPIN, src)
		if err != nil || got.ID != u.ID {
			t.Fatalf("SetPIN = %v, %v", got.ID, err)
		}
		if !slices.Equal(account.AMRActivation(), []string{"sms", "pin"}) || !slices.Equal(account.AMRPIN(), []string{"pin"}) {
			t.Fatal("AMR values")
		}
		c := f.cred(u.ID)
		if c.StateAt(f.clock.Now()) != storage.MobileActive || c.Phone != clinPhone || c.ActivatedAt.IsZero() || c.PINHash == goodPIN {
			t.Fatalf("after SetPIN: %+v", c)
		}
		if ok, _, err := cheap.Verify(goodPIN, c.PINHash); !ok || err != nil {
			t.Fatal("the stored PIN hash does not verify the PIN")
		}
		if _, err := f.m.SetPIN(ctx, ticket, otherPIN, src); !errors.Is(err, account.ErrLinkUsed) {
			t.Fatalf("the ticket twice: %v", err)
		}

		f.clock.Advance(time.Hour)
		got, err = f.m.AuthenticatePIN(ctx, "+1 415 555 0123", goodPIN, src)
		if err != nil || got.ID != u.ID {
			t.Fatalf("AuthenticatePIN = %v, %v", got.ID, err)
		}
		if c := f.cred(u.ID); c.LastSignInAt.Sub(f.clock.Now()).Abs() > time.Microsecond {
			t.Fatalf("last sign-in %v, want %v", c.LastSignInAt, f.clock.Now())
		}
		if _, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, src); !errors.Is(err, signin.ErrInvalidCredentials) {
			t.Fatalf("wrong PIN: %v", err)
		}
		var fe *account.FieldError
		if _, err := f.m.AuthenticatePIN(ctx, "call me", goodPIN, src); !errors.As(err, &fe) || fe.Field != "phone" {
			t.Fatalf("not a number: %v", err)
		}
		want := []string{"user.create", account.ActionMobileActivationRequested, account.ActionMobilePhoneVerified, account.ActionMobileActivated}
		if got := f.auditActions(u.ID); !slices.Equal(got[len(got)-3:], want[1:]) {
			t.Fatalf("audit %v, want it to end %v", got, want[1:])
		}
	})
}

// An unknown number, an employee's, an invited or disabled clinician's:
// the same answer, nothing sent, and no less time than for a clinician.
func TestActivationSameAnswerForEveryNumber(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		f.m.Floor = 80 * time.Millisecond
		ctx := context.Background()
		f.clinician("ama@example.com", clinPhone)
		emp, err := f.svc.CreateUser(ctx, account.NewUser{Email: "emp@example.com", GivenName: "E", FamilyName: "M",
			Type: storage.UserTypeEmployee, Phone: "+14155550140", Password: firstPW})
		if err != nil {
			t.Fatal(err)
		}
		invited, err := f.svc.CreateUser(ctx, account.NewUser{Email: "inv@example.com", GivenName: "I", FamilyName: "N",
			Type: storage.UserTypeClinician, Phone: "+14155550141"})
		if err != nil {
			t.Fatal(err)
		}
		disabled := f.clinician("dis@example.com", "+14155550142")
		if disabled, err = f.svc.DisableUser(ctx, disabled.ID, account.Actor{}); err != nil {
			t.Fatal(err)
		}
		for _, num := range []string{clinPhone, "+14155550199", emp.Phone, invited.Phone, disabled.Phone} {
			start := time.Now()
			if err := f.m.RequestActivationCode(ctx, num, ""); err != nil {
				t.Fatalf("%s: %v", num, err)
			}
			if d := time.Since(start); d < f.m.Floor {
				t.Fatalf("%s answered in %v, under the floor", num, d)
			}
			if n := len(f.sms(num)); n != map[bool]int{true: 1, false: 0}[num == clinPhone] {
				t.Fatalf("%s: %d SMS", num, n)
			}
			if _, err := f.m.VerifyActivationCode(ctx, num, "000000", ""); !errors.Is(err, account.ErrInvalidCode) {
				t.Fatalf("%s: verify: %v", num, err)
			}
		}
		var fe *account.FieldError
		for _, bad := range []string{"", "4155550123", "+1 555", "+99 123"} {
			if err := f.m.RequestActivationCode(ctx, bad, ""); !errors.As(err, &fe) || fe.Field != "phone" {
				t.Fatalf("%q: %v, want a clear phone error", bad, err)
			}
		}
		// Only clinicians hold credentials, whatever the route.
		for _, u := range []storage.User{emp, invited, disabled} {
			_, err := f.m.SendActivation(ctx, u.ID, account.Actor{}, "clinician.mobile_activation", nil)
			if !errors.Is(err, account.ErrNotClinician) {
				t.Fatalf("SendActivation(%s): %v", u.Email, err)
			}
		}
		if err := f.m.RequestPhoneChange(ctx, account.Actor{ID: emp.ID}, "+14155550177"); !errors.Is(err, account.ErrNotClinician) {
			t.Fatalf("RequestPhoneChange(employee): %v", err)
		}
		// Without a gateway nothing is accepted.
		f.m.SMS = false
		if err := f.m.RequestActivationCode(ctx, clinPhone, ""); !errors.Is(err, account.ErrSMSUnavailable) {
			t.Fatalf("without SMS: %v", err)
		}
	})
}

// At most 3 codes per number per 15 minutes and 10 per day, whether or
// not the number is a clinician's; per source 10 per 15 minutes.
func TestActivationThrottle(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		f.clinician("ama@example.com", clinPhone)
		for _, num := range []string{clinPhone, "+14155550199"} {
			sent := 0
			for i := 1; i <= 12; i++ {
				for j := 1; j <= 3; j++ {
					err := f.m.RequestActivationCode(ctx, num, "")
					switch {
					case j <= 3 && sent < 10 && err != nil:
						t.Fatalf("%s: request %d of window %d: %v", num, j, i, err)
					case sent >= 10 && !errors.Is(err, account.ErrThrottled):
						t.Fatalf("%s: request %d of window %d past 10 a day: %v", num, j, i, err)
					}
					if err == nil {
						sent++
					}
				}
				if sent < 10 {
					if err := f.m.RequestActivationCode(ctx, num, ""); !errors.Is(err, account.ErrThrottled) {
						t.Fatalf("%s: a 4th request in 15 minutes: %v", num, err)
					}
				}
				f.clock.Advance(15*time.Minute + time.Second)
			}
			if num == clinPhone && len(f.sms(num)) != 10 {
				t.Fatalf("%d SMS in a day, want 10", len(f.sms(num)))
			}
			f.clock.Advance(24 * time.Hour)
			if err := f.m.RequestActivationCode(ctx, num, ""); err != nil {
				t.Fatalf("%s: the next day: %v", num, err)
			}
		}
		for i := 1; i <= 11; i++ {
			err := f.m.RequestActivationCode(ctx, "+1415555020"+string(rune('0'+i%10)), src)
			if i <= 10 && err != nil {
				t.Fatalf("source request %d: %v", i, err)
			}
			if i == 11 && !errors.Is(err, account.ErrThrottled) {
				t.Fatalf("source request 11: %v", err)
			}
		}
	})
}

// Five wrong codes void the code, also when they come at once.
func TestCodeTriesThenVoid(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		if err := f.m.RequestActivationCode(ctx, clinPhone, ""); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(clinPhone)
		for i := 1; i <= 5; i++ {
			if _, err := f.m.VerifyActivationCode(ctx, clinPhone, wrong(code), ""); !errors.Is(err, account.ErrInvalidCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, code, ""); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("the right code after 5 wrong ones: %v", err)
		}
		if !slices.Contains(f.auditActions(u.ID), account.ActionMobileCodeVoided) {
			t.Fatal("the voided code is not audited")
		}

		// Twenty parallel wrong codes, then the right one: still void.
		f.clock.Advance(time.Hour)
		if err := f.m.RequestActivationCode(ctx, clinPhone, ""); err != nil {
			t.Fatal(err)
		}
		code = f.lastCode(clinPhone)
		errs := race(20, func() error {
			_, err := f.m.VerifyActivationCode(ctx, clinPhone, wrong(code), "")
			return err
		})
		for _, err := range errs {
			if !errors.Is(err, account.ErrInvalidCode) {
				t.Fatalf("parallel wrong code: %v", err)
			}
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, code, ""); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("the right code after 20 parallel wrong ones: %v", err)
		}
		// A fresh code works.
		if err := f.m.RequestActivationCode(ctx, clinPhone, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, f.lastCode(clinPhone), ""); err != nil {
			t.Fatal(err)
		}
	})
}

// race runs n calls of fn at once.
func race(n int, fn func() error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs[i] = fn()
			done <- struct{}{}
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return errs
}

// Five wrong PINs lock for 15 minutes; ten in a row void the PIN.
func TestPINLockThenVoid(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		f.activate(u, goodPIN)

		for i := 1; i <= 4; i++ {
			if _, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, ""); !errors.Is(err, signin.ErrInvalidCredentials) {
				t.Fatalf("wrong PIN %d: %v", i, err)
			}
		}
		_, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, "")
		wantLocked(t, "wrong PIN 5", err)
		_, err = f.m.AuthenticatePIN(ctx, clinPhone, goodPIN, "")
		wantLocked(t, "the right PIN while locked", err)
		if s := f.cred(u.ID).StateAt(f.clock.Now()); s != storage.MobileLocked {
			t.Fatalf("state %s, want locked", s)
		}
		if !slices.Contains(f.auditActions(u.ID), account.ActionMobilePINLocked) {
			t.Fatal("the lock is not audited")
		}
		f.clock.Advance(15 * time.Minute)
		if _, err := f.m.AuthenticatePIN(ctx, clinPhone, goodPIN, ""); err != nil {
			t.Fatalf("the right PIN after the lock: %v", err)
		}
		if c := f.cred(u.ID); c.PINFailures != 0 {
			t.Fatalf("a right PIN left %d failures", c.PINFailures)
		}

		// Ten in a row: a lock after five, the PIN void after ten.
		for i := 1; i <= 10; i++ {
			_, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, "")
			switch {
			case i == 5:
				wantLocked(t, "wrong PIN 5 of 10", err)
				f.clock.Advance(15 * time.Minute)
			case !errors.Is(err, signin.ErrInvalidCredentials):
				t.Fatalf("wrong PIN %d of 10: %v", i, err)
			}
		}
		c := f.cred(u.ID)
		if c.PINHash != "" || c.StateAt(f.clock.Now()) != storage.MobileNone {
			t.Fatalf("after 10 wrong PINs: %+v, want the PIN void", c)
		}
		if _, err := f.m.AuthenticatePIN(ctx, clinPhone, goodPIN, ""); !errors.Is(err, signin.ErrInvalidCredentials) {
			t.Fatalf("the old PIN after the void: %v", err)
		}
		if !slices.Contains(f.auditActions(u.ID), account.ActionMobilePINVoided) {
			t.Fatal("the void is not audited")
		}
		// Re-activation by SMS brings it back.
		f.clock.Advance(time.Hour)
		f.activate(u, otherPIN)
		if _, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, ""); err != nil {
			t.Fatalf("after re-activation: %v", err)
		}
	})
}

// Parallel wrong PINs get no more than five guesses.
func TestPINParallelAttempts(t *testing.T) {
	roomyBound(t) // about counting, not the hashing bound
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		f.activate(u, goodPIN)
		errs := race(20, func() error {
			_, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, "")
			return err
		})
		for _, err := range errs {
			var le *signin.LockedError
			if !errors.Is(err, signin.ErrInvalidCredentials) && !errors.As(err, &le) {
				t.Fatalf("parallel wrong PIN: %v", err)
			}
		}
		if c := f.cred(u.ID); c.PINFailures != 5 || !c.LockedUntil.After(f.clock.Now()) {
			t.Fatalf("after 20 parallel wrong PINs: failures %d, locked until %v", c.PINFailures, c.LockedUntil)
		}
	})
}

// A number without a usable credential answers like a wrong PIN and locks
// after five as well.
func TestPINUnknownNumber(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		f.clinician("ama@example.com", clinPhone) // no PIN yet
		for _, num := range []string{"+14155550199", clinPhone} {
			for i := 1; i <= 5; i++ {
				_, err := f.m.AuthenticatePIN(ctx, num, goodPIN, "")
				if i < 5 && !errors.Is(err, signin.ErrInvalidCredentials) {
					t.Fatalf("%s attempt %d: %v", num, i, err)
				}
				if i == 5 {
					wantLocked(t, num+" attempt 5", err)
				}
			}
		}
	})
}

// phoneSignIns are a clinician's phone and email sign-ins.
type phoneSignIns struct {
	phoneClient, emailClient      storage.Client
	phoneRefresh, emailRefresh    string
	phoneSession, emailSession    string
	phoneAccessToken, emailAccess string
}

func (f *mobileFixture) signIns(u storage.User) phoneSignIns {
	f.t.Helper()
	ctx := context.Background()
	now := f.clock.Now()
	p := phoneSignIns{phoneRefresh: "rt-phone-" + u.ID, emailRefresh: "rt-email-" + u.ID, phoneSession: "s-phone-" + u.ID,
		emailSession: "s-email-" + u.ID, phoneAccessToken: "at-phone-" + u.ID, emailAccess: "at-email-" + u.ID}
	var err error
	if p.phoneClient, err = f.st.GetClient(ctx, "mobile"); err != nil {
		p.phoneClient, err = f.st.CreateClient(ctx, storage.Client{ID: "mobile", Public: true, SignInMethod: storage.SignInPhone,
			RedirectURIs: []string{"com.cliniconnects.mobile:/callback"}, AdmitTypes: []storage.UserType{storage.UserTypeClinician}})
		if err != nil {
			f.t.Fatal(err)
		}
	}
	if p.emailClient, err = f.st.GetClient(ctx, "web"); err != nil {
		p.emailClient, err = f.st.CreateClient(ctx, storage.Client{ID: "web", SignInMethod: storage.SignInEmail,
			RedirectURIs: []string{"https://web.example.com/cb"}})
		if err != nil {
			f.t.Fatal(err)
		}
	}
	for _, c := range []struct {
		client, rt, at, session, method string
	}{
		{p.phoneClient.ID, p.phoneRefresh, p.phoneAccessToken, p.phoneSession, storage.SignInPhone},
		{p.emailClient.ID, p.emailRefresh, p.emailAccess, p.emailSession, storage.SignInEmail},
	} {
		must := func(err error) {
			if err != nil {
				f.t.Fatal(err)
			}
		}
		must(f.st.CreateRefreshToken(ctx, storage.RefreshToken{IDHash: c.rt, FamilyID: "fam-" + c.rt, ClientID: c.client,
			UserID: u.ID, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}))
		must(f.st.CreateAccessToken(ctx, storage.AccessToken{ID: c.at, FamilyID: "fam-" + c.rt, ClientID: c.client,
			Subject: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(f.st.CreateSession(ctx, storage.Session{IDHash: c.session, UserID: u.ID, AuthTime: now, CreatedAt: now,
			LastSeenAt: now, ExpiresAt: now.Add(time.Hour), SignInMethod: c.method}))
	}
	return p
}

// checkPhoneSignInsRevoked: the phone ones are dead, the email ones alive.
func (f *mobileFixture) checkPhoneSignInsRevoked(p phoneSignIns) {
	f.t.Helper()
	ctx := context.Background()
	for hash, wantRevoked := range map[string]bool{p.phoneRefresh: true, p.emailRefresh: false} {
		rt, err := f.st.GetRefreshToken(ctx, hash)
		if err != nil {
			f.t.Fatal(err)
		}
		if rt.RevokedAt.IsZero() == wantRevoked {
			f.t.Errorf("refresh token %s: revoked %v, want %v", hash, !rt.RevokedAt.IsZero(), wantRevoked)
		}
	}
	for id, wantRevoked := range map[string]bool{p.phoneAccessToken: true, p.emailAccess: false} {
		at, err := f.st.GetAccessToken(ctx, id)
		if err != nil {
			f.t.Fatal(err)
		}
		if at.RevokedAt.IsZero() == wantRevoked {
			f.t.Errorf("access token %s: revoked %v, want %v", id, !at.RevokedAt.IsZero(), wantRevoked)
		}
	}
	for hash, wantRevoked := range map[string]bool{p.phoneSession: true, p.emailSession: false} {
		_, err := f.st.GetSession(ctx, hash, f.clock.Now())
		if errors.Is(err, storage.ErrNotFound) != wantRevoked {
			f.t.Errorf("session %s: %v, want revoked %v", hash, err, wantRevoked)
		}
	}
}

// The clinician changes their number: after the code sent to the new one,
// the PIN is cleared, phone sign-ins end, open codes die, a notice is
// emailed, the new number counts as confirmed; email sign-ins stay.
func TestPhoneChangeByClinician(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		other := f.clinician("kofi@example.com", "+14155550177")
		f.activate(u, goodPIN)
		p := f.signIns(u)
		// An activation code is out when the number changes.
		f.clock.Advance(time.Minute)
		if err := f.m.RequestActivationCode(ctx, clinPhone, ""); err != nil {
			t.Fatal(err)
		}
		openCode := f.lastCode(clinPhone)

		if err := f.m.RequestPhoneChange(ctx, account.Actor{ID: u.ID, Source: src}, clinPhone); !errors.Is(err, account.ErrSamePhone) {
			t.Fatalf("RequestPhoneChange(own number) = %v, want ErrSamePhone", err)
		}
		// Another user's number: the same answer as any number, and
		// nothing is sent to it.
		sent := len(f.sms(clinPhone))
		if err := f.m.RequestPhoneChange(ctx, account.Actor{ID: other.ID, Source: src}, clinPhone); err != nil {
			t.Fatalf("RequestPhoneChange(another user's number) = %v, want nil", err)
		}
		if n := len(f.sms(clinPhone)); n != sent {
			t.Fatalf("a code went to another user's number (%d SMS, %d before)", n, sent)
		}
		if err := f.m.RequestPhoneChange(ctx, account.Actor{ID: u.ID, Source: src}, newPhone); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(newPhone)
		if _, err := f.m.ConfirmPhoneChange(ctx, account.Actor{ID: u.ID, Source: src}, wrong(code)); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("wrong code: %v", err)
		}
		if got := f.get(u.ID); got.Phone != clinPhone {
			t.Fatal("the number changed before the code was confirmed")
		}
		after, err := f.m.ConfirmPhoneChange(ctx, account.Actor{ID: u.ID, Source: src}, code)
		if err != nil || after.Phone != newPhone {
			t.Fatalf("ConfirmPhoneChange = %+v, %v", after, err)
		}
		f.checkPhoneSignInsRevoked(p)
		c := f.cred(u.ID)
		if c.PINHash != "" || c.StateAt(f.clock.Now()) != storage.MobileNone || !c.PhoneVerified(newPhone) {
			t.Fatalf("credential after the change: %+v", c)
		}
		for _, num := range []string{clinPhone, newPhone} {
			if _, err := f.m.AuthenticatePIN(ctx, num, goodPIN, ""); !errors.Is(err, signin.ErrInvalidCredentials) {
				t.Fatalf("PIN sign-in with %s after the change: %v", num, err)
			}
		}
		if _, err := f.m.VerifyActivationCode(ctx, clinPhone, openCode, ""); !errors.Is(err, account.ErrInvalidCode) {
			t.Fatalf("the old number's open code after the change: %v", err)
		}
		notice := f.emails(u.Email)
		if len(notice) == 0 || notice[len(notice)-1].Subject != "The mobile number of your CliniConnects account was changed" {
			t.Fatalf("no notice email: %+v", notice)
		}
		if !slices.Contains(f.auditActions(u.ID), account.ActionPhoneChanged) {
			t.Fatal("the change is not audited")
		}
		// The new number activates and signs in.
		f.clock.Advance(time.Hour)
		f.activate(f.get(u.ID), otherPIN)
		if _, err := f.m.AuthenticatePIN(ctx, newPhone, otherPIN, ""); err != nil {
			t.Fatalf("the new number: %v", err)
		}
	})
}

// An administrator's change of the phone (EditUser, as the admin API makes
// it) does the same in its transaction, and the new number is not
// confirmed by it.
func TestPhoneChangeByAdmin(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		f.activate(u, goodPIN)
		p := f.signIns(u)
		queued := f.queued.Load()
		_, err := f.svc.EditUser(ctx, u.ID, account.Edit{By: account.Actor{ID: "admin-1"}, Action: "clinician.update",
			Apply: func(x *storage.User) error { x.Phone = newPhone; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		f.checkPhoneSignInsRevoked(p)
		c := f.cred(u.ID)
		if c.PINHash != "" || c.PhoneVerified(newPhone) || c.PhoneVerified(clinPhone) {
			t.Fatalf("after an admin's change: %+v", c)
		}
		notices := f.emails(u.Email)
		if len(notices) == 0 || notices[len(notices)-1].Subject != "The mobile number of your CliniConnects account was changed" {
			t.Fatalf("no notice email: %+v", notices)
		}
		if f.queued.Load() == queued {
			t.Fatal("the delivery worker was not woken for the notice")
		}
		// Another field alone leaves the credential and sign-ins be.
		v := f.clinician("kofi@example.com", "+14155550177")
		f.activate(v, goodPIN)
		q := f.signIns(v)
		if _, err := f.svc.EditUser(ctx, v.ID, account.Edit{By: account.Actor{ID: "admin-1"}, Action: "clinician.update",
			Apply: func(x *storage.User) error { x.JobTitle = "Charge nurse"; return nil }}); err != nil {
			t.Fatal(err)
		}
		if f.cred(v.ID).PINHash == "" {
			t.Fatal("a job title change cleared the PIN")
		}
		if rt, err := st.GetRefreshToken(ctx, q.phoneRefresh); err != nil || !rt.RevokedAt.IsZero() {
			t.Fatalf("a job title change revoked the phone sign-in: %v", err)
		}
	})
}

func TestAdminMobileOperations(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		admin := account.Actor{ID: "admin-1", Source: src}

		status, err := f.m.MobileStatus(ctx, u)
		if err != nil || status.State != storage.MobileNone || status.Phone != clinPhone || status.PhoneVerified || len(status.Sessions) != 0 {
			t.Fatalf("fresh: %+v, %v", status, err)
		}
		if _, err := f.m.SendActivation(ctx, u.ID, admin, "clinician.mobile_activation", nil); err != nil {
			t.Fatal(err)
		}
		if status, _ = f.m.MobileStatus(ctx, u); status.State != storage.MobilePending || len(f.sms(clinPhone)) != 1 {
			t.Fatalf("after sending: %+v", status)
		}
		ticket, err := f.m.VerifyActivationCode(ctx, clinPhone, f.lastCode(clinPhone), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.SetPIN(ctx, ticket, goodPIN, src); err != nil {
			t.Fatal(err)
		}
		p := f.signIns(u)
		status, _ = f.m.MobileStatus(ctx, u)
		if status.State != storage.MobileActive || !status.PhoneVerified || status.ActivatedAt.IsZero() || len(status.Sessions) != 2 {
			t.Fatalf("active: %+v", status)
		}
		for _, s := range status.Sessions {
			if s.Method != storage.SignInPhone {
				t.Fatalf("an email sign-in among the mobile sessions: %+v", s)
			}
		}

		if _, err := f.m.EndMobileSessions(ctx, u.ID, admin, "clinician.mobile_end_sessions", nil); err != nil {
			t.Fatal(err)
		}
		f.checkPhoneSignInsRevoked(p)
		if status, _ = f.m.MobileStatus(ctx, u); status.State != storage.MobileActive || len(status.Sessions) != 0 {
			t.Fatalf("after ending sessions: %+v", status)
		}
		if _, err := f.m.ResetMobile(ctx, u.ID, admin, "clinician.mobile_reset", nil); err != nil {
			t.Fatal(err)
		}
		if status, _ = f.m.MobileStatus(ctx, u); status.State != storage.MobileNone || !status.PhoneVerified {
			t.Fatalf("after reset: %+v", status)
		}
		if _, err := f.m.AuthenticatePIN(ctx, clinPhone, goodPIN, ""); !errors.Is(err, signin.ErrInvalidCredentials) {
			t.Fatalf("PIN after reset: %v", err)
		}

		// The account page: list, and end one.
		list, err := f.svc.SignIns(ctx, u.ID)
		if err != nil || len(list) != 2 { // the email session and family
			t.Fatalf("SignIns = %+v, %v", list, err)
		}
		if err := f.svc.EndSignIn(ctx, account.Actor{ID: "someone-else"}, list[0].Kind, list[0].ID); !errors.Is(err, account.ErrNoSuchSignIn) {
			t.Fatalf("ending another user's sign-in: %v", err)
		}
		if err := f.svc.EndSignIn(ctx, account.Actor{ID: u.ID}, list[0].Kind, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if list, _ = f.svc.SignIns(ctx, u.ID); len(list) != 1 {
			t.Fatalf("after ending one: %+v", list)
		}
	})
}

func (f *mobileFixture) get(id string) storage.User {
	f.t.Helper()
	u, err := f.st.GetUser(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}
