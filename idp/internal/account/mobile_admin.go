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

// MobileStatus reads u's credential and phone sign-ins through st.
func (m *Mobile) MobileStatus(ctx context.Context, st storage.Storage, u storage.User) (MobileStatus, error) {
	now := m.now()
	c, err := st.GetMobileCredential(ctx, u.ID)
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
	all, err := st.ListSignIns(ctx, u.ID, now)
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

// SendActivationTx queues an activation code by SMS to u's phone, in tx
// (an admin's "send activation"); the caller audits. u must be an active
// clinician with a phone (ErrNotClinician). No throttle applies: the admin
// is authenticated and audited.
func (m *Mobile) SendActivationTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if !mobileUser(u, u.Phone) {
		return ErrNotClinician
	}
	return m.sendActivationTx(ctx, tx, u, m.now())
}

// ResetMobileTx clears u's PIN, revokes their phone sign-ins and voids open
// codes, in tx; the confirmation of the number stays. The caller audits.
func (m *Mobile) ResetMobileTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if u.Type != storage.UserTypeClinician {
		return ErrNotClinician
	}
	now := m.now()
	if _, err := tx.UpdateMobileCredential(ctx, u.ID, func(c *storage.MobileCredential) error {
		clearPIN(c)
		return nil
	}); err != nil {
		return fmt.Errorf("account: clearing mobile credential: %w", err)
	}
	if _, err := tx.VoidMobileCodes(ctx, u.ID, now); err != nil {
		return fmt.Errorf("account: voiding codes: %w", err)
	}
	return m.EndMobileSessionsTx(ctx, tx, u)
}

// EndMobileSessionsTx revokes u's phone sign-ins, in tx; the PIN stays.
func (m *Mobile) EndMobileSessionsTx(ctx context.Context, tx storage.Storage, u storage.User) error {
	if err := tx.RevokeMobileGrants(ctx, u.ID, m.now()); err != nil {
		return fmt.Errorf("account: revoking phone sign-ins: %w", err)
	}
	return nil
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

// EndSignIn ends one of userID's sign-ins, as SignIns lists it (kind and
// id): a browser session is revoked, an app's token family too. Audited.
func (s *Service) EndSignIn(ctx context.Context, userID, kind, id string) error {
	list, err := s.SignIns(ctx, userID)
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
		return audit(ctx, tx, now, userID, ActionSignInEnded, userID, map[string][2]any{
			"kind": {nil, kind}, "client": {nil, nilIfEmpty(found.ClientID)}, "method": {nil, found.Method},
		})
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
