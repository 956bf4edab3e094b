package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// DefaultResetFloor is the least time a password reset request takes. The
// work for an address with an account (a transaction storing the token and
// the sealed email) and without one (a read and the same computation) is
// close already; the floor hides what difference is left.
const DefaultResetFloor = 250 * time.Millisecond

// RequestPasswordReset sends a reset link to email when it belongs to an
// active account. The result is the same whether or not it does — nil, or
// ErrThrottled when the address or the source (sourceAddr, the client's IP;
// "" skips that limit) asked too often, or a *FieldError for text that is
// not an email address at all — and it takes about as long.
//
// Nothing is sent for an unknown address, nor for a disabled user (an
// admin enables them first), nor for an invited one: they have an
// invitation, and its expired link asks for a new one itself. A newer
// request voids the links of earlier ones.
func (s *Service) RequestPasswordReset(ctx context.Context, email, sourceAddr string) error {
	start := time.Now() // real time: the floor is about wall-clock timing
	defer s.waitFloor(ctx, start)

	addr, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	now := s.now()
	var srcKey string
	if sourceAddr != "" {
		srcKey = resetSourceKey(sourceAddr)
	}
	if err := s.countRequest(ctx, srcKey, resetPerSource, resetWindow, now); err != nil {
		if errors.Is(err, ErrThrottled) {
			s.log().InfoContext(ctx, "password reset refused: source throttled", "source", srcKey)
		}
		return err
	}
	if err := s.countRequest(ctx, resetAddressKey(addr), resetPerAddress, resetWindow, now); err != nil {
		if errors.Is(err, ErrThrottled) {
			s.log().InfoContext(ctx, "password reset refused: address throttled", "email_ref", emailRef(addr))
		}
		return err
	}

	u, err := s.Store.GetUserByEmail(ctx, addr)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("account: looking up user: %w", err)
	}
	if err != nil || u.Status != storage.StatusActive {
		reason := "unknown_email"
		if err == nil {
			reason = "status_" + string(u.Status)
		}
		if err := s.decoyReset(ctx, addr, u.Name()); err != nil {
			return err
		}
		s.log().InfoContext(ctx, "password reset requested: nothing sent", "reason", reason, "email_ref", emailRef(addr))
		return nil
	}
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		return s.sendPasswordResetTx(ctx, tx, u)
	})
	if err != nil {
		return err
	}
	s.queued()
	s.log().InfoContext(ctx, "password reset link queued", "user", u.ID)
	return nil
}

// decoyReset does the work sendPasswordResetTx would, short of writing:
// a token, the rendered email and the read of the token's row, so that
// the answer for an address without a usable account takes about as long.
func (s *Service) decoyReset(ctx context.Context, addr, name string) error {
	raw, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	ttl := s.resetTTL()
	if _, err := s.render(message{kind: notify.KindPasswordReset, to: addr, data: notify.Data{
		Name: name, Link: s.link(ResetPath, raw), Expires: ttl, ExpiresAt: now.Add(ttl),
	}}); err != nil {
		return err
	}
	_, _ = s.Store.GetOneTimeToken(ctx, hash)
	return nil
}

// waitFloor sleeps until ResetFloor has passed since start, or ctx ends.
func (s *Service) waitFloor(ctx context.Context, start time.Time) {
	d := orDefault(s.ResetFloor, DefaultResetFloor) - time.Since(start)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ResetPassword sets a new password for the user of the reset link raw, in
// one transaction: the link is used up, every session, refresh token and
// access token of the user is revoked, the sign-in lock of the account is
// lifted (a reset never locks), and a confirmation email is queued. The
// user is not signed in. The link works only while the address it was
// sent to is still the user's email. Policy failures are a *FieldError for
// "password"; link errors as CheckLink; on any error nothing changes.
// source is the client's address, for the audit log.
func (s *Service) ResetPassword(ctx context.Context, raw, newPassword, source string) (storage.User, error) {
	u, err := s.setPasswordByLink(ctx, storage.PurposePasswordReset, raw, newPassword, nil,
		func(tx storage.Storage, u storage.User, now time.Time) error {
			return s.afterPasswordChange(ctx, tx, u, now, Actor{ID: u.ID, Source: source}, "user.password_reset")
		})
	if err != nil {
		return storage.User{}, err
	}
	s.queued()
	s.log().InfoContext(ctx, "password reset", "user", u)
	return u, nil
}

// afterPasswordChange does, in tx, what every password change entails:
// every grant of the user revoked and every open link voided (an email
// change asked for by whoever had the old password dies here), the
// sign-in lock lifted, a confirmation email queued and the audit entry.
func (s *Service) afterPasswordChange(ctx context.Context, tx storage.Storage, u storage.User, now time.Time, by Actor, action string) error {
	if err := tx.RevokeUserGrants(ctx, u.ID, now); err != nil {
		return fmt.Errorf("account: revoking sessions, tokens and links: %w", err)
	}
	// A lock in force is lifted with its signin.unlock audit entry; a
	// count of failures below the limit is cleared as well.
	if unlocked, err := signin.Unlock(ctx, tx, u, by.ID, by.Source, now); err != nil {
		return fmt.Errorf("account: lifting sign-in lock: %w", err)
	} else if unlocked {
		s.SignInOutcomes.Observe(signin.MethodEmail, signin.OutcomeUnlock)
	}
	if err := tx.ResetThrottle(ctx, signin.AccountKey(u.Email)); err != nil {
		return fmt.Errorf("account: clearing sign-in failures: %w", err)
	}
	e, err := s.render(message{kind: notify.KindPasswordChanged, to: u.Email, data: notify.Data{Name: u.Name()}})
	if err != nil {
		return err
	}
	if err := s.enqueue(ctx, tx, e); err != nil {
		return err
	}
	return audit(ctx, tx, now, by, action, u.ID, nil)
}
