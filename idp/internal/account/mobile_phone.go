package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// RequestPhoneChange starts a signed-in clinician's (by.ID) change of phone
// number: a code goes by SMS to the new number. The number changes only
// when the code is confirmed (ConfirmPhoneChange); a newer request voids
// the older code. A number another user has is answered as any other
// (nil) but gets no code, so the answer tells nobody whose numbers are
// in use. Errors: a *FieldError for "phone", ErrSamePhone,
// ErrNotClinician, ErrNotActive, ErrThrottled (per number, per
// clinician, per source), ErrSMSUnavailable.
func (m *Mobile) RequestPhoneChange(ctx context.Context, by Actor, newPhone string) error {
	u, err := m.activeUser(ctx, by.ID)
	if err != nil {
		return err
	}
	if u.Type != storage.UserTypeClinician {
		return ErrNotClinician
	}
	num, err := number(newPhone)
	if err != nil {
		return err
	}
	if num == u.Phone {
		return ErrSamePhone
	}
	if !m.SMS {
		return ErrSMSUnavailable
	}
	now := m.now()
	for _, c := range []struct {
		key         func(string, bool) string
		id          string
		short, long int
	}{
		{smsSourceKey, by.Source, smsPerSourceShort, smsPerSourceDay},
		{smsUserKey, u.ID, smsPerUserShort, smsPerUserDay},
		{smsNumberKey, num, smsPerNumberShort, smsPerNumberDay},
	} {
		if err := m.countSMS(ctx, c.key, c.id, c.short, c.long, by.Source, now); err != nil {
			return err
		}
	}
	// A number another user has gets no code, and the answer is the same:
	// the page does not tell a clinician which numbers belong to others.
	// Whoever really has that phone receives nothing to confirm.
	switch other, err := m.Store.GetUserByPhone(ctx, num); {
	case err == nil && other.ID != u.ID:
		m.decoyCode(ctx, num, now)
		m.log().InfoContext(ctx, "phone change code not sent: the number is another user's", "user", u.ID, "phone_ref", phoneRef(num))
		return nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("account: looking up phone: %w", err)
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		if err := m.sendCodeTx(ctx, tx, u, storage.CodePhoneChange, num, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, by, ActionPhoneChangeRequested, u.ID, nil)
	})
	if err != nil {
		return err
	}
	m.queued()
	m.log().InfoContext(ctx, "phone change code queued", "user", u.ID, "phone_ref", phoneRef(num))
	return nil
}

// ConfirmPhoneChange applies a signed-in clinician's (by.ID) phone change
// with the code sent to the new number: in one transaction the number
// changes — confirmed by SMS, so phone_number_verified — and everything a
// phone change entails (see phoneChangedTx) and the audit entry commit
// with it. Errors: ErrInvalidCode (after CodeTries wrong ones the code is
// void), ErrPhoneTaken (taken meanwhile), ErrNotClinician, ErrNotActive, a
// *signin.LockedError for a source with too many wrong guesses.
func (m *Mobile) ConfirmPhoneChange(ctx context.Context, by Actor, code string) (storage.User, error) {
	u, err := m.activeUser(ctx, by.ID)
	if err != nil {
		return storage.User{}, err
	}
	if u.Type != storage.UserTypeClinician {
		return storage.User{}, ErrNotClinician
	}
	now := m.now()
	if err := m.guessAllowed(ctx, by.Source, now); err != nil {
		return storage.User{}, err
	}
	c, err := m.checkCode(ctx, u, storage.CodePhoneChange, code, by.Source)
	if err != nil {
		if errors.Is(err, ErrInvalidCode) {
			m.wrongGuess(ctx, by.Source, now)
		}
		return storage.User{}, err
	}
	var before, after storage.User
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		if _, err := tx.UseMobileCode(ctx, c.ID, now); err != nil {
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrReused) {
				return ErrInvalidCode
			}
			return fmt.Errorf("account: using code: %w", err)
		}
		var err error
		after, err = tx.UpdateUser(ctx, u.ID, 0, func(cur *storage.User) error {
			if cur.Status != storage.StatusActive || cur.Type != storage.UserTypeClinician {
				return ErrNotActive
			}
			before = *cur
			cur.Phone = c.Phone
			return nil
		})
		switch {
		case errors.Is(err, storage.ErrPhoneInUse):
			return ErrPhoneTaken
		case err != nil:
			return err
		}
		if _, err := m.phoneChangedTx(ctx, tx, before, after, true, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, by, ActionPhoneChanged, u.ID, UserChanges(before, after))
	})
	if err != nil {
		return storage.User{}, err
	}
	m.queued()
	m.log().InfoContext(ctx, "phone changed", "user", u.ID)
	return after, nil
}

// phoneChangedTx does, in tx, what a clinician's phone change from
// before.Phone to after.Phone entails, whoever made it (the clinician
// here, an administrator through EditUser): the PIN is cleared, every
// session and refresh token of phone sign-in clients is revoked, open codes
// die, and a notice is emailed to the clinician (mailed reports it; the
// caller wakes the delivery worker after the commit). The new number
// counts as confirmed only when verifiedBySMS. For anyone but a clinician,
// or an unchanged number, it does nothing.
func (s *Service) phoneChangedTx(ctx context.Context, tx storage.Storage, before, after storage.User, verifiedBySMS bool, now time.Time) (mailed bool, err error) {
	if after.Type != storage.UserTypeClinician || before.Phone == after.Phone {
		return false, nil
	}
	_, err = tx.UpdateMobileCredential(ctx, after.ID, func(c *storage.MobileCredential) error {
		clearPIN(c)
		c.Phone, c.PhoneVerifiedAt = "", time.Time{}
		if verifiedBySMS {
			c.Phone, c.PhoneVerifiedAt = after.Phone, now
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("account: clearing mobile credential: %w", err)
	}
	if err := tx.RevokeMobileGrants(ctx, after.ID, now); err != nil {
		return false, fmt.Errorf("account: revoking phone sign-ins: %w", err)
	}
	if _, err := tx.VoidMobileCodes(ctx, after.ID, now); err != nil {
		return false, fmt.Errorf("account: voiding codes: %w", err)
	}
	if after.Phone == "" {
		return false, nil
	}
	e, err := s.render(message{kind: notify.KindPhoneChanged, to: after.Email, data: notify.Data{Name: after.Name(), Phone: after.Phone}})
	if err != nil {
		return false, err
	}
	if err := s.enqueue(ctx, tx, e); err != nil {
		return false, err
	}
	return true, nil
}
