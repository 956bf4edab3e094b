package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// errPINChanged stops recording a sign-in when the PIN changed meanwhile.
var errPINChanged = errors.New("account: PIN changed during sign-in")

// AuthenticatePIN checks a sign-in by mobile number and PIN from
// sourceAddr (the client's address; "" skips the per-source limit). It
// returns the clinician on success, for the caller to complete the sign-in
// with AMRPIN; signin.ErrInvalidCredentials for every failure (unknown
// number, not an active clinician, no PIN, a PIN bound to another number,
// a wrong PIN, a PIN just voided); a *signin.LockedError while the number
// or the source is locked; a *FieldError for text that is not a phone
// number; an error wrapping password.ErrBusy when hashing is at capacity
// (nothing was checked or counted).
//
// The attempt is counted before the PIN is checked, atomically, so
// parallel attempts get no more guesses than the limits: PINLockAfter
// wrong PINs in a row lock the credential for PINLockFor, PINVoidAfter
// void the PIN (the clinician activates again by SMS). Both are audited.
// A number without a usable credential is counted and locked the same way
// under a throttle key, and costs the same argon2id verification.
func (m *Mobile) AuthenticatePIN(ctx context.Context, phone, pinText, sourceAddr string) (storage.User, error) {
	u, err := m.authenticatePIN(ctx, phone, pinText, sourceAddr)
	m.observeSignIn(signin.MethodPhone, err, signin.ErrInvalidCredentials)
	return u, err
}

func (m *Mobile) authenticatePIN(ctx context.Context, phone, pinText, sourceAddr string) (storage.User, error) {
	num, err := number(phone)
	if err != nil {
		return storage.User{}, err
	}
	now := m.now()
	if err := m.guessAllowed(ctx, sourceAddr, now); err != nil {
		m.log().InfoContext(ctx, "PIN sign-in refused: source throttled")
		return storage.User{}, err
	}
	// A hashing slot before anything is counted: an attempt the
	// process-wide bound refuses (password.ErrBusy) is neither checked nor
	// counted, so a flood cannot lock or void anyone's PIN.
	slot, err := m.Hasher.Reserve()
	if err != nil {
		return storage.User{}, fmt.Errorf("account: %w", err)
	}
	defer slot.Release()
	u, err := m.Store.GetUserByPhone(ctx, num)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("account: looking up phone: %w", err)
	}
	var cred storage.MobileCredential
	usable := false
	if err == nil && mobileUser(u, num) {
		if cred, err = m.Store.GetMobileCredential(ctx, u.ID); err != nil {
			return storage.User{}, fmt.Errorf("account: reading mobile credential: %w", err)
		}
		usable = cred.PINHash != "" && cred.State == storage.MobileActive && cred.Phone == num
	}
	if !usable {
		return storage.User{}, m.failUnusable(ctx, slot, num, pinText, sourceAddr, now)
	}

	c, err := m.Store.CountPINAttempt(ctx, u.ID, storage.PINAttempt{
		Now: now, LockAfter: PINLockAfter, LockUntil: now.Add(PINLockFor), VoidAfter: PINVoidAfter,
	})
	if errors.Is(err, storage.ErrLocked) {
		if c.LockedUntil.After(now) {
			m.log().InfoContext(ctx, "PIN sign-in refused: credential locked", "user", u.ID)
			return storage.User{}, &signin.LockedError{RetryAfter: c.LockedUntil.Sub(now)}
		}
		// Counted out but not voided yet (a void that failed): void now.
		_ = slot.DummyVerify(pinText)
		return storage.User{}, m.voidPIN(ctx, u, c, sourceAddr, now)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("account: counting PIN attempt: %w", err)
	}
	ok, needsRehash, err := slot.Verify(pinText, c.PINHash)
	slot.Release() // a rehash takes a slot of its own
	if err != nil {
		m.log().ErrorContext(ctx, "PIN sign-in: stored PIN hash is unusable", "user", u.ID, "err", err)
	}
	if ok {
		if err := m.pinSignedIn(ctx, u, c, pinText, needsRehash, now); err != nil {
			if errors.Is(err, errPINChanged) {
				return storage.User{}, signin.ErrInvalidCredentials
			}
			return storage.User{}, err
		}
		m.log().InfoContext(ctx, "PIN sign-in succeeded", "user", u.ID)
		return u, nil
	}

	src := m.wrongGuess(ctx, sourceAddr, now)
	m.log().InfoContext(ctx, "PIN sign-in failed", "user", u.ID, "failures", c.PINFailures)
	switch {
	case c.PINFailures >= PINVoidAfter:
		return storage.User{}, m.voidPIN(ctx, u, c, sourceAddr, now)
	case c.PINFailures == PINLockAfter:
		if err := audit(ctx, m.Store, now, Actor{Source: sourceAddr}, ActionMobilePINLocked, u.ID,
			map[string][2]any{"locked_until": {nil, c.LockedUntil.UTC().Format(time.RFC3339)}}); err != nil {
			return storage.User{}, err
		}
		m.log().WarnContext(ctx, "PIN sign-in: credential locked", "user", u.ID, "until", c.LockedUntil)
		return storage.User{}, &signin.LockedError{RetryAfter: c.LockedUntil.Sub(now)}
	case src.LockedUntil.After(now):
		return storage.User{}, &signin.LockedError{RetryAfter: src.LockedUntil.Sub(now)}
	}
	return storage.User{}, signin.ErrInvalidCredentials
}

// failUnusable answers a sign-in for a number without a usable credential
// as a wrong PIN is answered: one dummy argon2id verification, counted and
// locked under the number's throttle key (PINLockAfter failures within a
// day lock it for PINLockFor) and the source's.
func (m *Mobile) failUnusable(ctx context.Context, slot *password.Reservation, num, pinText, source string, now time.Time) error {
	key := pinNumberKey(num)
	t, err := m.Store.GetThrottle(ctx, key)
	if err != nil {
		return fmt.Errorf("account: reading throttle: %w", err)
	}
	if t.LockedUntil.After(now) {
		return &signin.LockedError{RetryAfter: t.LockedUntil.Sub(now)}
	}
	_ = slot.DummyVerify(pinText) // the slot is held: never refused
	t, err = m.Store.RecordFailure(ctx, key, storage.Failure{
		Now: now, ResetBefore: now.Add(-smsDay), LockAfter: PINLockAfter, LockUntil: now.Add(PINLockFor),
	})
	if err != nil {
		return fmt.Errorf("account: counting PIN attempt: %w", err)
	}
	src := m.wrongGuess(ctx, source, now)
	m.log().InfoContext(ctx, "PIN sign-in failed: no usable credential", "phone_ref", phoneRef(num), "failures", t.Failures)
	switch {
	case t.LockedUntil.After(now):
		return &signin.LockedError{RetryAfter: t.LockedUntil.Sub(now)}
	case src.LockedUntil.After(now):
		return &signin.LockedError{RetryAfter: src.LockedUntil.Sub(now)}
	}
	return signin.ErrInvalidCredentials
}

// pinSignedIn records a successful PIN sign-in (the count of wrong PINs
// starts again, the lock is lifted) and stores a fresh hash when the
// parameters changed — unless the PIN changed since it was checked.
func (m *Mobile) pinSignedIn(ctx context.Context, u storage.User, c storage.MobileCredential, pinText string, rehash bool, now time.Time) error {
	var fresh string
	if rehash {
		if h, err := m.Hasher.Hash(pinText); err == nil {
			fresh = h
		}
	}
	_, err := m.Store.UpdateMobileCredential(ctx, u.ID, func(cur *storage.MobileCredential) error {
		if cur.PINHash != c.PINHash {
			return errPINChanged
		}
		cur.PINFailures, cur.LockedUntil, cur.LastSignInAt = 0, time.Time{}, now
		if fresh != "" {
			cur.PINHash = fresh
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPINChanged) {
		return fmt.Errorf("account: recording PIN sign-in: %w", err)
	}
	return err
}

// voidPIN clears the PIN that c counted PINVoidAfter wrong attempts
// against (unless it changed meanwhile) and audits it. The answer stays
// signin.ErrInvalidCredentials: the page says how to activate again.
func (m *Mobile) voidPIN(ctx context.Context, u storage.User, c storage.MobileCredential, source string, now time.Time) error {
	voided := false
	_, err := m.Store.UpdateMobileCredential(ctx, u.ID, func(cur *storage.MobileCredential) error {
		if cur.PINHash == "" || cur.PINHash != c.PINHash || cur.PINFailures < PINVoidAfter {
			return errPINChanged
		}
		clearPIN(cur)
		voided = true
		return nil
	})
	if err != nil && !errors.Is(err, errPINChanged) {
		return fmt.Errorf("account: voiding PIN: %w", err)
	}
	if voided {
		if err := audit(ctx, m.Store, now, Actor{Source: source}, ActionMobilePINVoided, u.ID, nil); err != nil {
			return err
		}
		m.log().WarnContext(ctx, "PIN voided after too many wrong attempts", "user", u.ID)
	}
	return signin.ErrInvalidCredentials
}
