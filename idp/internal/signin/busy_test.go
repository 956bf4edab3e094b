package signin_test

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestBusyIsNotAWrongPassword: when the process-wide hashing bound is
// exhausted, a sign-in with a known or an unknown email, right or wrong
// password, gets password.ErrBusy — never ErrInvalidCredentials (which
// would tell a wrong password where nothing was checked) and never the
// user.
func TestBusyIsNotAWrongPassword(t *testing.T) {
	old := password.SetBound(password.Bound{Concurrency: 1})
	t.Cleanup(func() { password.SetBound(old) })
	// One backend after the other: both would share the one bound.
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) { busyIsNotAWrongPassword(t, testenv.OpenStore(t, b.DSN(t), nil)) })
	}
}

func busyIsNotAWrongPassword(t *testing.T, st storage.Storage) {
	f := newFixture(t, st)
	f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
	f.user(t, "nopassword@example.com", storage.StatusActive, "")
	release := password.Exhaust()
	t.Cleanup(release)
	for _, tc := range []struct{ name, email, pw string }{
		{"right password", "grace@example.com", goodPassword},
		{"wrong password", "grace@example.com", "wrong"},
		{"unknown email", "nobody@example.com", goodPassword},
		{"no password set", "nopassword@example.com", goodPassword},
		{"malformed email", "", goodPassword},
	} {
		u, err := f.auth(tc.email, tc.pw)
		if !errors.Is(err, password.ErrBusy) || errors.Is(err, signin.ErrInvalidCredentials) || u.ID != "" {
			t.Errorf("%s: Authenticate = %q, %v; want ErrBusy", tc.name, u.ID, err)
		}
	}
	release()
	if _, err := f.auth("grace@example.com", goodPassword); err != nil {
		t.Fatalf("after the bound frees: %v", err)
	}
}

// TestBusyIsNotCounted: sign-ins the hashing bound refuses count nothing —
// not against the account, not against the source — so a flood cannot
// lock a user out through attempts that were never checked.
func TestBusyIsNotCounted(t *testing.T) {
	old := password.SetBound(password.Bound{Concurrency: 1})
	t.Cleanup(func() { password.SetBound(old) })
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, testenv.OpenStore(t, b.DSN(t), nil))
			f.user(t, "grace@example.com", storage.StatusActive, goodPassword)
			release := password.Exhaust()
			t.Cleanup(release)
			for range 2 * signin.DefaultLockAfter {
				if _, err := f.auth("grace@example.com", "wrong guess"); !errors.Is(err, password.ErrBusy) {
					t.Fatalf("Authenticate = %v, want ErrBusy", err)
				}
			}
			release()
			if n := f.failures(t, signin.AccountKey("grace@example.com")); n != 0 {
				t.Errorf("account failures after refused attempts: %d, want 0", n)
			}
			if n := f.failures(t, signin.SourceKey(source)); n != 0 {
				t.Errorf("source failures after refused attempts: %d, want 0", n)
			}
			if _, err := f.auth("grace@example.com", goodPassword); err != nil {
				t.Fatalf("the right password after a flood of refused attempts: %v", err)
			}
		})
	}
}

// roomyBound lets every parallel attempt of a test wait for its hashing
// slot, for tests about counting rather than about the bound: a sign-in
// holds its slot through its store round trips, which take long on a
// loaded machine.
func roomyBound(t *testing.T) {
	old := password.SetBound(password.Bound{Concurrency: runtime.NumCPU(), Queue: 1000, MaxWait: time.Minute})
	t.Cleanup(func() { password.SetBound(old) })
}
