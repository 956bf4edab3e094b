package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ErrNotActive: the signed-in user may no longer sign in (disabled in the
// meantime); the page signs them out. SendPasswordReset returns it for a
// user who is invited or disabled.
var ErrNotActive = errors.New("account: user is not active")

// activeUser loads a signed-in user who may still use their account.
func (s *Service) activeUser(ctx context.Context, userID string) (storage.User, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, ErrNotActive
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("account: loading user: %w", err)
	}
	if u.Status != storage.StatusActive {
		return storage.User{}, ErrNotActive
	}
	return u, nil
}

// ChangePassword replaces the password of a signed-in user who proves the
// current one. Every session, refresh token and access token of the user
// is revoked, and every open link voided (an email change asked for with
// the old password dies with it) — the caller's browser session too: the page starts a fresh
// one for the browser that made the change, so that it alone stays signed
// in, under a new session id. A confirmation email is queued.
//
// by is the signed-in user (by.ID) and the client's address. Errors:
// ErrWrongPassword (counted; ErrThrottled after too many), a *FieldError
// for "new_password" (policy), ErrNotActive. On any error nothing changes.
func (s *Service) ChangePassword(ctx context.Context, by Actor, current, newPassword string) (storage.User, error) {
	userID := by.ID
	u, err := s.activeUser(ctx, userID)
	if err != nil {
		return storage.User{}, err
	}
	if err := s.reauthenticate(ctx, u, current); err != nil {
		return storage.User{}, err
	}
	if newPassword == current {
		return storage.User{}, &FieldError{Field: "new_password", Message: "Your new password must differ from your current one."}
	}
	hash, err := s.newPasswordHash(u, newPassword)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Field = "new_password"
		}
		return storage.User{}, err
	}
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		now := s.now()
		var err error
		u, err = tx.UpdateUser(ctx, userID, u.Version, func(u *storage.User) error {
			u.PasswordHash = hash
			return nil
		})
		if err != nil {
			return err
		}
		return s.afterPasswordChange(ctx, tx, u, now, by, "user.password_change")
	})
	if errors.Is(err, storage.ErrConflict) {
		// Changed since it was read (another change, disabled): say so
		// rather than overwrite.
		return storage.User{}, ErrConflict
	}
	if err != nil {
		return storage.User{}, err
	}
	s.queued()
	s.log().InfoContext(ctx, "password changed", "user", u)
	return u, nil
}

// ErrConflict: the account changed while the request was made; the page
// asks to try again.
var ErrConflict = errors.New("account: the account changed meanwhile; try again")

// ErrSameEmail: the new email is the one the user already has.
var ErrSameEmail = errors.New("account: that is already the sign-in email")

// ErrEmailTaken: another account took the address by the time the change
// is confirmed (the request itself does not tell).
var ErrEmailTaken = errors.New("account: email address already in use")

// RequestEmailChange starts changing the sign-in email of a signed-in user
// (by.ID, from by.Source) who proves their password: a confirmation link
// goes to newEmail and a notice to the current address, in one
// transaction. The email changes only when the link is used
// (ConfirmEmailChange); a newer request voids earlier links.
//
// The answer does not tell whether another account uses newEmail: when
// one does, the same notice goes to the current address and the owner of
// newEmail is told instead that the address is already theirs, with no
// link; the caller sees nil all the same, and earlier links are voided
// all the same.
//
// Errors: ErrWrongPassword or ErrThrottled, a *FieldError for "email"
// (malformed), ErrSameEmail, ErrNotActive.
func (s *Service) RequestEmailChange(ctx context.Context, by Actor, currentPassword, newEmail string) error {
	u, err := s.activeUser(ctx, by.ID)
	if err != nil {
		return err
	}
	addr, err := NormalizeEmail(strings.TrimSpace(newEmail))
	if err != nil {
		return err
	}
	if err := s.reauthenticate(ctx, u, currentPassword); err != nil {
		return err
	}
	if strings.EqualFold(addr, u.Email) {
		return ErrSameEmail
	}
	owner, err := s.Store.GetUserByEmail(ctx, addr)
	taken := err == nil && owner.ID != u.ID
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("account: looking up email: %w", err)
	}
	raw, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	ttl := s.emailChangeTTL()
	verify := message{kind: notify.KindEmailChangeVerify, to: addr, data: notify.Data{
		Name: u.Name(), Link: s.link(EmailConfirmPath, raw), NewEmail: addr, Expires: ttl, ExpiresAt: now.Add(ttl),
	}}
	if taken {
		verify = message{kind: notify.KindEmailInUse, to: addr, data: notify.Data{Name: owner.Name()}}
	}
	first, err := s.render(verify)
	if err != nil {
		return err
	}
	notice, err := s.render(message{kind: notify.KindEmailChangeNotice, to: u.Email, data: notify.Data{
		Name: u.Name(), NewEmail: addr, Expires: ttl, ExpiresAt: now.Add(ttl),
	}})
	if err != nil {
		return err
	}
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		// Stored even when the address is taken (its secret then goes
		// nowhere): earlier links are voided alike, so trying them tells
		// the requester nothing either.
		err := tx.CreateOneTimeToken(ctx, storage.OneTimeToken{
			Hash: hash, UserID: u.ID, Purpose: storage.PurposeEmailChange, SentTo: addr, Data: u.Email,
			CreatedAt: now, ExpiresAt: now.Add(ttl),
		})
		if err != nil {
			return fmt.Errorf("account: storing email change link: %w", err)
		}
		if err := s.enqueue(ctx, tx, first); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, notice); err != nil {
			return err
		}
		return audit(ctx, tx, now, by, "user.email_change_request", u.ID, nil)
	})
	if err != nil {
		return err
	}
	s.queued()
	s.log().InfoContext(ctx, "email change requested", "user", u.ID, "new_email_ref", emailRef(addr), "taken", taken)
	return nil
}

// emailFree returns ErrEmailTaken when a user other than self has addr.
func (s *Service) emailFree(ctx context.Context, st storage.Storage, addr, self string) error {
	other, err := st.GetUserByEmail(ctx, addr)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("account: looking up email: %w", err)
	case other.ID != self:
		return ErrEmailTaken
	}
	return nil
}

// ConfirmEmailChange applies the email change of the link raw: the user's
// sign-in email becomes the address the link was sent to, now verified,
// the link is used up, and — as any change of the email — every session,
// refresh token and access token of the user is revoked and every other
// open link voided, in one transaction. The link works only while the
// user's email is still the one the change was requested from. The
// address is checked again: ErrEmailTaken when another account took it
// meanwhile (the link stays valid). Link errors as CheckLink. It needs no
// session: the link proves the new address, the request proved the
// password. source is the client's address, for the audit log.
func (s *Service) ConfirmEmailChange(ctx context.Context, raw, source string) (storage.User, error) {
	info, err := s.CheckLink(ctx, storage.PurposeEmailChange, raw)
	if err != nil {
		return storage.User{}, err
	}
	if err := s.emailFree(ctx, s.Store, info.NewEmail, info.User.ID); err != nil {
		return storage.User{}, err
	}
	var u storage.User
	var old string
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		now := s.now()
		t, err := s.use(ctx, tx, storage.PurposeEmailChange, raw, now)
		if err != nil {
			return err
		}
		u, err = tx.UpdateUser(ctx, t.UserID, 0, func(u *storage.User) error {
			if !linkApplies(t, *u) {
				return ErrInvalidLink
			}
			old = u.Email
			u.Email = t.SentTo
			u.EmailVerified = true
			return nil
		})
		if errors.Is(err, storage.ErrEmailInUse) {
			return ErrEmailTaken
		}
		if err != nil {
			return err
		}
		if err := tx.RevokeUserGrants(ctx, u.ID, now); err != nil {
			return fmt.Errorf("account: revoking sessions, tokens and links: %w", err)
		}
		return audit(ctx, tx, now, Actor{ID: u.ID, Source: source}, "user.email_change", u.ID, map[string][2]any{"email": {old, u.Email}})
	})
	if err != nil {
		return storage.User{}, err
	}
	s.log().InfoContext(ctx, "email changed", "user", u.ID)
	return u, nil
}

// SignOutEverywhere revokes every session, refresh token and access token
// of the signed-in user by.ID and voids their open links: every browser
// and every module signs in again, and no link sent before acts.
func (s *Service) SignOutEverywhere(ctx context.Context, by Actor) error {
	err := s.Store.InTx(ctx, func(tx storage.Storage) error {
		now := s.now()
		if err := tx.RevokeUserGrants(ctx, by.ID, now); err != nil {
			return fmt.Errorf("account: revoking sessions, tokens and links: %w", err)
		}
		return audit(ctx, tx, now, by, "user.sign_out_everywhere", by.ID, nil)
	})
	if err != nil {
		return err
	}
	s.log().InfoContext(ctx, "signed out everywhere", "user", by.ID)
	return nil
}
