package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// MobileStatus is a clinician's mobile credential as admins and the account
// page see it.
type MobileStatus struct {
	State         storage.MobileState // none, pending, active or locked
	Phone         string              // the user's number
	PhoneVerified bool                // confirmed by SMS
	ActivatedAt   time.Time           // zero without a PIN
	LastSignInAt  time.Time
	LockedUntil   time.Time // zero unless locked
	// Sessions are the live phone sign-ins: sessions signed in by phone
	// and token families of phone clients, most recently used first.
	Sessions []storage.SignIn
}

// MobileStatus reads u's credential and phone sign-ins.
func (m *Mobile) MobileStatus(ctx context.Context, u storage.User) (MobileStatus, error) {
	now := m.now()
	c, err := m.Store.GetMobileCredential(ctx, u.ID)
	if err != nil {
		return MobileStatus{}, fmt.Errorf("account: reading mobile credential: %w", err)
	}
	out := MobileStatus{State: c.StateAt(now), Phone: u.Phone, PhoneVerified: c.PhoneVerified(u.Phone),
		LastSignInAt: c.LastSignInAt}
	switch {
	case c.State == storage.MobileActive && c.Phone != u.Phone:
		out.State = storage.MobileNone // a PIN bound to another number does not work
	case c.State == storage.MobileActive:
		out.ActivatedAt = c.ActivatedAt
	}
	if out.State == storage.MobileLocked {
		out.LockedUntil = c.LockedUntil
	}
	all, err := m.Store.ListSignIns(ctx, u.ID, now)
	if err != nil {
		return MobileStatus{}, fmt.Errorf("account: listing sign-ins: %w", err)
	}
	out.Sessions = []storage.SignIn{}
	for _, s := range all {
		if s.Method == storage.SignInPhone {
			out.Sessions = append(out.Sessions, s)
		}
	}
	return out, nil
}

// SendActivation sends clinician id an activation code by SMS (the
// credential becomes pending unless it is active), with an audit entry by
// by under action, in one transaction. allow, when set, runs first on the
// record as read in the transaction (the admin API authorizes there).
// Errors: storage.ErrNotFound, ErrNotClinician (not an active clinician
// with a phone), ErrSMSUnavailable, allow's. No throttle applies: the
// caller is an administrator, authenticated and audited.
func (m *Mobile) SendActivation(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error) (storage.User, error) {
	return m.adminChange(ctx, id, by, action, allow, func(ctx context.Context, tx storage.Storage, u storage.User, now time.Time) error {
		if !mobileUser(u, u.Phone) {
			return ErrNotClinician
		}
		return m.sendActivationTx(ctx, tx, u, now)
	})
}

// ResetMobile clears clinician id's PIN, revokes their phone sign-ins and
// voids open codes (the confirmation of the number stays), as
// SendActivation otherwise. They activate again by SMS.
func (m *Mobile) ResetMobile(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error) (storage.User, error) {
	return m.adminChange(ctx, id, by, action, allow, func(ctx context.Context, tx storage.Storage, u storage.User, now time.Time) error {
		if _, err := tx.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
			clearPIN(c)
			return nil
		}); err != nil {
			return fmt.Errorf("account: clearing mobile credential: %w", err)
		}
		if _, err := tx.VoidMobileCodes(ctx, u.ID, now); err != nil {
			return fmt.Errorf("account: voiding codes: %w", err)
		}
		return revokeMobile(ctx, tx, u, now)
	})
}

// EndMobileSessions revokes clinician id's phone sign-ins (the PIN stays),
// as SendActivation otherwise.
func (m *Mobile) EndMobileSessions(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error) (storage.User, error) {
	return m.adminChange(ctx, id, by, action, allow, func(ctx context.Context, tx storage.Storage, u storage.User, now time.Time) error {
		return revokeMobile(ctx, tx, u, now)
	})
}

func revokeMobile(ctx context.Context, tx storage.Storage, u storage.User, now time.Time) error {
	if err := tx.RevokeMobileGrants(ctx, u.ID, now); err != nil {
		return fmt.Errorf("account: revoking phone sign-ins: %w", err)
	}
	return nil
}

// adminChange runs op on clinician id in one transaction with allow first
// and the audit entry (the credential's state before and after) last.
func (m *Mobile) adminChange(ctx context.Context, id string, by Actor, action string, allow func(storage.User) error,
	op func(ctx context.Context, tx storage.Storage, u storage.User, now time.Time) error) (storage.User, error) {
	var u storage.User
	err := m.Store.InTx(ctx, func(tx storage.Storage) error {
		var err error
		if u, err = tx.GetUser(ctx, id); err != nil {
			return err
		}
		if allow != nil {
			if err := allow(u); err != nil {
				return err
			}
		}
		if u.Type != storage.UserTypeClinician {
			return ErrNotClinician
		}
		now := m.now()
		before, err := tx.GetMobileCredential(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := op(ctx, tx, u, now); err != nil {
			return err
		}
		after, err := tx.GetMobileCredential(ctx, u.ID)
		if err != nil {
			return err
		}
		var changes map[string][2]any
		if b, a := before.StateAt(now), after.StateAt(now); b != a {
			changes = map[string][2]any{"mobile_state": {string(b), string(a)}}
		}
		return audit(ctx, tx, now, by, action, u.ID, changes)
	})
	if err != nil {
		return storage.User{}, err
	}
	m.queued()
	m.log().InfoContext(ctx, "mobile credential changed", "action", action, "user", id)
	return u, nil
}

// SignIns lists where userID is signed in (browser sessions and apps),
// most recently used first: the account page's "where you are signed in".
func (s *Service) SignIns(ctx context.Context, userID string) ([]storage.SignIn, error) {
	list, err := s.Store.ListSignIns(ctx, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("account: listing sign-ins: %w", err)
	}
	return list, nil
}

// ErrNoSuchSignIn: the sign-in to end is not one of the user's (or has
// ended already).
var ErrNoSuchSignIn = errors.New("account: no such sign-in")

// EndSignIn ends one of by.ID's own sign-ins, as SignIns lists it (kind
// and id): a browser session is revoked, an app's token family too.
// Audited.
func (s *Service) EndSignIn(ctx context.Context, by Actor, kind, id string) error {
	list, err := s.SignIns(ctx, by.ID)
	if err != nil {
		return err
	}
	var found *storage.SignIn
	for i := range list {
		if list[i].Kind == kind && list[i].ID == id {
			found = &list[i]
		}
	}
	if found == nil {
		return ErrNoSuchSignIn
	}
	return s.Store.InTx(ctx, func(tx storage.Storage) error {
		now := s.now()
		var err error
		if kind == storage.SignInSession {
			err = tx.RevokeSession(ctx, id, now)
		} else {
			err = tx.RevokeFamily(ctx, id, now)
		}
		if err != nil {
			return fmt.Errorf("account: ending sign-in: %w", err)
		}
		return audit(ctx, tx, now, by, ActionSignInEnded, by.ID, map[string][2]any{
			"kind": {nil, kind}, "client": {nil, nilIfEmpty(found.ClientID)}, "method": {nil, found.Method},
		})
	})
}
