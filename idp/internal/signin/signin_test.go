package signin_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// cheap keeps argon2id fast in tests; timing is not what they check.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	goodPassword = "correct horse battery staple"
	source       = "192.0.2.10"
)

// fixture is a Service over a real store with a test clock, recorded
// sleeps and a captured log.
type fixture struct {
	st     storage.Storage
	svc    *signin.Service
	clock  *testenv.Clock
	log    *bytes.Buffer
	mu     sync.Mutex
	sleeps []time.Duration
}

func newFixture(t *testing.T, st storage.Storage) *fixture {
	t.Helper()
	f := &fixture{st: st, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Second)), log: &bytes.Buffer{}}
	f.svc = &signin.Service{
		Store:  st,
		Hasher: password.Hasher{}.WithParams(cheap),
		Now:    f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: f.log}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep: func(_ context.Context, d time.Duration) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sleeps = append(f.sleeps, d)
		},
	}
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) user(t *testing.T, email string, status storage.UserStatus, pw string) storage.User {
	t.Helper()
	var phc string
	if pw != "" {
		var err error
		if phc, err = f.svc.Hasher.Hash(pw); err != nil {
			t.Fatal(err)
		}
	}
	u, err := f.st.CreateUser(context.Background(), storage.User{
		Type: storage.UserTypeClinician, GivenName: "Grace", FamilyName: "Hopper",
		Email: email, Status: status, PasswordHash: phc,
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

func (f *fixture) auth(email, pw string) (storage.User, error) {
	return f.svc.Authenticate(context.Background(), email, pw, source, "")
}

func (f *fixture) failures(t *testing.T, key string) int {
	t.Helper()
	th, err := f.st.GetThrottle(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return th.Failures
}

func TestAuthenticate(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		active := f.user(t, "Grace@Example.com", storage.StatusActive, goodPassword)
		f.user(t, "invited@example.com", storage.StatusInvited, goodPassword)
		f.user(t, "disabled@example.com", storage.StatusDisabled, goodPassword)
		f.user(t, "nopassword@example.com", storage.StatusActive, "")

		tests := []struct {
			name, email, pw string
			wantOK          bool
		}{
			{"success", "Grace@Example.com", goodPassword, true},
			{"email case and spaces do not matter", "  grace@EXAMPLE.com ", goodPassword, true},
			{"wrong password", "grace@example.com", "wrong password", false},
			{"empty password", "grace@example.com", "", false},
			{"unknown email", "nobody@example.com", goodPassword, false},
			{"empty email", "", goodPassword, false},
			{"invited", "invited@example.com", goodPassword, false},
			{"disabled", "disabled@example.com", goodPassword, false},
			{"no password set", "nopassword@example.com", goodPassword, false},
			{"no password set, empty password", "nopassword@example.com", "", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				u, err := f.auth(tc.email, tc.pw)
				if tc.wantOK {
					if err != nil || u.ID != active.ID {
						t.Fatalf("Authenticate = %v, %v; want user %s", u.ID, err, active.ID)
					}
					return
				}
				// One error, one message, whatever the cause.
				if err != signin.ErrInvalidCredentials || u.ID != "" {
					t.Fatalf("Authenticate = %q, %v; want ErrInvalidCredentials and no user", u.ID, err)
				}
			})
		}
	})
}

func TestSuccessResetsTheAccountCounter(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		for range 4 {
			f.auth("grace@example.com", "wrong")
		}
		if _, err := f.auth("grace@example.com", goodPassword); err != nil {
			t.Fatalf("fifth attempt with the right password: %v", err)
		}
		if n := f.failures(t, signin.AccountKey("grace@example.com")); n != 0 {
			t.Errorf("account failures after success = %d, want 0", n)
		}
		if n := f.failures(t, signin.SourceKey(source)); n != 4 {
			t.Errorf("source failures = %d, want 4 (a success does not clear the source)", n)
		}
	})
}

func TestLockout(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		for _, known := range []bool{true, false} {
			name := map[bool]string{true: "known email", false: "unknown email"}[known]
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, st)
				email := "lock-unknown@example.com"
				if known {
					email = "lock-known@example.com"
					f.user(t, email, storage.StatusActive, goodPassword)
				}
				for i := 1; i <= 4; i++ {
					if _, err := f.auth(email, "wrong"); err != signin.ErrInvalidCredentials {
						t.Fatalf("failure %d: %v, want ErrInvalidCredentials", i, err)
					}
				}
				_, err := f.auth(email, "wrong")
				var locked *signin.LockedError
				if !errors.As(err, &locked) || locked.RetryAfter != 15*time.Minute {
					t.Fatalf("fifth failure: %v, want LockedError after 15m", err)
				}
				if locked.Error() != "signin: too many attempts; try again in 15 minutes" || locked.Minutes() != 15 {
					t.Errorf("message %q, minutes %d", locked.Error(), locked.Minutes())
				}

				f.clock.Advance(5 * time.Minute)
				_, err = f.auth(email, goodPassword)
				if !errors.As(err, &locked) || locked.RetryAfter != 10*time.Minute {
					t.Fatalf("right password while locked: %v, want LockedError after 10m", err)
				}

				f.clock.Advance(10*time.Minute + time.Second)
				_, err = f.auth(email, goodPassword)
				if known && err != nil {
					t.Fatalf("after the lock: %v, want success", err)
				}
				if !known && err != signin.ErrInvalidCredentials {
					t.Fatalf("after the lock: %v, want ErrInvalidCredentials", err)
				}
				// A fresh set of attempts: the next failure does not lock again.
				if _, err := f.auth(email, "wrong"); err != signin.ErrInvalidCredentials {
					t.Errorf("first failure after the lock: %v, want ErrInvalidCredentials", err)
				}
			})
		}
	})
}

func TestFailuresOutsideTheWindowReset(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		for range 4 {
			f.auth("grace@example.com", "wrong")
		}
		f.clock.Advance(15*time.Minute + time.Second)
		for i := 1; i <= 4; i++ {
			if _, err := f.auth("grace@example.com", "wrong"); err != signin.ErrInvalidCredentials {
				t.Fatalf("failure %d of the new window: %v", i, err)
			}
		}
		if n := f.failures(t, signin.AccountKey("grace@example.com")); n != 4 {
			t.Errorf("failures = %d, want 4", n)
		}
	})
}

func TestGrowingDelay(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.svc.LockAfter = 10
		f.svc.SourceLimit = 100
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		for range 8 {
			f.auth("grace@example.com", "wrong")
		}
		want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
		if !equalDurations(f.sleeps, want) {
			t.Errorf("sleeps = %v, want %v", f.sleeps, want)
		}
		f.sleeps = nil
		if _, err := f.auth("grace@example.com", goodPassword); err != nil || len(f.sleeps) != 0 {
			t.Errorf("success: err %v, sleeps %v; want no delay", err, f.sleeps)
		}
	})
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{
		0: 0, 1: 0, 2: 0, 3: 250 * time.Millisecond, 4: 500 * time.Millisecond,
		5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second, 8: 4 * time.Second, 1000: 4 * time.Second,
	} {
		if got := signin.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestSourceThrottle(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		// Password spraying: one guess each at many accounts.
		for i := 1; i <= 19; i++ {
			if _, err := f.auth("user"+string(rune('a'+i))+"@example.com", "Winter2026!"); err != signin.ErrInvalidCredentials {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		var locked *signin.LockedError
		if _, err := f.auth("another@example.com", "Winter2026!"); !errors.As(err, &locked) || locked.RetryAfter != 15*time.Minute {
			t.Fatalf("20th failure from one source: %v, want LockedError", err)
		}
		if _, err := f.auth("grace@example.com", goodPassword); !errors.As(err, &locked) {
			t.Fatalf("throttled source, right password: %v, want LockedError", err)
		}
		ctx := context.Background()
		if _, err := f.svc.Authenticate(ctx, "grace@example.com", goodPassword, "198.51.100.7", ""); err != nil {
			t.Fatalf("another source: %v", err)
		}
		f.clock.Advance(15*time.Minute + time.Second)
		if _, err := f.auth("grace@example.com", goodPassword); err != nil {
			t.Fatalf("after the source lock: %v", err)
		}
	})
}

func TestSourceKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1":                 "ip:192.0.2.1",
		"::ffff:192.0.2.1":          "ip:192.0.2.1",
		"2001:db8:1:2:3:4:5:6":      "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":      "ip:2001:db8:1:2::/64",
		"fe80::1%eth0":              "ip:fe80::/64",
		"not-an-ip":                 "ip:not-an-ip",
		"[2001:db8::1]:443 garbage": "ip:[2001:db8::1]:443 garbage",
	} {
		if got := signin.SourceKey(addr); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", addr, got, want)
		}
	}
	if got := signin.AccountKey("  Grace@Example.COM "); got != "account:grace@example.com" {
		t.Errorf("AccountKey = %q", got)
	}
}

func TestRehashOnParameterChange(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		f := newFixture(t, st)
		u := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		stronger := cheap
		stronger.Time = 2
		f.svc.Hasher = password.Hasher{}.WithParams(stronger)

		// Without a writer of users the old hash stays.
		if _, err := f.auth("grace@example.com", goodPassword); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if got, err := st.GetUser(ctx, u.ID); err != nil || got.PasswordHash != u.PasswordHash {
			t.Fatalf("rehashed without a HashWriter: %q, %v", got.PasswordHash, err)
		}
		f.svc.Hashes = &account.Service{Store: st}

		if _, err := f.auth("grace@example.com", goodPassword); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		got, err := st.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PasswordHash == u.PasswordHash || !strings.Contains(got.PasswordHash, "t=2") {
			t.Fatalf("hash not rehashed: %q", got.PasswordHash)
		}
		ok, needsRehash, err := f.svc.Hasher.Verify(goodPassword, got.PasswordHash)
		if !ok || needsRehash || err != nil {
			t.Errorf("new hash: ok=%v needsRehash=%v err=%v", ok, needsRehash, err)
		}
		// Signing in again changes nothing more.
		if _, err := f.auth("grace@example.com", goodPassword); err != nil {
			t.Fatal(err)
		}
		again, _ := st.GetUser(ctx, u.ID)
		if again.PasswordHash != got.PasswordHash || again.Version != got.Version {
			t.Error("a current hash was rewritten")
		}
	})
}

func TestParallelFailuresAreCountedExactly(t *testing.T) {
	roomyBound(t) // about counting, not the hashing bound
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.svc.LockAfter, f.svc.SourceLimit = 100, 100
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := f.auth("grace@example.com", "wrong"); err != signin.ErrInvalidCredentials {
					t.Errorf("parallel attempt: %v", err)
				}
			})
		}
		wg.Wait()
		if n := f.failures(t, signin.AccountKey("grace@example.com")); n != 10 {
			t.Errorf("account failures = %d, want 10", n)
		}
		if n := f.failures(t, signin.SourceKey(source)); n != 10 {
			t.Errorf("source failures = %d, want 10", n)
		}
	})
}

// Parallel guesses cannot get more passwords checked than the limit allows.
// The Service counts the verifications it spends, so an attempt over the limit that
// still checked its password (and then answered "locked") is caught; and
// every attempt reads the account's counter before any of them records a
// failure, so none is turned away early by a lock another one already set:
// the atomic counter alone must stop attempts 6 to 20.
func TestParallelGuessesStopAtTheLimit(t *testing.T) {
	roomyBound(t) // about counting, not the hashing bound
	eachStore(t, func(t *testing.T, st storage.Storage) {
		const attempts = 20
		gate := &throttleGate{Storage: st, key: signin.AccountKey("grace@example.com"), n: attempts, open: make(chan struct{})}
		f := newFixture(t, gate)
		f.svc.SourceLimit = 1000
		f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		verifies := signin.CountVerifications(f.svc)
		var mu sync.Mutex
		results := map[string]int{}
		var wg sync.WaitGroup
		for range attempts {
			wg.Go(func() {
				_, err := f.auth("grace@example.com", "wrong")
				var locked *signin.LockedError
				kind := "other"
				switch {
				case err == signin.ErrInvalidCredentials:
					kind = "invalid"
				case errors.As(err, &locked):
					kind = "locked"
				}
				mu.Lock()
				results[kind]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if results["invalid"] != 4 || results["locked"] != 16 {
			t.Errorf("results = %v, want 4 invalid (guesses 1-4) and 16 locked", results)
		}
		if n := verifies.Load(); n != 5 {
			t.Errorf("%d passwords verified for %d parallel attempts, want 5 (the limit)", n, attempts)
		}
		before := verifies.Load()
		var locked *signin.LockedError
		if _, err := f.auth("grace@example.com", goodPassword); !errors.As(err, &locked) {
			t.Errorf("right password after the parallel burst: %v, want LockedError", err)
		}
		if verifies.Load() != before {
			t.Error("the right password was verified while the account is locked")
		}
	})
}

// throttleGate is the real store, except that a read of key's throttle
// waits until n such reads have been made (or 30 s have passed): n
// parallel sign-ins then all pass the "already locked?" check before any
// records its attempt.
type throttleGate struct {
	storage.Storage
	key     string
	n       int
	arrived atomic.Int64
	open    chan struct{}
	once    sync.Once
}

func (g *throttleGate) GetThrottle(ctx context.Context, key string) (storage.Throttle, error) {
	t, err := g.Storage.GetThrottle(ctx, key)
	if key == g.key {
		if g.arrived.Add(1) == int64(g.n) {
			g.once.Do(func() { close(g.open) })
		}
		select {
		case <-g.open:
		case <-time.After(30 * time.Second):
		}
	}
	return t, err
}

func TestLogsNeitherPasswordNorEmail(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.user(t, "grace.secret@example.com", storage.StatusActive, goodPassword)
		f.auth("grace.secret@example.com", "hunter2-wrong-password")
		f.auth("nobody.secret@example.com", "another-wrong-password")
		f.auth("grace.secret@example.com", goodPassword)
		out := f.log.String()
		for _, secret := range []string{"hunter2", "another-wrong", goodPassword, "grace.secret", "nobody.secret", u.PasswordHash} {
			if strings.Contains(out, secret) {
				t.Errorf("log contains %q:\n%s", secret, out)
			}
		}
		for _, want := range []string{"sign-in failed", "reason=wrong_password", "reason=unknown_email", "sign-in succeeded", "user=" + u.ID, "email_ref="} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})
}
