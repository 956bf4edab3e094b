package signin_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The Observer (the metrics) is told each outcome the audit log records:
// every checked failure, the failure that locks, the success; attempts
// refused under a lock are not checked, and not told.
func TestObserverToldAuditedOutcomes(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		var mu sync.Mutex
		counts := map[string]int{}
		f.svc.Observe = func(method, outcome string) {
			mu.Lock()
			defer mu.Unlock()
			counts[method+" "+outcome]++
		}
		email := "observed@example.com"
		f.user(t, email, storage.StatusActive, goodPassword)
		for range 5 {
			_, _ = f.auth(email, "wrong")
		}
		var locked *signin.LockedError
		if _, err := f.auth(email, goodPassword); !errors.As(err, &locked) {
			t.Fatalf("while locked: %v", err)
		}
		f.clock.Advance(16 * time.Minute)
		if _, err := f.auth(email, goodPassword); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		want := map[string]int{"email failure": 5, "email lock": 1, "email success": 1}
		if len(counts) != len(want) {
			t.Fatalf("told %v, want %v", counts, want)
		}
		for k, n := range want {
			if counts[k] != n {
				t.Fatalf("told %v, want %v", counts, want)
			}
		}
	})
}
