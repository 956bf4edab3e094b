package account_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// outcomes records what a signin.Observer is told.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) observer() signin.Observer {
	o.n = map[string]int{}
	return func(method, outcome string) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.n[method+" "+outcome]++
	}
}

func (o *outcomes) check(t *testing.T, want map[string]int) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.n) != len(want) {
		t.Fatalf("told %v, want %v", o.n, want)
	}
	for k, n := range want {
		if o.n[k] != n {
			t.Fatalf("told %v, want %v", o.n, want)
		}
	}
}

// PIN sign-ins and second factors tell the metrics their outcome.
func TestSignInOutcomesObserved(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		t.Run("phone", func(t *testing.T) {
			f := newMobileFixture(t, st)
			var o outcomes
			f.svc.SignInOutcomes = o.observer()
			u := f.activate(f.clinician("observed-pin@example.com", "+14155550177"), goodPIN)
			if _, err := f.m.AuthenticatePIN(ctx, u.Phone, otherPIN, src); err == nil {
				t.Fatal("a wrong PIN signed in")
			}
			if _, err := f.m.AuthenticatePIN(ctx, u.Phone, goodPIN, src); err != nil {
				t.Fatal(err)
			}
			o.check(t, map[string]int{"phone failure": 1, "phone success": 1})
		})
		t.Run("second factor", func(t *testing.T) {
			f := newMFAFixture(t, st)
			var o outcomes
			f.svc.SignInOutcomes = o.observer()
			u := f.user("observed-mfa@example.com")
			a, _ := f.enrol(u)
			if _, err := f.mfa.VerifySignIn(ctx, u, "000000", "", ""); err == nil {
				t.Fatal("a wrong code passed")
			}
			f.clock.Advance(30 * time.Second)
			if _, err := f.mfa.VerifySignIn(ctx, u, a.code(t, f.clock.Now()), "", ""); err != nil {
				t.Fatal(err)
			}
			o.check(t, map[string]int{"second_factor failure": 1, "second_factor success": 1})
		})
	})
}
