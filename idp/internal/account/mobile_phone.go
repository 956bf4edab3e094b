package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// RequestPhoneChange starts a signed-in clinician's change of phone number:
// a code goes by SMS to the new number. The number changes only when the
// code is confirmed (ConfirmPhoneChange); a newer request voids the older
// code. Errors: a *FieldError for "phone", ErrSamePhone, ErrPhoneTaken,
// ErrNotClinician, ErrNotActive, ErrThrottled (per number, per clinician,
// per source), ErrSMSUnavailable.
func (m *Mobile) RequestPhoneChange(ctx context.Context, userID, newPhone, sourceAddr string) error {
	u, err := m.activeUser(ctx, userID)
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
	switch other, err := m.Store.GetUserByPhone(ctx, num); {
	case err == nil && other.ID != u.ID:
		return ErrPhoneTaken
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("account: looking up phone: %w", err)
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
		{smsSourceKey, sourceAddr, smsPerSourceShort, smsPerSourceDay},
		{smsUserKey, u.ID, smsPerUserShort, smsPerUserDay},
		{smsNumberKey, num, smsPerNumberShort, smsPerNumberDay},
	} {
		if err := m.countSMS(ctx, c.key, c.id, c.short, c.long, now); err != nil {
			return err
		}
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		if err := m.sendCodeTx(ctx, tx, u, storage.CodePhoneChange, num, now); err != nil {
			return err
		}
		return auditMobile(ctx, tx, now, u.ID, ActionPhoneChangeRequested, u.ID, sourceAddr, nil)
	})
	if err != nil {
		return err
	}
	m.queued()
	m.log().InfoContext(ctx, "phone change code queued", "user", u.ID, "phone_ref", phoneRef(num))
	return nil
}

// ConfirmPhoneChange applies a signed-in clinician's phone change with the
// code sent to the new number: in one transaction the number changes
// (confirmed by SMS, so phone_number_verified) and PhoneChangedTx does the
// rest. Errors: ErrInvalidCode (after CodeTries wrong ones the code is
// void), ErrPhoneTaken (taken meanwhile), ErrNotClinician, ErrNotActive, a
// *signin.LockedError for a source with too many wrong guesses.
func (m *Mobile) ConfirmPhoneChange(ctx context.Context, userID, code, sourceAddr string) (storage.User, error) {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return storage.User{}, err
	}
	if u.Type != storage.UserTypeClinician {
		return storage.User{}, ErrNotClinician
	}
	now := m.now()
	if err := m.guessAllowed(ctx, sourceAddr, now); err != nil {
		return storage.User{}, err
	}
	c, err := m.checkCode(ctx, u, storage.CodePhoneChange, code, sourceAddr)
	if err != nil {
		if errors.Is(err, ErrInvalidCode) {
			m.wrongGuess(ctx, sourceAddr, now)
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
		if err := m.PhoneChangedTx(ctx, tx, before, after, true); err != nil {
			return err
		}
		return auditMobile(ctx, tx, now, u.ID, ActionPhoneChanged, u.ID, sourceAddr,
			map[string][2]any{"phone": {before.Phone, after.Phone}})
	})
	if err != nil {
		return storage.User{}, err
	}
	m.queued()
	m.log().InfoContext(ctx, "phone changed", "user", u.ID)
	return after, nil
}

// PhoneChangedTx does, in tx, what a clinician's phone change from
// before.Phone to after.Phone entails, whoever made it (the clinician, an
// admin): the PIN is cleared, every session and refresh token of phone
// sign-in clients is revoked, open codes die, and a notice is emailed to
// the clinician. The new number counts as confirmed only when
// verifiedBySMS. The caller writes the audit entry (its actor) and wakes
// the delivery worker (Service.Queued) after the commit. For anyone but a
// clinician, or an unchanged number, it does nothing.
func (m *Mobile) PhoneChangedTx(ctx context.Context, tx storage.Storage, before, after storage.User, verifiedBySMS bool) error {
	if after.Type != storage.UserTypeClinician || before.Phone == after.Phone {
		return nil
	}
	now := m.now()
	_, err := tx.UpdateMobileCredential(ctx, after.ID, func(c *storage.MobileCredential) error {
		clearPIN(c)
		c.Phone, c.PhoneVerifiedAt = "", time.Time{}
		if verifiedBySMS {
			c.Phone, c.PhoneVerifiedAt = after.Phone, now
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: clearing mobile credential: %w", err)
	}
	if err := tx.RevokeMobileGrants(ctx, after.ID, now); err != nil {
		return fmt.Errorf("account: revoking phone sign-ins: %w", err)
	}
	if _, err := tx.VoidMobileCodes(ctx, after.ID, now); err != nil {
		return fmt.Errorf("account: voiding codes: %w", err)
	}
	if after.Phone == "" {
		return nil
	}
	e, err := m.render(message{kind: notify.KindPhoneChanged, to: after.Email, data: notify.Data{Name: after.Name(), Phone: after.Phone}})
	if err != nil {
		return err
	}
	return m.enqueue(ctx, tx, e)
}
