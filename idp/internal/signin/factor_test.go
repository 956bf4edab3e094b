package signin_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

func (f *fixture) factor(u storage.User, right bool) (bool, error) {
	return f.factorIn(u, "", right)
}

// factorIn is one code attempt in a browser with the device cookie device.
func (f *fixture) factorIn(u storage.User, device string, right bool) (bool, error) {
	return f.svc.SecondFactor(context.Background(), u, device, func() (bool, error) { return right, nil })
}

// Wrong codes count toward the password lock: after four wrong codes the
// fifth wrong attempt, code or password, locks the account, and then even
// the right password is refused.
func TestWrongCodesCountTowardTheLock(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		if _, err := f.auth(u.Email, goodPassword); err != nil {
			t.Fatalf("password: %v", err)
		}
		for i := 1; i <= 4; i++ {
			ok, err := f.factor(u, false)
			if ok || err != nil {
				t.Fatalf("wrong code %d: %v, %v; want false, nil", i, ok, err)
			}
		}
		if n := f.failures(t, signin.AccountKey(u.Email)); n != 4 {
			t.Fatalf("account failures after 4 wrong codes: %d", n)
		}
		if _, err := f.auth(u.Email, "wrong password"); !isLocked(err) {
			t.Fatalf("fifth failure (a wrong password): %v, want locked", err)
		}
		if _, err := f.auth(u.Email, goodPassword); !isLocked(err) {
			t.Fatalf("right password after 4 wrong codes and 1 wrong password: %v, want locked", err)
		}
		if ok, err := f.factor(u, true); ok || !isLocked(err) {
			t.Fatalf("right code while locked: %v, %v; want locked", ok, err)
		}
		if got := f.sleeps; len(got) == 0 || got[len(got)-1] <= 0 {
			t.Errorf("no growing delay after wrong codes: %v", got)
		}
	})
}

// A right password does not give back the code guesses: the factor's own
// counter survives it, and the fifth wrong code locks.
func TestRightPasswordDoesNotResetCodeGuesses(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		for i := 1; i <= 5; i++ {
			if _, err := f.auth(u.Email, goodPassword); err != nil {
				t.Fatalf("password before code %d: %v", i, err)
			}
			ok, err := f.factor(u, false)
			if i < 5 && (ok || err != nil) {
				t.Fatalf("wrong code %d: %v, %v", i, ok, err)
			}
			if i == 5 && !isLocked(err) {
				t.Fatalf("fifth wrong code, each after a right password: %v, want locked", err)
			}
		}
		f.clock.Advance(16 * time.Minute) // the lock runs out
		if ok, err := f.factor(u, true); !ok || err != nil {
			t.Fatalf("right code after the lock: %v, %v", ok, err)
		}
		for _, k := range []string{signin.AccountKey(u.Email), signin.FactorKey(signin.AccountKey(u.Email))} {
			if n := f.failures(t, k); n != 0 {
				t.Errorf("%s: %d failures after a right code, want 0", k, n)
			}
		}
	})
}

// Parallel wrong codes get no more checks than the limit.
func TestParallelCodesStopAtTheLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		var mu sync.Mutex
		checks := 0
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, _ = f.svc.SecondFactor(context.Background(), u, "", func() (bool, error) {
					mu.Lock()
					checks++
					mu.Unlock()
					return false, nil
				})
			})
		}
		wg.Wait()
		if checks > 5 {
			t.Fatalf("%d codes checked in parallel, want at most 5", checks)
		}
	})
}

func TestSecondFactorReturnsCheckError(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		u := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		boom := errors.New("boom")
		ok, err := f.svc.SecondFactor(context.Background(), u, "", func() (bool, error) { return false, boom })
		if ok || !errors.Is(err, boom) {
			t.Fatalf("SecondFactor = %v, %v; want the check's error", ok, err)
		}
	})
}

// An attacker who has the password and guesses codes locks the second
// factor for every browser without a device cookie of the account, but not
// for the user's own browser, as with passwords; and a right password in
// that browser does not lift the attacker's lock.
func TestWrongCodesSpareTrustedDevice(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		f.withDevices(t, 1)
		u := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
		device := f.signInBrowser(t, u.Email)
		for i := 1; i <= 5; i++ {
			if _, err := f.authFrom(attacker, u.Email, goodPassword, ""); err != nil && i < 5 {
				t.Fatalf("attacker's password %d: %v", i, err)
			}
			ok, err := f.factorIn(u, "", false)
			if i == 5 && (ok || !isLocked(err)) {
				t.Fatalf("attacker's fifth wrong code: %v, %v; want locked", ok, err)
			}
		}
		if ok, err := f.factorIn(u, "", true); ok || !isLocked(err) {
			t.Fatalf("right code in another browser: %v, %v; want locked", ok, err)
		}
		if _, err := f.authFrom(source, u.Email, goodPassword, device); err != nil {
			t.Fatalf("the user's own browser, password: %v", err)
		}
		if ok, err := f.factorIn(u, device, true); !ok || err != nil {
			t.Fatalf("the user's own browser, right code: %v, %v", ok, err)
		}
		// Wrong codes in the user's browser count against that browser.
		for i := 1; i <= 4; i++ {
			_, _ = f.factorIn(u, device, false)
		}
		if _, err := f.authFrom(source, u.Email, goodPassword, device); err != nil {
			t.Fatalf("password after four wrong codes in the user's browser: %v", err)
		}
		if ok, err := f.factorIn(u, device, false); ok || !isLocked(err) {
			t.Fatalf("fifth wrong code in the user's browser, after a right password: %v, %v; want locked", ok, err)
		}
	})
}
