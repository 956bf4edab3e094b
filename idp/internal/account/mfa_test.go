package account_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

const mfaPassword = "granite meadow lantern violin"

// mfaFixture is the second-factor use cases on a real store, with a test
// clock shared by the sign-in lock.
type mfaFixture struct {
	t      *testing.T
	st     storage.Storage
	clock  *testenv.Clock
	outbox *notify.Outbox
	svc    *account.Service
	lock   *signin.Service
	mfa    *account.MFA
}

func newMFAFixture(t *testing.T, st storage.Storage) *mfaFixture {
	t.Helper()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	ob, err := notify.NewOutbox(kek)
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.Hasher{}.WithParams(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	f := &mfaFixture{t: t, st: st, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Second)), outbox: ob}
	log := slog.New(slog.DiscardHandler)
	f.svc = &account.Service{Store: st, Hasher: hasher, Policy: password.DefaultPolicy(), Now: f.clock.Now, Logger: log, Outbox: ob, Issuer: "https://id.example.test"}
	f.lock = &signin.Service{Store: st, Hasher: hasher, Now: f.clock.Now, Logger: log, Sleep: func(context.Context, time.Duration) {}}
	f.mfa, err = account.NewMFA(f.svc, kek, f.lock, []storage.Role{storage.RoleSuperAdmin, storage.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *mfaFixture) user(email string, roles ...storage.Role) storage.User {
	f.t.Helper()
	u, err := f.svc.CreateUser(context.Background(), account.NewUser{
		Email: email, GivenName: "Nia", FamilyName: "Okafor", Type: storage.UserTypeEmployee, Roles: roles, Password: mfaPassword,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// app is the user's authenticator app: the key typed in by hand.
type app struct{ key string }

func (a app) code(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(a.key, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol sets up an app for u and returns it with the recovery codes.
func (f *mfaFixture) enrol(u storage.User) (app, []string) {
	f.t.Helper()
	ctx := context.Background()
	e, err := f.mfa.BeginEnrollment(ctx, u.ID)
	if err != nil {
		f.t.Fatalf("BeginEnrollment: %v", err)
	}
	a := app{key: strings.ReplaceAll(e.Secret, " ", "")}
	codes, err := f.mfa.ConfirmEnrollment(ctx, u.ID, a.code(f.t, f.clock.Now()), "192.0.2.1")
	if err != nil {
		f.t.Fatalf("ConfirmEnrollment: %v", err)
	}
	return a, codes
}

// mailTo lists the subjects of the emails to addr, oldest first.
func (f *mfaFixture) mailTo(addr string) []string {
	f.t.Helper()
	msgs, err := f.st.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		e, err := f.outbox.Open(m)
		if err != nil {
			f.t.Fatal(err)
		}
		if e.To == addr {
			out = append(out, e.Subject)
		}
	}
	return out
}

// audits lists the actions of the audit entries about userID, oldest first.
func (f *mfaFixture) audits(userID string) []storage.AuditEntry {
	f.t.Helper()
	es, _, err := f.st.ListAudit(context.Background(), storage.AuditQuery{TargetID: userID, Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

func actions(es []storage.AuditEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func hasAction(es []storage.AuditEntry, action string) *storage.AuditEntry {
	for i := range es {
		if es[i].Action == action {
			return &es[i]
		}
	}
	return nil
}

func TestMFAEnrolment(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		u := f.user("nia@example.com", storage.RoleAdmin)
		if st, err := f.mfa.Status(ctx, u); err != nil || st.Enabled || st.Pending || !st.Required {
			t.Fatalf("status before: %+v, %v", st, err)
		}
		if _, err := f.mfa.ConfirmEnrollment(ctx, u.ID, "123456", ""); !errors.Is(err, account.ErrNoEnrollment) {
			t.Fatalf("confirm without a setup: %v", err)
		}
		first, err := f.mfa.BeginEnrollment(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		e, err := f.mfa.BeginEnrollment(ctx, u.ID) // starting again replaces the secret
		if err != nil || e.Secret == first.Secret {
			t.Fatalf("second BeginEnrollment: %v (same secret: %v)", err, e.Secret == first.Secret)
		}
		a := app{key: strings.ReplaceAll(e.Secret, " ", "")}
		// The secret is stored sealed, never as it is.
		stored, err := st.GetTOTP(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(a.key)
		if len(raw) != 20 || bytes.Contains(stored.Secret, raw) || bytes.Contains(stored.Secret, []byte(a.key)) {
			t.Fatal("the TOTP secret is stored in the clear")
		}
		if !strings.HasPrefix(e.URI, "otpauth://totp/") || !strings.Contains(e.URI, "issuer=CliniConnects") || !strings.Contains(e.URI, "nia@example.com") {
			t.Errorf("URI %s", e.URI)
		}
		if png, err := e.QRCode(); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Errorf("QR code: %v", err)
		}
		if p, err := f.mfa.PendingEnrollment(ctx, u.ID); err != nil || p != e {
			t.Errorf("PendingEnrollment = %v, %v; want the latest setup", p, err)
		}
		old := app{key: strings.ReplaceAll(first.Secret, " ", "")}
		now := f.clock.Now()

		for _, bad := range []string{old.code(t, now), a.code(t, now.Add(-2*time.Minute)), "abc", ""} {
			if _, err := f.mfa.ConfirmEnrollment(ctx, u.ID, bad, ""); !errors.Is(err, account.ErrWrongCode) {
				t.Fatalf("confirm with %q: %v, want ErrWrongCode", bad, err)
			}
		}
		if on, _ := f.mfa.Enabled(ctx, u.ID); on {
			t.Fatal("enabled by a wrong code")
		}
		codes, err := f.mfa.ConfirmEnrollment(ctx, u.ID, a.code(t, now), "192.0.2.1")
		if err != nil {
			t.Fatalf("confirm: %v", err)
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes, want 10", len(codes))
		}
		s, err := f.mfa.Status(ctx, u)
		if err != nil || !s.Enabled || s.RecoveryCodesLeft != 10 || !s.EnabledAt.Equal(now) {
			t.Fatalf("status after: %+v, %v", s, err)
		}
		// Codes are stored as keyed hashes: not even their SHA-256 works.
		sum := sha256.Sum256([]byte(strings.ReplaceAll(codes[0], "-", "")))
		if err := st.UseRecoveryCode(ctx, u.ID, hex.EncodeToString(sum[:]), now); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("a recovery code's plain SHA-256 is stored: %v", err)
		}
		if _, err := f.mfa.BeginEnrollment(ctx, u.ID); !errors.Is(err, account.ErrMFAEnabled) {
			t.Errorf("BeginEnrollment when enabled: %v", err)
		}
		if _, err := f.mfa.ConfirmEnrollment(ctx, u.ID, a.code(t, now.Add(30*time.Second)), ""); !errors.Is(err, account.ErrMFAEnabled) {
			t.Errorf("confirm again: %v", err)
		}
		if got := f.mailTo(u.Email); len(got) != 1 || got[0] != "Two-step sign-in is now on for your CliniConnects account" {
			t.Errorf("mail: %q", got)
		}
		en := hasAction(f.audits(u.ID), account.ActionMFAEnable)
		if en == nil || en.ActorID != u.ID || en.SourceAddr != "192.0.2.1" {
			t.Errorf("audit: %+v", f.audits(u.ID))
		}
	})
}

// TestMFAReplay: a code works once: the code that confirmed the app does
// not sign in, a sign-in code does not sign in twice, nor does an older
// one after a newer, and of parallel uses of one code exactly one wins.
func TestMFAReplay(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		u := f.user("nia@example.com")
		a, _ := f.enrol(u)
		now := f.clock.Now()
		if _, err := f.mfa.VerifySignIn(ctx, u, a.code(t, now), "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("the confirming code again: %v, want ErrWrongCode", err)
		}
		f.clock.Advance(30 * time.Second)
		now = f.clock.Now()
		code := a.code(t, now)
		if fa, err := f.mfa.VerifySignIn(ctx, u, code, "192.0.2.7", ""); err != nil || fa != account.FactorTOTP {
			t.Fatalf("fresh code: %v, %v", fa, err)
		}
		if _, err := f.mfa.VerifySignIn(ctx, u, code, "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("same code again: %v, want ErrWrongCode", err)
		}
		// One step of skew: the next step's code works now, and then the
		// current step's no longer does.
		if _, err := f.mfa.VerifySignIn(ctx, u, a.code(t, now.Add(30*time.Second)), "", ""); err != nil {
			t.Fatalf("next step's code: %v", err)
		}
		f.clock.Advance(30 * time.Second)
		if _, err := f.mfa.VerifySignIn(ctx, u, a.code(t, f.clock.Now().Add(-30*time.Second)), "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("an earlier step after a later one: %v, want ErrWrongCode", err)
		}

		f.clock.Advance(60 * time.Second)
		code = a.code(t, f.clock.Now())
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := f.mfa.VerifySignIn(ctx, u, code, "", ""); err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d parallel sign-ins with one code succeeded, want 1", won)
		}
		es := f.audits(u.ID)
		if e := hasAction(es, account.ActionMFASignIn); e == nil || e.SourceAddr != "192.0.2.7" {
			t.Errorf("no sign-in audit entry: %v", actions(es))
		}
		if hasAction(es, account.ActionMFACodeFailed) == nil {
			t.Errorf("no failed-code audit entry: %v", actions(es))
		}
	})
}

func TestMFARecoveryCodeOnce(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		u := f.user("nia@example.com")
		other := f.user("bo@example.com")
		_, codes := f.enrol(u)
		f.enrol(other)
		if _, err := f.mfa.VerifySignIn(ctx, other, codes[0], "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("another user's recovery code: %v", err)
		}
		typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
		if fa, err := f.mfa.VerifySignIn(ctx, u, typed, "192.0.2.9", ""); err != nil || fa != account.FactorRecoveryCode {
			t.Fatalf("recovery code: %v, %v", fa, err)
		}
		if _, err := f.mfa.VerifySignIn(ctx, u, codes[0], "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("recovery code again: %v, want ErrWrongCode", err)
		}
		if s, _ := f.mfa.Status(ctx, u); s.RecoveryCodesLeft != 9 {
			t.Errorf("codes left: %d, want 9", s.RecoveryCodesLeft)
		}
		if _, err := f.mfa.VerifySignIn(ctx, u, codes[1], "", ""); err != nil {
			t.Errorf("second recovery code: %v", err)
		}
		got := f.mailTo(u.Email)
		if n := strings.Count(strings.Join(got, "\n"), "A recovery code was used"); n != 2 {
			t.Errorf("recovery notices: %q", got)
		}
		if e := hasAction(f.audits(u.ID), account.ActionMFARecoveryCodeUsed); e == nil || e.SourceAddr != "192.0.2.9" {
			t.Errorf("audit: %v", actions(f.audits(u.ID)))
		}
		if fa := account.FactorRecoveryCode.AMR(); len(fa) != 1 || fa[0] != "mfa" {
			t.Errorf("AMR of a recovery code: %v", fa)
		}
		if fa := account.FactorTOTP.AMR(); len(fa) != 2 || fa[0] != "otp" {
			t.Errorf("AMR of a TOTP code: %v", fa)
		}
	})
}

// TestMFAWrongCodesLockSignIn: wrong codes count toward the password lock:
// after a right password, five wrong codes lock the account, and the right
// password is then refused too.
func TestMFAWrongCodesLockSignIn(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		u := f.user("nia@example.com")
		a, _ := f.enrol(u)
		f.clock.Advance(time.Minute)
		if _, err := f.lock.Authenticate(ctx, u.Email, mfaPassword, "", ""); err != nil {
			t.Fatalf("password: %v", err)
		}
		var locked *signin.LockedError
		for i := 1; i <= 5; i++ {
			_, err := f.mfa.VerifySignIn(ctx, u, "000000", "", "")
			if i < 5 && !errors.Is(err, account.ErrWrongCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
			if i == 5 && !errors.As(err, &locked) {
				t.Fatalf("fifth wrong code: %v, want locked", err)
			}
		}
		if _, err := f.mfa.VerifySignIn(ctx, u, a.code(t, f.clock.Now()), "", ""); !errors.As(err, &locked) {
			t.Fatalf("right code while locked: %v", err)
		}
		if _, err := f.lock.Authenticate(ctx, u.Email, mfaPassword, "", ""); !errors.As(err, &locked) {
			t.Fatalf("right password after five wrong codes: %v, want locked", err)
		}
	})
}

func TestMFARemoveNeedsPasswordAndCode(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		u := f.user("nia@example.com")
		if err := f.mfa.Remove(ctx, u.ID, mfaPassword, "123456", "", ""); !errors.Is(err, account.ErrMFANotEnabled) {
			t.Fatalf("remove without an app: %v", err)
		}
		a, _ := f.enrol(u)
		f.clock.Advance(30 * time.Second)
		code := a.code(t, f.clock.Now())
		if err := f.mfa.Remove(ctx, u.ID, "wrong password", code, "", ""); !errors.Is(err, account.ErrWrongPassword) {
			t.Fatalf("wrong password: %v", err)
		}
		if err := f.mfa.Remove(ctx, u.ID, mfaPassword, "000000", "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("wrong code: %v", err)
		}
		if err := f.mfa.Remove(ctx, u.ID, mfaPassword, "", "", ""); !errors.Is(err, account.ErrWrongCode) {
			t.Fatalf("no code: %v", err)
		}
		if on, _ := f.mfa.Enabled(ctx, u.ID); !on {
			t.Fatal("removed without password and code")
		}
		if err := f.mfa.Remove(ctx, u.ID, mfaPassword, code, "192.0.2.3", ""); err != nil {
			t.Fatalf("remove: %v", err)
		}
		if on, _ := f.mfa.Enabled(ctx, u.ID); on {
			t.Fatal("still enabled")
		}
		got := f.mailTo(u.Email)
		if len(got) != 2 || got[1] != "Two-step sign-in was turned off for your CliniConnects account" {
			t.Errorf("mail: %q", got)
		}
		if e := hasAction(f.audits(u.ID), account.ActionMFARemove); e == nil || e.ActorID != u.ID || e.SourceAddr != "192.0.2.3" {
			t.Errorf("audit: %v", actions(f.audits(u.ID)))
		}
		// A fresh setup works again.
		f.enrol(u)
	})
}

// TestMFAReset: admins reset the second factor of users below them, super
// admins anyone's; the reset is audited under the actor and mailed.
func TestMFAReset(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		super := f.user("root@example.com", storage.RoleSuperAdmin)
		admin := f.user("ops@example.com", storage.RoleAdmin)
		admin2 := f.user("ops2@example.com", storage.RoleAdmin)
		manager := f.user("mgr@example.com", storage.RoleAssigningManager)
		emp := f.user("emp@example.com")
		for _, u := range []storage.User{admin2, emp} {
			f.enrol(u)
		}
		if err := f.mfa.Reset(ctx, &manager, emp.ID, ""); !errors.Is(err, account.ErrNotAllowed) {
			t.Fatalf("manager resets an employee: %v", err)
		}
		if err := f.mfa.Reset(ctx, &admin, admin2.ID, ""); !errors.Is(err, account.ErrNotAllowed) {
			t.Fatalf("admin resets an admin: %v", err)
		}
		if on, _ := f.mfa.Enabled(ctx, admin2.ID); !on {
			t.Fatal("a refused reset removed the app")
		}
		empLive, managerLive := grantsOf(t, st, f.clock, emp), grantsOf(t, st, f.clock, manager)
		if err := f.mfa.Reset(ctx, &admin, emp.ID, "198.51.100.4"); err != nil {
			t.Fatalf("admin resets an employee: %v", err)
		}
		if err := f.mfa.Reset(ctx, &admin, emp.ID, ""); !errors.Is(err, account.ErrMFANotEnabled) {
			t.Fatalf("reset again: %v", err)
		}
		if err := f.mfa.Reset(ctx, &super, admin2.ID, ""); err != nil {
			t.Fatalf("super admin resets an admin: %v", err)
		}
		if err := f.mfa.Reset(ctx, nil, "nobody", ""); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("reset of an unknown user: %v", err)
		}
		e := hasAction(f.audits(emp.ID), account.ActionMFAReset)
		if e == nil || e.ActorID != admin.ID || e.SourceAddr != "198.51.100.4" {
			t.Fatalf("audit: %+v", f.audits(emp.ID))
		}
		if got := f.mailTo(emp.Email); len(got) != 2 || !strings.Contains(got[1], "An administrator turned off two-step sign-in") {
			t.Errorf("mail: %q", got)
		}
		// The reset ended the employee's sessions and tokens (the lost
		// phone may hold them), and no one else's.
		if empLive() {
			t.Error("the reset user's session and refresh token are still live")
		}
		if !managerLive() {
			t.Error("a bystander's session and refresh token were ended")
		}
		// The operator at the command line (no actor).
		f.enrol(emp)
		if err := f.mfa.Reset(ctx, nil, emp.ID, ""); err != nil {
			t.Fatalf("operator reset: %v", err)
		}
		if on, _ := f.mfa.Enabled(ctx, emp.ID); on {
			t.Fatal("still enabled after the operator's reset")
		}
	})
}

// TestMFASetupExpires: a setup begun and not confirmed within
// EnrollmentTTL no longer counts: its secret's codes are refused and the
// user begins again with a fresh one.
func TestMFASetupExpires(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMFAFixture(t, st)
		ctx := context.Background()
		u := f.user("lea@example.com")
		e, err := f.mfa.BeginEnrollment(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := app{key: strings.ReplaceAll(e.Secret, " ", "")}
		f.clock.Advance(account.EnrollmentTTL)
		if _, err := f.mfa.PendingEnrollment(ctx, u.ID); !errors.Is(err, account.ErrNoEnrollment) {
			t.Errorf("PendingEnrollment of an expired setup: %v, want ErrNoEnrollment", err)
		}
		if _, err := f.mfa.ConfirmEnrollment(ctx, u.ID, a.code(t, f.clock.Now()), ""); !errors.Is(err, account.ErrNoEnrollment) {
			t.Fatalf("confirming an expired setup with a current code: %v, want ErrNoEnrollment", err)
		}
		if on, _ := f.mfa.Enabled(ctx, u.ID); on {
			t.Fatal("an expired setup was confirmed")
		}
		f.clock.Advance(time.Minute) // a new time step for the new secret's code
		f.enrol(u)                   // beginning again works
		if on, _ := f.mfa.Enabled(ctx, u.ID); !on {
			t.Fatal("a fresh setup after an expired one is not enabled")
		}
	})
}
