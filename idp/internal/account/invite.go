package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// ErrNotInvited: the user has already accepted their invitation (or is
// disabled), so there is nothing to send again.
var ErrNotInvited = errors.New("account: user is not waiting for an invitation")

// Invite creates an invited user and queues the invitation email with its
// link, all in one transaction, audited as the system's (the CLI): either
// the user exists and the email will be delivered, or nothing was written.
// The user cannot sign in until they open the link and set a first
// password (AcceptInvitation). in.Password must be empty. Errors as
// CreateUser.
func (s *Service) Invite(ctx context.Context, in NewUser) (storage.User, error) {
	if in.Password != "" {
		return storage.User{}, fieldErr("password", "an invited user sets their own password")
	}
	u, err := s.newRecord(in)
	if err != nil {
		return storage.User{}, err
	}
	return s.InviteUser(ctx, u, Actor{}, "user.invite")
}

// InviteUser stores u, a record its caller has validated (the admin API
// validates its own members), as an invited user without a password, and
// queues the invitation, with an audit entry by by under action, in one
// transaction. A taken email or phone is storage.ErrEmailInUse or
// storage.ErrPhoneInUse; nothing is written on any error.
func (s *Service) InviteUser(ctx context.Context, u storage.User, by Actor, action string) (storage.User, error) {
	out, err := s.inviteUser(ctx, u, by, action, false)
	if err != nil {
		return storage.User{}, err
	}
	s.queued()
	s.log().InfoContext(ctx, "user invited", "user", out)
	return out, nil
}

// CheckInviteUser is InviteUser's dry run: it runs the very transaction
// InviteUser would — the store's checks of the record, the unique email
// and phone, the invitation link and email, the audit entry — and rolls it
// back at the end, so that nothing is stored, sent or audited. Its errors
// are InviteUser's; nil means InviteUser would have succeeded now.
func (s *Service) CheckInviteUser(ctx context.Context, u storage.User, by Actor, action string) error {
	_, err := s.inviteUser(ctx, u, by, action, true)
	return err
}

// errDryRun rolls back a dry run's transaction once it has run to its end.
var errDryRun = errors.New("account: dry run, rolled back")

// inviteUser is InviteUser, or with dryRun its check (CheckInviteUser).
func (s *Service) inviteUser(ctx context.Context, u storage.User, by Actor, action string, dryRun bool) (storage.User, error) {
	u.Status, u.PasswordHash, u.EmailVerified = storage.StatusInvited, "", false
	var out storage.User
	err := s.Store.InTx(ctx, func(tx storage.Storage) error {
		created, err := tx.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		if err := s.sendInvitationTx(ctx, tx, created); err != nil {
			return err
		}
		out = created
		if err := audit(ctx, tx, s.now(), by, action, created.ID, UserChanges(storage.User{}, created)); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if dryRun && errors.Is(err, errDryRun) {
		return storage.User{}, nil
	}
	if err != nil {
		return storage.User{}, err
	}
	return out, nil
}

// ResendExpiredInvitation is the way forward from an invitation link that
// has expired: it sends a new invitation to the same address, the only one
// the link ever went to (while it is still the user's), and voids the old
// link, so each expired link serves once. Any other link gives the error
// CheckLink would (a link that is still valid: ErrInvalidLink, use it
// instead). source is the client's address, for the audit log.
func (s *Service) ResendExpiredInvitation(ctx context.Context, raw, source string) error {
	_, err := s.peek(ctx, storage.PurposeInvitation, raw)
	if !errors.Is(err, ErrLinkExpired) {
		if err == nil {
			err = ErrInvalidLink
		}
		return err
	}
	t, err := s.Store.GetOneTimeToken(ctx, hashToken(raw))
	if err != nil {
		return fmt.Errorf("account: reading link: %w", err)
	}
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		u, err := tx.GetUser(ctx, t.UserID)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrInvalidLink
		}
		if err != nil {
			return err
		}
		// Read again in the transaction: only a link that no newer one has
		// replaced may ask for another.
		cur, err := tx.GetOneTimeToken(ctx, t.Hash)
		if err != nil {
			return err
		}
		if !linkApplies(cur, u) {
			return ErrInvalidLink
		}
		if st := tokenState(cur, storage.PurposeInvitation, s.now()); !errors.Is(st, ErrLinkExpired) {
			return st
		}
		if err := s.sendInvitationTx(ctx, tx, u); err != nil {
			return err
		}
		return audit(ctx, tx, s.now(), Actor{ID: u.ID, Source: source}, "user.invite_resend", u.ID, nil)
	})
	if err != nil {
		return err
	}
	s.queued()
	s.log().InfoContext(ctx, "invitation sent again from an expired link", "user", t.UserID)
	return nil
}

// AcceptInvitation sets the first password of the user invited by the link
// raw: it verifies their email (the one the link went to, which must still
// be theirs), activates them and uses the link up, in one transaction. The
// password policy applies (*FieldError for "password"). Link errors as
// CheckLink; on any error nothing changes and a valid link stays valid.
// The user is not signed in: they sign in next. source is the client's
// address, for the audit log.
func (s *Service) AcceptInvitation(ctx context.Context, raw, newPassword, source string) (storage.User, error) {
	u, err := s.setPasswordByLink(ctx, storage.PurposeInvitation, raw, newPassword,
		func(u *storage.User) { u.Status = storage.StatusActive },
		func(tx storage.Storage, u storage.User, now time.Time) error {
			return audit(ctx, tx, now, Actor{ID: u.ID, Source: source}, "user.invite_accept", u.ID, map[string][2]any{
				"status": {string(storage.StatusInvited), string(storage.StatusActive)}, "email_verified": {false, true},
			})
		})
	if err != nil {
		return storage.User{}, err
	}
	s.log().InfoContext(ctx, "invitation accepted", "user", u)
	return u, nil
}

// setPasswordByLink is what accepting an invitation and resetting a
// password share: the link raw of purpose is checked and the password
// hashed before any transaction (argon2id is slow and SQLite holds its write
// lock for the whole of one); then, in one transaction, the link is used up
// and the password set on its user, to whom the link must still apply
// (linkApplies: the user's state, and the address the link went to is
// still their email; else ErrInvalidLink); the email is marked verified
// (the link went to it), edit makes the purpose's own change, and after
// writes the rest (audit, grants, emails). On any error nothing changes
// and a valid link stays valid.
func (s *Service) setPasswordByLink(ctx context.Context, purpose, raw, pw string,
	edit func(*storage.User), after func(tx storage.Storage, u storage.User, now time.Time) error) (storage.User, error) {
	info, err := s.CheckLink(ctx, purpose, raw)
	if err != nil {
		return storage.User{}, err
	}
	hash, err := s.newPasswordHash(info.User, pw)
	if err != nil {
		return storage.User{}, err
	}
	var u storage.User
	err = s.Store.InTx(ctx, func(tx storage.Storage) error {
		now := s.now()
		t, err := s.use(ctx, tx, purpose, raw, now)
		if err != nil {
			return err
		}
		u, err = tx.UpdateUser(ctx, t.UserID, 0, func(u *storage.User) error {
			if !linkApplies(t, *u) {
				return ErrInvalidLink
			}
			u.PasswordHash = hash
			u.EmailVerified = true
			if edit != nil {
				edit(u)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return after(tx, u, now)
	})
	if err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// newPasswordHash checks pw against the policy for u and hashes it. It runs
// before any transaction: argon2id is slow and SQLite holds its write lock
// for the whole of one.
func (s *Service) newPasswordHash(u storage.User, pw string) (string, error) {
	if err := s.Policy.Check(pw, password.Context{Email: u.Email, GivenName: u.GivenName, FamilyName: u.FamilyName}); err != nil {
		return "", &FieldError{Field: "password", Message: err.Error()}
	}
	h, err := s.Hasher.Hash(pw)
	if err != nil {
		return "", fmt.Errorf("account: hashing password: %w", err)
	}
	return h, nil
}
