package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// window is the counting window of the throttle tests.
const window = 15 * time.Minute

func failureAt(now time.Time, lockAfter int) storage.Failure {
	return storage.Failure{Now: now, ResetBefore: now.Add(-window), LockAfter: lockAfter, LockUntil: now.Add(time.Hour)}
}

func testThrottleCounting(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	got, err := s.GetThrottle(ctx, "account:a")
	must(t, err)
	equal(t, "GetThrottle(none)", got, storage.Throttle{Key: "account:a"})

	for i := 1; i <= 3; i++ {
		now := base.Add(time.Duration(i) * time.Minute)
		th, err := s.RecordFailure(ctx, "account:a", failureAt(now, 0))
		must(t, err)
		equal(t, fmt.Sprintf("failure %d", i), th, storage.Throttle{Key: "account:a", Failures: i, LastFailureAt: now})
	}
	// Another key counts on its own.
	th, err := s.RecordFailure(ctx, "ip:192.0.2.1", failureAt(base, 0))
	must(t, err)
	equal(t, "other key", th.Failures, 1)

	// A failure after the window counts from 1 again.
	late := base.Add(3*time.Minute + window + time.Second)
	th, err = s.RecordFailure(ctx, "account:a", failureAt(late, 0))
	must(t, err)
	equal(t, "failure after the window", th, storage.Throttle{Key: "account:a", Failures: 1, LastFailureAt: late})
	got, err = s.GetThrottle(ctx, "account:a")
	must(t, err)
	equal(t, "GetThrottle", got, th)

	must(t, s.ResetThrottle(ctx, "account:a"))
	got, err = s.GetThrottle(ctx, "account:a")
	must(t, err)
	equal(t, "GetThrottle after reset", got, storage.Throttle{Key: "account:a"})
	must(t, s.ResetThrottle(ctx, "account:never")) // nothing to reset: no error
}

func testThrottleLock(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	var th storage.Throttle
	var err error
	for i := 1; i <= 2; i++ {
		th, err = s.RecordFailure(ctx, "account:b", failureAt(base.Add(time.Duration(i)*time.Second), 3))
		must(t, err)
		equal(t, fmt.Sprintf("LockedUntil after %d failures", i), th.LockedUntil, time.Time{})
	}
	third := failureAt(base.Add(3*time.Second), 3)
	th, err = s.RecordFailure(ctx, "account:b", third)
	must(t, err)
	equal(t, "throttle at LockAfter", th, storage.Throttle{Key: "account:b", Failures: 3, LastFailureAt: third.Now, LockedUntil: third.LockUntil})
	fourth := failureAt(base.Add(4*time.Second), 3)
	th, err = s.RecordFailure(ctx, "account:b", fourth)
	must(t, err)
	equal(t, "a failure past LockAfter extends the lock", th.LockedUntil, fourth.LockUntil)

	// After the window the count restarts, but a lock still in force stays.
	late := failureAt(base.Add(window+5*time.Second), 3)
	th, err = s.RecordFailure(ctx, "account:b", late)
	must(t, err)
	equal(t, "restarted count keeps a running lock", th, storage.Throttle{Key: "account:b", Failures: 1, LastFailureAt: late.Now, LockedUntil: fourth.LockUntil})
	// Once the lock is over and the count below LockAfter, it is cleared.
	after := failureAt(fourth.LockUntil.Add(time.Second), 3)
	th, err = s.RecordFailure(ctx, "account:b", after)
	must(t, err)
	equal(t, "lock over", th, storage.Throttle{Key: "account:b", Failures: 1, LastFailureAt: after.Now})

	// LockAfter 1 locks on the first failure.
	first := failureAt(base, 1)
	th, err = s.RecordFailure(ctx, "account:c", first)
	must(t, err)
	equal(t, "LockAfter 1", th.LockedUntil, first.LockUntil)
}

// testThrottleConcurrent: parallel failures from many replicas are each
// counted exactly once.
func testThrottleConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const n = 50
	var mu sync.Mutex
	var counts []int
	errs := race(n, func(i int) error {
		th, err := s.RecordFailure(ctx, "ip:198.51.100.7", failureAt(base.Add(time.Duration(i)*time.Millisecond), 0))
		mu.Lock()
		counts = append(counts, th.Failures)
		mu.Unlock()
		return err
	})
	equal(t, "successful RecordFailure calls", winners(t, errs, nil), n)
	got, err := s.GetThrottle(ctx, "ip:198.51.100.7")
	must(t, err)
	equal(t, "Failures", got.Failures, n)
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("counts returned: %v: want each of 1…%d once", counts, n)
		}
	}
}
