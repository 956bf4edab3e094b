package account_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

const (
	issuer  = "https://id.example.test"
	firstPW = "correct horse battery staple"
	otherPW = "lighthouse orchard pebble quartet"
)

var cheap = password.Hasher{}.WithParams(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})

// newClock is a test clock reading the present.
func newClock() *testenv.Clock { return testenv.NewClock(time.Now()) }

type fixture struct {
	t      *testing.T
	st     storage.Storage
	clock  *testenv.Clock
	outbox *notify.Outbox
	svc    *account.Service
	queued atomic.Int64
}

func newFixture(t *testing.T, st storage.Storage) *fixture {
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	ob, err := notify.NewOutbox(kek)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, clock: newClock(), outbox: ob}
	f.svc = &account.Service{
		Store: st, Hasher: cheap, Policy: password.DefaultPolicy(), Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler),
		Outbox: ob, Issuer: issuer, ResetFloor: time.Millisecond,
		Queued: func() { f.queued.Add(1) },
	}
	return f
}

// active stores an active user with firstPW.
func (f *fixture) active(email string) storage.User {
	f.t.Helper()
	u, err := f.svc.CreateUser(context.Background(), account.NewUser{
		Email: email, GivenName: "Nia", FamilyName: "Okafor", Type: storage.UserTypeEmployee, Password: firstPW,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// mail returns the opened emails in the outbox, oldest first.
func (f *fixture) mail() []notify.Email {
	f.t.Helper()
	msgs, err := f.st.ListMessages(context.Background(), storage.MessageQuery{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []notify.Email
	for _, m := range msgs {
		e, err := f.outbox.Open(m)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

var tokenRE = regexp.MustCompile(regexp.QuoteMeta(issuer) + `(/[a-z/]+)\?token=([A-Za-z0-9_-]+)`)

// lastToken is the token of the newest email to addr with a link to path.
func (f *fixture) lastToken(addr, path string) string {
	f.t.Helper()
	mail := f.mail()
	for i := len(mail) - 1; i >= 0; i-- {
		if m := tokenRE.FindStringSubmatch(mail[i].Text); mail[i].To == addr && m != nil && m[1] == path {
			return m[2]
		}
	}
	f.t.Fatalf("no email to %s with a %s link", addr, path)
	return ""
}

func TestTokens(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.active("nia@example.com")
		ctx := context.Background()
		if err := f.svc.RequestPasswordReset(ctx, u.Email, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		raw := f.lastToken(u.Email, account.ResetPath)
		if len(raw) != 43 { // 32 bytes of base64url
			t.Fatalf("token %q: want 256 bits in base64url", raw)
		}
		sum := sha256.Sum256([]byte(raw))
		tok, err := st.GetOneTimeToken(ctx, hex.EncodeToString(sum[:]))
		if err != nil || tok.UserID != u.ID || tok.Purpose != storage.PurposePasswordReset || tok.ExpiresAt.Sub(f.clock.Now().Add(30*time.Minute)).Abs() > time.Millisecond {
			t.Fatalf("stored token %+v, %v", tok, err)
		}
		if _, err := st.GetOneTimeToken(ctx, raw); !errors.Is(err, storage.ErrNotFound) {
			t.Fatal("the raw token is stored")
		}
		if f.queued.Load() != 1 {
			t.Fatalf("Queued called %d times", f.queued.Load())
		}
	})
}

// Of many parallel uses of one link exactly one sets the password.
func TestLinkSingleUseUnderConcurrency(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.active("nia@example.com")
		ctx := context.Background()
		if err := f.svc.RequestPasswordReset(ctx, u.Email, ""); err != nil {
			t.Fatal(err)
		}
		raw := f.lastToken(u.Email, account.ResetPath)
		var wg sync.WaitGroup
		var ok, used atomic.Int64
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.ResetPassword(ctx, raw, otherPW+strings.Repeat("!", i), "")
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, account.ErrLinkUsed):
					used.Add(1)
				default:
					t.Errorf("reset: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || used.Load() != 7 {
			t.Fatalf("%d resets succeeded, %d saw the link used", ok.Load(), used.Load())
		}
		// One confirmation email, not eight.
		n := 0
		for _, m := range f.mail() {
			if strings.Contains(m.Subject, "password was changed") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d confirmations queued", n)
		}
	})
}

func TestLinkErrors(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		if err := f.svc.RequestPasswordReset(ctx, u.Email, ""); err != nil {
			t.Fatal(err)
		}
		raw := f.lastToken(u.Email, account.ResetPath)
		for name, tc := range map[string]struct {
			raw     string
			purpose string
			want    error
		}{
			"empty":         {"", storage.PurposePasswordReset, account.ErrInvalidLink},
			"short":         {raw[:20], storage.PurposePasswordReset, account.ErrInvalidLink},
			"not base64url": {raw[:42] + "+", storage.PurposePasswordReset, account.ErrInvalidLink},
			"unknown":       {strings.Repeat("A", 43), storage.PurposePasswordReset, account.ErrInvalidLink},
			"other purpose": {raw, storage.PurposeInvitation, account.ErrInvalidLink},
		} {
			if _, err := f.svc.CheckLink(ctx, tc.purpose, tc.raw); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
		if _, err := f.svc.AcceptInvitation(ctx, raw, otherPW, ""); !errors.Is(err, account.ErrInvalidLink) {
			t.Errorf("a reset link accepted as an invitation: %v", err)
		}

		// A disabled user's link does nothing, and stays unused.
		if _, err := f.svc.DisableUser(ctx, u.ID, account.Actor{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResetPassword(ctx, raw, otherPW, ""); !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("reset for a disabled user: %v", err)
		}
		got, _ := st.GetUser(ctx, u.ID)
		if got.PasswordHash != u.PasswordHash {
			t.Fatal("a disabled user's password was reset")
		}

		// Expired by the clock.
		v := f.active("vic@example.com")
		if err := f.svc.RequestPasswordReset(ctx, v.Email, ""); err != nil {
			t.Fatal(err)
		}
		raw = f.lastToken(v.Email, account.ResetPath)
		f.clock.Advance(30 * time.Minute)
		if _, err := f.svc.ResetPassword(ctx, raw, otherPW, ""); !errors.Is(err, account.ErrLinkExpired) || !errors.Is(err, account.ErrInvalidLink) {
			t.Fatalf("expired link: %v", err)
		}
	})
}

// Unknown, invited and disabled addresses get the same answer as a known
// one and nothing is queued for them; the work done is alike.
func TestRequestPasswordResetSameAnswer(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		known := f.active("known@example.com")
		disabled := f.active("off@example.com")
		if _, err := f.svc.DisableUser(ctx, disabled.ID, account.Actor{}); err != nil {
			t.Fatal(err)
		}
		invited, err := f.svc.Invite(ctx, account.NewUser{Email: "new@example.com", GivenName: "Neu", FamilyName: "Ling", Type: storage.UserTypeClinician})
		if err != nil {
			t.Fatal(err)
		}
		before := len(f.mail())
		for _, addr := range []string{"nobody@example.com", disabled.Email, invited.Email, "NOBODY@EXAMPLE.COM"} {
			if err := f.svc.RequestPasswordReset(ctx, addr, "192.0.2.7"); err != nil {
				t.Fatalf("%s: %v", addr, err)
			}
		}
		if n := len(f.mail()); n != before {
			t.Fatalf("%d messages queued for addresses without an active account", n-before)
		}
		if err := f.svc.RequestPasswordReset(ctx, known.Email, "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
		if n := len(f.mail()); n != before+1 {
			t.Fatalf("known address: %d messages, want 1", n-before)
		}
		var fe *account.FieldError
		if err := f.svc.RequestPasswordReset(ctx, "not an email", ""); !errors.As(err, &fe) {
			t.Fatalf("malformed address: %v", err)
		}
	})
}

// The floor makes the unknown path as slow as the known one. The fastest
// of three runs of each is compared, to keep scheduling noise out.
func TestRequestPasswordResetTiming(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.svc.ResetFloor = 0 // the default
		ctx := context.Background()
		known := f.active("known@example.com")
		fastest := func(addr func(i int) string) time.Duration {
			best := time.Hour
			for i := range 3 {
				start := time.Now()
				if err := f.svc.RequestPasswordReset(ctx, addr(i), ""); err != nil {
					t.Fatal(err)
				}
				best = min(best, time.Since(start))
			}
			return best
		}
		k := fastest(func(int) string { return known.Email })
		u := fastest(func(i int) string { return "ghost" + string(rune('a'+i)) + "@example.com" })
		if k < account.DefaultResetFloor || u < account.DefaultResetFloor {
			t.Fatalf("under the floor: known %v, unknown %v", k, u)
		}
		if d := (k - u).Abs(); d > 100*time.Millisecond {
			t.Errorf("known %v vs unknown %v", k, u)
		}
	})
}

func TestRequestPasswordResetThrottle(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		for i := range 5 {
			if err := f.svc.RequestPasswordReset(ctx, u.Email, "192.0.2.1"); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		if err := f.svc.RequestPasswordReset(ctx, u.Email, "192.0.2.2"); !errors.Is(err, account.ErrThrottled) {
			t.Fatalf("sixth request for one address: %v", err)
		}
		// Per source: 20 requests from one /64, whatever the addresses.
		for i := range 20 {
			addr := "p" + string(rune('a'+i)) + "@example.com"
			src := "2001:db8::" + string(rune('a'+i%6))
			if err := f.svc.RequestPasswordReset(ctx, addr, src); err != nil {
				t.Fatalf("source request %d: %v", i+1, err)
			}
		}
		if err := f.svc.RequestPasswordReset(ctx, "fresh@example.com", "2001:db8::ffff"); !errors.Is(err, account.ErrThrottled) {
			t.Fatalf("21st request from one /64: %v", err)
		}
		if err := f.svc.RequestPasswordReset(ctx, "fresh@example.com", "198.51.100.1"); err != nil {
			t.Fatalf("another source: %v", err)
		}
		// Throttling requests never locks anyone's sign-in.
		th, err := st.GetThrottle(ctx, signin.AccountKey(u.Email))
		if err != nil || th.Failures != 0 || !th.LockedUntil.IsZero() {
			t.Fatalf("sign-in throttle: %+v %v", th, err)
		}
		f.clock.Advance(time.Hour + time.Minute)
		if err := f.svc.RequestPasswordReset(ctx, u.Email, "192.0.2.1"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestResetLiftsLockAndRevokes(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		now := f.clock.Now()
		if err := st.CreateSession(ctx, storage.Session{IDHash: "s1", UserID: u.ID, AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := st.RecordFailure(ctx, signin.AccountKey(u.Email), storage.Failure{Now: now, ResetBefore: now.Add(-time.Hour), LockAfter: 5, LockUntil: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.RequestPasswordReset(ctx, u.Email, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResetPassword(ctx, f.lastToken(u.Email, account.ResetPath), otherPW, ""); err != nil {
			t.Fatal(err)
		}
		if th, _ := st.GetThrottle(ctx, signin.AccountKey(u.Email)); th.Failures != 0 {
			t.Fatalf("lock not lifted: %+v", th)
		}
		if _, err := st.GetSession(ctx, "s1", f.clock.Now()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("session after reset: %v", err)
		}
		audit, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: u.ID, Action: "user.password_reset"})
		if err != nil || len(audit) != 1 {
			t.Fatalf("audit: %+v %v", audit, err)
		}
		// The lifted lock is on the record, like any unlock.
		unlock, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: u.ID, Action: "signin.unlock"})
		if err != nil || len(unlock) != 1 || unlock[0].ActorID != u.ID {
			t.Fatalf("signin.unlock audit after the reset: %+v %v", unlock, err)
		}
	})
}

func TestInviteAtomic(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		f.active("taken@example.com")
		before := len(f.mail())
		_, err := f.svc.Invite(ctx, account.NewUser{Email: "TAKEN@example.com", GivenName: "Tak", FamilyName: "En", Type: storage.UserTypeEmployee})
		if !errors.Is(err, storage.ErrEmailInUse) {
			t.Fatalf("invite a taken address: %v", err)
		}
		if len(f.mail()) != before {
			t.Fatal("an invitation was queued for a user that was not created")
		}
		var fe *account.FieldError
		if _, err := f.svc.Invite(ctx, account.NewUser{Email: "x@example.com", GivenName: "X", FamilyName: "Y", Type: storage.UserTypeEmployee, Password: firstPW}); !errors.As(err, &fe) {
			t.Fatalf("invite with a password: %v", err)
		}
		u, err := f.svc.Invite(ctx, account.NewUser{Email: "ok@example.com", GivenName: "Oke", FamilyName: "Ama", Type: storage.UserTypeEmployee})
		if err != nil {
			t.Fatal(err)
		}
		first := f.lastToken(u.Email, account.InvitePath)
		if err := f.svc.SendInvitation(ctx, u.ID, account.Actor{}, "user.invite_resend", nil); err != nil {
			t.Fatal(err)
		}
		second := f.lastToken(u.Email, account.InvitePath)
		if _, err := f.svc.AcceptInvitation(ctx, first, otherPW, ""); !errors.Is(err, account.ErrLinkReplaced) {
			t.Fatalf("voided invitation: %v", err)
		}
		got, err := f.svc.AcceptInvitation(ctx, second, otherPW, "")
		if err != nil || got.Status != storage.StatusActive || !got.EmailVerified {
			t.Fatalf("accept: %+v %v", got, err)
		}
		if err := f.svc.SendInvitation(ctx, u.ID, account.Actor{}, "user.invite_resend", nil); !errors.Is(err, account.ErrNotInvited) {
			t.Fatalf("resend to an active user: %v", err)
		}
	})
}

func TestChangePasswordReauthThrottled(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		for i := range 5 {
			if _, err := f.svc.ChangePassword(ctx, account.Actor{ID: u.ID}, "wrong password "+string(rune('a'+i)), otherPW); !errors.Is(err, account.ErrWrongPassword) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		if _, err := f.svc.ChangePassword(ctx, account.Actor{ID: u.ID}, firstPW, otherPW); !errors.Is(err, account.ErrThrottled) {
			t.Fatalf("sixth attempt, right password: %v", err)
		}
		if err := f.svc.RequestEmailChange(ctx, account.Actor{ID: u.ID}, firstPW, "new@example.com"); !errors.Is(err, account.ErrThrottled) {
			t.Fatalf("email change while locked: %v", err)
		}
		f.clock.Advance(16 * time.Minute)
		if _, err := f.svc.ChangePassword(ctx, account.Actor{ID: u.ID}, firstPW, firstPW); err == nil {
			t.Fatal("the same password accepted as new")
		}
		if _, err := f.svc.ChangePassword(ctx, account.Actor{ID: u.ID}, firstPW, otherPW); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	})
}

// The address is checked again at confirmation: one taken meanwhile gives
// ErrEmailTaken and leaves the link usable once it is free again.
func TestConfirmEmailChangeRechecks(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("nia@example.com")
		if err := f.svc.RequestEmailChange(ctx, account.Actor{ID: u.ID}, firstPW, "Nia.New@Example.com"); err != nil {
			t.Fatal(err)
		}
		mail := f.mail()
		if len(mail) != 2 || mail[0].To != "Nia.New@example.com" || mail[1].To != u.Email || !strings.Contains(mail[1].Text, "Nia.New@example.com") {
			t.Fatalf("emails: %+v", mail)
		}
		raw := f.lastToken("Nia.New@example.com", account.EmailConfirmPath)
		squatter := f.active("nia.new@example.com")
		if _, err := f.svc.ConfirmEmailChange(ctx, raw, ""); !errors.Is(err, account.ErrEmailTaken) {
			t.Fatalf("confirm a taken address: %v", err)
		}
		if _, err := f.svc.DisableUser(ctx, squatter.ID, account.Actor{}); err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx storage.Storage) error {
			_, err := tx.UpdateUser(ctx, squatter.ID, 0, func(u *storage.User) error { u.Email = "gone@example.com"; return nil })
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ConfirmEmailChange(ctx, raw, "")
		if err != nil || got.Email != "Nia.New@example.com" || !got.EmailVerified {
			t.Fatalf("confirm: %+v %v", got, err)
		}
		if _, err := f.svc.ConfirmEmailChange(ctx, raw, ""); !errors.Is(err, account.ErrLinkUsed) {
			t.Fatalf("confirm twice: %v", err)
		}
		if err := f.svc.RequestEmailChange(ctx, account.Actor{ID: u.ID}, firstPW, "nia.new@EXAMPLE.com"); !errors.Is(err, account.ErrSameEmail) {
			t.Fatalf("change to the current address: %v", err)
		}
	})
}

func TestLinksUseIssuer(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.active("nia@example.com")
		if err := f.svc.RequestPasswordReset(context.Background(), u.Email, ""); err != nil {
			t.Fatal(err)
		}
		text := f.mail()[0].Text
		m := tokenRE.FindString(text)
		pu, err := url.Parse(m)
		if err != nil || pu.Scheme+"://"+pu.Host != issuer || pu.Path != "/reset" {
			t.Fatalf("link %q", m)
		}
	})
}
