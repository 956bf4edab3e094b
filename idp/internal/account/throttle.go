package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ErrThrottled: too many requests for this address or from this source, or
// too many wrong current passwords; try again later. Reset requests are
// throttled whether or not the address has an account, so the answer tells
// nothing about it.
var ErrThrottled = errors.New("account: too many requests; try again later")

// Reset request and re-authentication limits. Counters live in the store,
// so every replica sees them, and are updated atomically.
const (
	// resetPerAddress requests for one email address within resetWindow;
	// the next is refused until the window has passed.
	resetPerAddress = 5
	// resetPerSource requests from one source address (IPv6: per /64).
	resetPerSource = 20
	resetWindow    = time.Hour
	// reauthLockAfter wrong current passwords on the account page lock
	// that page's password checks for reauthLockFor.
	reauthLockAfter = 5
	reauthLockFor   = 15 * time.Minute
)

// Throttle keys. They differ from the sign-in keys (account:…, ip:…): a
// burst of reset requests must not lock anyone's sign-in.
func resetAddressKey(email string) string { return "reset:" + signin.NormalizeEmail(email) }
func resetSourceKey(addr string) string   { return "reset-" + signin.SourceKey(addr) }
func reauthKey(userID string) string      { return "reauth:" + userID }

// countRequest counts one request against key, allowing limit per window.
// It refuses (ErrThrottled) while the key is locked and when concurrent
// requests have already used the allowance; the request that reaches the
// limit still goes through. An empty key is not counted.
func (s *Service) countRequest(ctx context.Context, key string, limit int, window time.Duration, now time.Time) error {
	_, err := s.countRequestThrottle(ctx, key, limit, window, now)
	return err
}

// countRequestThrottle is countRequest, returning the counter as counted
// (Failures == limit: this request used up the allowance).
func (s *Service) countRequestThrottle(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (storage.Throttle, error) {
	if key == "" {
		return storage.Throttle{}, nil
	}
	t, err := s.Store.GetThrottle(ctx, key)
	if err != nil {
		return t, fmt.Errorf("account: reading throttle: %w", err)
	}
	if t.LockedUntil.After(now) {
		return t, ErrThrottled
	}
	t, err = s.Store.RecordFailure(ctx, key, storage.Failure{
		Now: now, ResetBefore: now.Add(-window), LockAfter: limit, LockUntil: now.Add(window),
	})
	if err != nil {
		return t, fmt.Errorf("account: counting request: %w", err)
	}
	if t.Failures > limit {
		return t, ErrThrottled
	}
	return t, nil
}

// ErrWrongPassword: the current password given to confirm a change is not
// the user's. Pages show it next to the current password field.
var ErrWrongPassword = errors.New("account: current password is incorrect")

// reauthenticate checks that pw is u's current password, counting wrong
// ones (ErrWrongPassword) per user and refusing with ErrThrottled once too
// many failed. As at sign-in, the attempt is counted before it is checked,
// so parallel requests get no more guesses than the limit.
func (s *Service) reauthenticate(ctx context.Context, u storage.User, pw string) error {
	now := s.now()
	key := reauthKey(u.ID)
	t, err := s.Store.GetThrottle(ctx, key)
	if err != nil {
		return fmt.Errorf("account: reading throttle: %w", err)
	}
	if t.LockedUntil.After(now) {
		return ErrThrottled
	}
	// A hashing slot before the attempt is counted: one the process-wide
	// bound refuses (password.ErrBusy) is neither checked nor counted.
	slot, err := s.Hasher.Reserve()
	if err != nil {
		return fmt.Errorf("account: checking the current password: %w", err)
	}
	defer slot.Release()
	t, err = s.Store.RecordFailure(ctx, key, storage.Failure{
		Now: now, ResetBefore: now.Add(-reauthLockFor), LockAfter: reauthLockAfter, LockUntil: now.Add(reauthLockFor),
	})
	if err != nil {
		return fmt.Errorf("account: counting password check: %w", err)
	}
	if t.Failures > reauthLockAfter {
		return ErrThrottled
	}
	if u.PasswordHash == "" {
		_ = slot.DummyVerify(pw) // the slot is held: never refused
		return ErrWrongPassword
	}
	ok, _, err := slot.Verify(pw, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("account: verifying current password: %w", err)
	}
	if !ok {
		s.log().InfoContext(ctx, "account: wrong current password", "user", u.ID, "failures", t.Failures)
		return ErrWrongPassword
	}
	if err := s.Store.ResetThrottle(ctx, key); err != nil {
		s.log().WarnContext(ctx, "account: resetting password check throttle", "user", u.ID, "err", err)
	}
	return nil
}

// emailRef identifies an email in logs without writing it out: the first
// 12 hex digits of the SHA-256 of its lower-cased form.
func emailRef(email string) string {
	return hashToken(signin.NormalizeEmail(email))[:12]
}
