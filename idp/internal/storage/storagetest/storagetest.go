// Package storagetest is the conformance suite every storage.Storage backend
// runs: one behaviour for all of them, checked against the real database.
// A backend's test calls Run with a constructor of fresh, migrated stores:
//
//	func TestPostgres(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Storage {
//			return openMigrated(t, testenv.PostgresDSN(t))
//		})
//	}
package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Run runs every conformance test, in parallel, each against its own store
// from newStore (which should register its own cleanup).
func Run(t *testing.T, newStore func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"Ready", testReady},
		{"UserCreateGet", testUserCreateGet},
		{"UserEmailUnique", testUserEmailUnique},
		{"UserPhoneUnique", testUserPhoneUnique},
		{"UserInvalid", testUserInvalid},
		{"UserUpdate", testUserUpdate},
		{"UserUpdateConflict", testUserUpdateConflict},
		{"UserUpdateUniqueKeys", testUserUpdateUniqueKeys},
		{"UserUpdateConcurrent", testUserUpdateConcurrent},
		{"UserRoles", testUserRoles},
		{"ListUsersFilter", testListUsersFilter},
		{"ListUsersSearch", testListUsersSearch},
		{"ListUsersPages", testListUsersPages},
		{"ClientCRUD", testClientCRUD},
		{"ClientDeleteCascades", testClientDeleteCascades},
		{"ClientThrottle", testClientThrottle},
		{"ClientThrottleToken", testClientThrottleToken},
		{"AuthRequestLifecycle", testAuthRequestLifecycle},
		{"AuthRequestRejects", testAuthRequestRejects},
		{"AuthRequestClient", testAuthRequestClient},
		{"RedeemCode", testRedeemCode},
		{"RedeemCodeConcurrent", testRedeemCodeConcurrent},
		{"Sessions", testSessions},
		{"SessionClients", testSessionClients},
		{"RefreshReuseWindow", testRefreshReuseWindow},
		{"RefreshRetriesConcurrent", testRefreshRetriesConcurrent},
		{"OneCodePerRequestConcurrent", testOneCodePerRequestConcurrent},
		{"AccessTokens", testAccessTokens},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshRotationRejects", testRefreshRotationRejects},
		{"RefreshRotationConcurrent", testRefreshRotationConcurrent},
		{"RevokeRefreshAndFamily", testRevokeRefreshAndFamily},
		{"RevokeUserGrants", testRevokeUserGrants},
		{"RevokeUserGrantsRacingRotation", testRevokeUserGrantsRacingRotation},
		{"RevokedFamilyLateTokens", testRevokedFamilyLateTokens},
		{"SigningKeys", testSigningKeys},
		{"ThrottleCounting", testThrottleCounting},
		{"ThrottleLock", testThrottleLock},
		{"ThrottleConcurrent", testThrottleConcurrent},
		{"DeleteExpired", testDeleteExpired},
		{"OneTimeTokenCreateGet", testOneTimeTokenCreateGet},
		{"OneTimeTokenNewestWins", testOneTimeTokenNewestWins},
		{"OneTimeTokenUse", testOneTimeTokenUse},
		{"OneTimeTokenConcurrent", testOneTimeTokenConcurrent},
		{"OutboxLifecycle", testOutboxLifecycle},
		{"OutboxList", testOutboxList},
		{"OutboxClaimConcurrent", testOutboxClaimConcurrent},
		{"AuditAppendList", testAuditAppendList},
		{"AuditPages", testAuditPages},
		{"TxCommits", testTxCommits},
		{"TxRollsBack", testTxRollsBack},
		{"TxConcurrent", testTxConcurrent},
		{"TxReuseStaysRevoked", testTxReuseStaysRevoked},
	}
	tests = append(tests, mobileTests...)
	tests = append(tests, mfaTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// base is the suite's fixed clock: whole microseconds, as both databases
// keep them. Methods that take no now (CompleteAuthRequest,
// GetAuthRequestByCode) use the store's own clock; their tests use wallClock.
var base = time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)

// wallClock is now, in whole microseconds, for the methods that read the
// store's clock.
func wallClock() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// concurrency is how many callers race in the concurrency tests.
const concurrency = 8

func testReady(t *testing.T, s storage.Storage) {
	if err := s.Ready(t.Context()); err != nil {
		t.Fatalf("Ready on a migrated store: %v", err)
	}
}

// race starts n callers of fn at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winners counts the nil errors and fails on any error other than allowed.
func winners(t *testing.T, errs []error, allowed error) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		switch {
		case err == nil:
			n++
		case !errors.Is(err, allowed):
			t.Errorf("unexpected error: %v (want nil or %v)", err, allowed)
		}
	}
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err matches target (errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

func show(v any) string { return fmt.Sprintf("%+v", v) }
