package account

import (
	"context"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// SendInvitation sends user id a new invitation (their earlier links stop
// working), with an audit entry by by under action, in one transaction.
// allow, when set, runs first on the record as read in the transaction
// (the admin API authorizes there); its error is returned as is. Errors:
// storage.ErrNotFound, ErrNotInvited when the user is not waiting for an
// invitation. It neither throttles nor waits: the caller is an
// administrator or the system, not an anonymous request.
func (s *Service) SendInvitation(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error) error {
	return s.send(ctx, id, by, action, allow, s.sendInvitationTx)
}

// SendPasswordReset emails active user id a password reset link, with an
// audit entry by by under action, in one transaction; as SendInvitation
// otherwise. ErrNotActive for a user who is invited or disabled. It is
// not counted against the per-address limit of anonymous requests
// (RequestPasswordReset): the administrator knows the account exists, and
// the request is authenticated and audited.
func (s *Service) SendPasswordReset(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error) error {
	return s.send(ctx, id, by, action, allow, s.sendPasswordResetTx)
}

func (s *Service) send(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error,
	link func(context.Context, storage.Storage, storage.User) error) error {
	err := s.Store.InTx(ctx, func(tx storage.Storage) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if allow != nil {
			if err := allow(u); err != nil {
				return err
			}
		}
		if err := link(ctx, tx, u); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), by, action, u.ID, nil)
	})
	if err != nil {
		return err
	}
	s.queued()
	s.log().InfoContext(ctx, "link sent", "action", action, "user", id)
	return nil
}

// sendInvitationTx stores a new invitation link for u, bound to u's
// address and voiding the earlier ones, and queues the invitation email
// to that address, in tx. u must be invited (ErrNotInvited otherwise), as
// read in tx.
func (s *Service) sendInvitationTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if u.Status != storage.StatusInvited {
		return ErrNotInvited
	}
	return s.sendLinkTx(ctx, tx, u, storage.PurposeInvitation, notify.KindInvitation, InvitePath, s.inviteTTL())
}

// sendPasswordResetTx stores a new password reset link for u, bound to
// u's address and voiding the earlier ones, and queues the reset email to
// that address, in tx. u must be active (ErrNotActive otherwise), as read
// in tx.
func (s *Service) sendPasswordResetTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if u.Status != storage.StatusActive {
		return ErrNotActive
	}
	return s.sendLinkTx(ctx, tx, u, storage.PurposePasswordReset, notify.KindPasswordReset, ResetPath, s.resetTTL())
}

// sendLinkTx stores a link of purpose for u, sent to u.Email, and queues
// the email of kind carrying it, in tx.
func (s *Service) sendLinkTx(ctx context.Context, tx storage.Storage, u storage.User, purpose, kind, path string, ttl time.Duration) error {
	raw, hash, err := newToken()
	if err != nil {
		return err
	}
	now := s.now()
	e, err := s.render(message{kind: kind, to: u.Email, data: notify.Data{
		Name: u.Name(), Link: s.link(path, raw), Expires: ttl, ExpiresAt: now.Add(ttl),
	}})
	if err != nil {
		return err
	}
	err = tx.CreateOneTimeToken(ctx, storage.OneTimeToken{
		Hash: hash, UserID: u.ID, Purpose: purpose, SentTo: u.Email, CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return fmt.Errorf("account: storing %s link: %w", purpose, err)
	}
	return s.enqueue(ctx, tx, e)
}
