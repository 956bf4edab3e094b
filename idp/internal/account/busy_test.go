package account_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// TestBusyIsNotCounted: PIN sign-ins and password re-checks that the
// process-wide hashing bound refuses answer password.ErrBusy and count
// nothing, so a flood cannot lock or void a clinician's PIN or lock a
// user out of changing their password. One backend after the other: both
// would share the one bound.
func TestBusyIsNotCounted(t *testing.T) {
	old := password.SetBound(password.Bound{Concurrency: 1})
	t.Cleanup(func() { password.SetBound(old) })
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			f := newMobileFixture(t, testenv.OpenStore(t, b.DSN(t), nil))
			ctx := context.Background()
			u := f.clinician("ama@example.com", clinPhone)
			f.activate(u, goodPIN)

			release := password.Exhaust()
			t.Cleanup(release)
			for i := range account.PINVoidAfter + 2 {
				if _, err := f.m.AuthenticatePIN(ctx, clinPhone, otherPIN, src); !errors.Is(err, password.ErrBusy) {
					t.Fatalf("PIN attempt %d with hashing at capacity: %v, want ErrBusy", i+1, err)
				}
				if _, err := f.svc.ChangePassword(ctx, account.Actor{ID: u.ID, Source: src}, "wrong current password", "a new long passphrase here"); !errors.Is(err, password.ErrBusy) {
					t.Fatalf("password change %d with hashing at capacity: %v, want ErrBusy", i+1, err)
				}
			}
			release()

			if c := f.cred(u.ID); c.PINFailures != 0 || c.PINHash == "" || !c.LockedUntil.IsZero() {
				t.Fatalf("after refused attempts: failures %d, locked until %v, PIN kept %t", c.PINFailures, c.LockedUntil, c.PINHash != "")
			}
			if _, err := f.m.AuthenticatePIN(ctx, clinPhone, goodPIN, src); err != nil {
				t.Fatalf("the right PIN after refused attempts: %v", err)
			}
			if _, err := f.svc.ChangePassword(ctx, account.Actor{ID: u.ID, Source: src}, firstPW, "violet tractor harbour lantern"); err != nil {
				t.Fatalf("a password change after refused attempts: %v", err)
			}
		})
	}
}

// roomyBound lets every parallel attempt of a test wait for its hashing
// slot, for tests about counting rather than about the bound: an attempt
// holds its slot through its store round trips, which take long on a
// loaded machine.
func roomyBound(t *testing.T) {
	old := password.SetBound(password.Bound{Concurrency: runtime.NumCPU(), Queue: 1000, MaxWait: time.Minute})
	t.Cleanup(func() { password.SetBound(old) })
}
