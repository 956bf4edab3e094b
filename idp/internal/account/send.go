package account

import (
	"context"
	"fmt"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The …Tx building blocks below issue a link and queue its email inside
// the caller's transaction tx, and nothing else: they write no audit entry,
// count nothing against a throttle and take no minimum time. The use cases
// of this package wrap them with those; a caller that runs its own
// transaction (the admin API) audits the change itself, under its own
// actor. The email is sent only if tx commits; call Service.Queued's hook
// (or the caller's equivalent) after the commit.

// SendInvitationTx stores a new invitation link for u, voiding the earlier
// ones, and queues the invitation email, in tx. u must be invited
// (ErrNotInvited otherwise), as read in tx.
func (s *Service) SendInvitationTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if u.Status != storage.StatusInvited {
		return ErrNotInvited
	}
	raw, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	ttl := s.inviteTTL()
	e, err := s.render(message{kind: notify.KindInvitation, to: u.Email, data: notify.Data{
		Name: u.Name(), Link: s.link(InvitePath, raw), Expires: ttl, ExpiresAt: now.Add(ttl),
	}})
	if err != nil {
		return err
	}
	err = tx.CreateOneTimeToken(ctx, storage.OneTimeToken{
		Hash: hash, UserID: u.ID, Purpose: storage.PurposeInvitation, CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return fmt.Errorf("account: storing invitation: %w", err)
	}
	return s.enqueue(ctx, tx, e)
}

// SendPasswordResetTx stores a new password reset link for u, voiding the
// earlier ones, and queues the reset email to u.Email, in tx. u must be
// active (ErrNotActive otherwise), as read in tx.
func (s *Service) SendPasswordResetTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if u.Status != storage.StatusActive {
		return ErrNotActive
	}
	raw, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	ttl := s.resetTTL()
	e, err := s.render(message{kind: notify.KindPasswordReset, to: u.Email, data: notify.Data{
		Name: u.Name(), Link: s.link(ResetPath, raw), Expires: ttl, ExpiresAt: now.Add(ttl),
	}})
	if err != nil {
		return err
	}
	err = tx.CreateOneTimeToken(ctx, storage.OneTimeToken{
		Hash: hash, UserID: u.ID, Purpose: storage.PurposePasswordReset, CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return fmt.Errorf("account: storing reset link: %w", err)
	}
	return s.enqueue(ctx, tx, e)
}
