package signin

import (
	"context"
	"fmt"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// FactorKey is the throttle key counting wrong second-factor codes
// alongside counter (an AccountKey or a DeviceKey). Only a right code
// resets it; a right password, which resets counter, does not.
func FactorKey(counter string) string { return "mfa:" + counter }

// SecondFactor runs check as one attempt at u's second factor (a TOTP or a
// recovery code) in a browser that sent deviceCookie (DeviceCookie; ""
// for none), under the same lock as that browser's passwords:
//
//   - the counter is the one Authenticate uses for the same browser: the
//     device's (DeviceKey) for a trusted device of u, else the account's
//     (AccountKey), so others' wrong codes do not lock u's own browsers
//     out, as with passwords;
//   - refused with a *LockedError while that counter, or its FactorKey,
//     is locked;
//   - counted before check runs, atomically, against both, so that
//     parallel attempts get no more than LockAfter checks, wrong codes and
//     wrong passwords add up to one lock, and a right password — which
//     resets the counter — does not buy a fresh set of code guesses;
//   - a right code (check returns true) forgets both counts;
//   - a wrong one waits the growing delay and returns false, or a
//     *LockedError when it reached the lock.
//
// check's error is returned as is (the attempt stays counted). The source
// address is not counted: the password was right, so this is no spraying.
func (s *Service) SecondFactor(ctx context.Context, u storage.User, deviceCookie string, check func() (bool, error)) (bool, error) {
	now := s.now()
	var counter string
	if nonce := s.Devices.trusted(deviceCookie, u.ID); nonce != "" {
		counter = DeviceKey(nonce)
	} else if email := NormalizeEmail(u.Email); email != "" && len(email) <= maxEmailLen {
		counter = AccountKey(email)
	} else {
		counter = "user:" + u.ID
	}
	keys := []string{FactorKey(counter)}
	keys = append(keys, counter)
	log := s.logger().With("user", u.ID, "trusted_device", strings.HasPrefix(counter, "device:"))

	prev := make([]storage.Throttle, len(keys))
	for i, k := range keys {
		t, err := s.getThrottle(ctx, k)
		if err != nil {
			return false, err
		}
		if t.LockedUntil.After(now) {
			log.InfoContext(ctx, "second factor refused: locked", "key", keyKind(i))
			return false, lockedFor(t, now)
		}
		prev[i] = t
	}
	counted := make([]storage.Throttle, len(keys))
	for i, k := range keys {
		t, err := s.Store.RecordFailure(ctx, k, s.failure(now, prev[i], s.lockAfter()))
		if err != nil {
			return false, fmt.Errorf("signin: counting second-factor attempt: %w", err)
		}
		counted[i] = t
	}
	for i, t := range counted {
		if t.Failures > s.lockAfter() {
			log.InfoContext(ctx, "second factor refused: locked by a concurrent attempt", "key", keyKind(i))
			return false, lockedFor(t, now)
		}
	}

	ok, err := check()
	if err != nil {
		return false, err
	}
	if ok {
		for _, k := range keys {
			if err := s.Store.ResetThrottle(ctx, k); err != nil {
				log.WarnContext(ctx, "second factor: resetting throttle", "err", err)
			}
		}
		log.InfoContext(ctx, "second factor accepted")
		return true, nil
	}
	n := 0
	for _, t := range counted {
		n = max(n, t.Failures)
	}
	log.InfoContext(ctx, "second factor wrong", "failures", n)
	s.delay(ctx, n)
	for i, t := range counted {
		if t.LockedUntil.After(now) {
			log.WarnContext(ctx, "second factor: locked", "key", keyKind(i), "until", t.LockedUntil)
			return false, lockedFor(t, now)
		}
	}
	return false, nil
}

// keyKind names SecondFactor's i-th key in logs.
func keyKind(i int) string {
	if i == 0 {
		return "factor"
	}
	return "counter"
}
