package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/pin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// RequestActivationCode sends an activation code by SMS to phone when it is
// the number of an active clinician ("first time on this phone", "forgot
// PIN"). The answer is the same whether or not it is — nil; ErrThrottled
// when the source or the number asked too often; a *FieldError for text
// that is not a phone number; ErrSMSUnavailable without a gateway — and it
// takes about as long (at least Floor). sourceAddr is the client's address
// ("" skips that limit). A newer code voids the older one.
func (m *Mobile) RequestActivationCode(ctx context.Context, phone, sourceAddr string) error {
	start := time.Now() // real time: the floor is about wall-clock timing
	defer waitAtLeast(ctx, start, orDefault(m.Floor, DefaultResetFloor))

	num, err := number(phone)
	if err != nil {
		return err
	}
	if !m.SMS {
		return ErrSMSUnavailable
	}
	now := m.now()
	if err := m.countSMS(ctx, smsSourceKey, sourceAddr, smsPerSourceShort, smsPerSourceDay, sourceAddr, now); err != nil {
		m.refused(ctx, err, "source", "source", sourceAddr)
		return err
	}
	if err := m.countSMS(ctx, smsNumberKey, num, smsPerNumberShort, smsPerNumberDay, sourceAddr, now); err != nil {
		m.refused(ctx, err, "number", "phone_ref", phoneRef(num))
		return err
	}

	u, err := m.Store.GetUserByPhone(ctx, num)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("account: looking up phone: %w", err)
	}
	reason := ""
	switch {
	case err != nil:
		reason = "unknown_number"
	case !mobileUser(u, num):
		reason = "not_an_active_clinician"
	default:
		// The per-clinician limit is not the caller's to learn about: a
		// request past it is answered as any other, and nothing is sent.
		if err := m.countSMS(ctx, smsUserKey, u.ID, smsPerUserShort, smsPerUserDay, sourceAddr, now); err != nil {
			if !errors.Is(err, ErrThrottled) {
				return err
			}
			reason = "clinician_throttled"
		}
	}
	if reason != "" {
		m.decoyCode(ctx, num, now)
		m.log().InfoContext(ctx, "activation code requested: nothing sent", "reason", reason, "phone_ref", phoneRef(num))
		return nil
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		if err := m.sendActivationTx(ctx, tx, u, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, Actor{Source: sourceAddr}, ActionMobileActivationRequested, u.ID, nil)
	})
	if err != nil {
		return err
	}
	m.queued()
	m.log().InfoContext(ctx, "activation code queued", "user", u.ID)
	return nil
}

// sendActivationTx queues an activation code to u's phone and marks a
// credential without a PIN pending, in tx.
func (m *Mobile) sendActivationTx(ctx context.Context, tx storage.Storage, u storage.User, now time.Time) error {
	if err := m.sendCodeTx(ctx, tx, u, storage.CodeActivation, u.Phone, now); err != nil {
		return err
	}
	_, err := tx.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
		if c.State == storage.MobileNone || c.State == "" {
			c.State = storage.MobilePending
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: marking credential pending: %w", err)
	}
	return nil
}

// refused logs a throttled request; other errors are the caller's.
func (m *Mobile) refused(ctx context.Context, err error, what, key, val string) {
	if errors.Is(err, ErrThrottled) {
		m.log().InfoContext(ctx, "activation code refused: "+what+" throttled", key, val)
	}
}

// phoneRef identifies a number in logs without writing it out.
func phoneRef(phone string) string { return hashToken(phone)[:12] }

// VerifyActivationCode checks the activation code sent to phone. On a match
// the code is used up, the number is recorded as confirmed by SMS (the
// claim phone_number_verified), and the result is a ticket — a one-time
// secret valid CodeTTL — that SetPIN takes. Otherwise ErrInvalidCode, the
// same for an unknown number; after CodeTries wrong entries the code is
// void. A source with too many wrong guesses gets a *signin.LockedError.
func (m *Mobile) VerifyActivationCode(ctx context.Context, phone, code, sourceAddr string) (ticket string, err error) {
	num, err := number(phone)
	if err != nil {
		return "", err
	}
	now := m.now()
	if err := m.guessAllowed(ctx, sourceAddr, now); err != nil {
		return "", err
	}
	u, err := m.Store.GetUserByPhone(ctx, num)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", fmt.Errorf("account: looking up phone: %w", err)
	}
	var c storage.MobileCode
	if err == nil && mobileUser(u, num) {
		c, err = m.checkCode(ctx, u, storage.CodeActivation, code, sourceAddr)
	} else {
		// The same store round trip as for a clinician's number.
		_, _ = m.Store.TryMobileCode(ctx, "", storage.CodeActivation, now, CodeTries)
		err = ErrInvalidCode
	}
	if err == nil && c.Phone != num {
		err = ErrInvalidCode
	}
	if err != nil {
		if errors.Is(err, ErrInvalidCode) {
			m.wrongGuess(ctx, sourceAddr, now)
		}
		return "", err
	}

	raw, hash, err := newToken()
	if err != nil {
		return "", err
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		if _, err := tx.UseMobileCode(ctx, c.ID, now); err != nil {
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrReused) {
				return ErrInvalidCode
			}
			return fmt.Errorf("account: using code: %w", err)
		}
		cur, err := tx.GetUser(ctx, u.ID)
		if err != nil || !mobileUser(cur, num) {
			return ErrInvalidCode
		}
		_, err = tx.UpdateMobileCredential(ctx, u.ID, func(mc *storage.MobileCredential) error {
			if mc.Phone != num && mc.PINHash != "" {
				// A PIN bound to another number is of no use here.
				clearPIN(mc)
			}
			mc.Phone, mc.PhoneVerifiedAt = num, now
			if mc.State != storage.MobileActive {
				mc.State = storage.MobilePending
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("account: recording the confirmed number: %w", err)
		}
		err = tx.CreateOneTimeToken(ctx, storage.OneTimeToken{Hash: hash, UserID: u.ID, Purpose: storage.PurposeMobilePIN,
			SentTo: num, CreatedAt: now, ExpiresAt: now.Add(CodeTTL)})
		if err != nil {
			return fmt.Errorf("account: storing PIN ticket: %w", err)
		}
		return audit(ctx, tx, now, Actor{ID: u.ID, Source: sourceAddr}, ActionMobilePhoneVerified, u.ID, nil)
	})
	if err != nil {
		return "", err
	}
	m.log().InfoContext(ctx, "mobile: number confirmed by SMS", "user", u.ID)
	return raw, nil
}

// clearPIN takes the PIN off c: it is none (not pending) until a code is
// sent or confirmed again.
func clearPIN(c *storage.MobileCredential) {
	c.State, c.PINHash, c.ActivatedAt = storage.MobileNone, "", time.Time{}
	c.PINFailures, c.LockedUntil = 0, time.Time{}
}

// SetPIN sets the PIN of the clinician whose ticket (from
// VerifyActivationCode) this is, in one transaction: the ticket is used up,
// the credential becomes active for the confirmed number, and the
// clinician's earlier phone sign-ins are revoked (as a password reset
// revokes sessions). It returns the user, for the caller to complete the
// sign-in with AMRActivation; sourceAddr goes into the audit entry. A PIN
// the policy refuses is a *FieldError
// for "pin"; a ticket that cannot be used, ErrInvalidLink (or one wrapping
// it) or ErrLinkUsed. On any error nothing changes.
func (m *Mobile) SetPIN(ctx context.Context, ticket, newPIN, sourceAddr string) (storage.User, error) {
	info, err := m.CheckLink(ctx, storage.PurposeMobilePIN, ticket)
	if err != nil {
		return storage.User{}, err
	}
	num := info.NewEmail // the ticket's SentTo: the confirmed number
	if !mobileUser(info.User, num) {
		return storage.User{}, ErrInvalidLink
	}
	if err := pin.Check(newPIN, pin.Context{Phone: num}); err != nil {
		var pe *pin.Error
		if errors.As(err, &pe) {
			return storage.User{}, &FieldError{Field: "pin", Message: pe.Message}
		}
		return storage.User{}, err
	}
	hash, err := m.Hasher.Hash(newPIN)
	if err != nil {
		return storage.User{}, fmt.Errorf("account: hashing PIN: %w", err)
	}
	var u storage.User
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		now := m.now()
		t, err := m.use(ctx, tx, storage.PurposeMobilePIN, ticket, now)
		if err != nil {
			return err
		}
		if u, err = tx.GetUser(ctx, t.UserID); err != nil || !mobileUser(u, t.SentTo) {
			return ErrInvalidLink
		}
		if err := tx.RevokeMobileGrants(ctx, u.ID, now); err != nil {
			return fmt.Errorf("account: revoking earlier phone sign-ins: %w", err)
		}
		_, err = tx.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
			if c.Phone != t.SentTo || c.PhoneVerifiedAt.IsZero() {
				c.PhoneVerifiedAt = now
			}
			c.State, c.PINHash, c.Phone, c.ActivatedAt = storage.MobileActive, hash, t.SentTo, now
			c.PINFailures, c.LockedUntil, c.LastSignInAt = 0, time.Time{}, now
			return nil
		})
		if err != nil {
			return fmt.Errorf("account: storing PIN: %w", err)
		}
		if err := tx.ResetThrottle(ctx, pinNumberKey(t.SentTo)); err != nil {
			return fmt.Errorf("account: lifting number lock: %w", err)
		}
		return audit(ctx, tx, now, Actor{ID: u.ID, Source: sourceAddr}, ActionMobileActivated, u.ID, nil)
	})
	if err != nil {
		return storage.User{}, err
	}
	m.log().InfoContext(ctx, "mobile credential activated", "user", u.ID)
	return u, nil
}
