package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/keys"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Mobile runs the use cases of clinicians' mobile credentials: activation
// by SMS code and PIN, sign-in by number and PIN, the phone change that the
// credential follows, and what admins do to credentials. Only an active
// clinician has a mobile credential.
//
// Codes are 6 digits from crypto/rand, valid CodeTTL, entered at most
// CodeTries times (then void), single use, the newest of a purpose wins;
// the store keeps an HMAC of each (key derived from the KEK), bound to the
// user, the purpose and the number it went to. PINs follow package pin and
// are hashed with Service.Hasher (argon2id, under the process-wide bound).
// Wrong PINs: after PINLockAfter a PINLockFor lock, after PINVoidAfter in
// a row the PIN is void. SMS are throttled per number, per clinician and
// per source (SMS pumping costs money). Every lock and void is audited.
type Mobile struct {
	*Service
	codeKey [32]byte // HMAC key of codes, derived from the KEK
	// SMS reports whether an SMS gateway is configured. Without one the
	// use cases that send a code answer ErrSMSUnavailable.
	SMS bool
	// Floor is the least time RequestActivationCode takes, whether or not
	// the number belongs to a clinician; zero means DefaultResetFloor.
	Floor time.Duration
}

// NewMobile builds the mobile use cases on s, with the code key derived
// from kek. sms says whether an SMS gateway is configured.
func NewMobile(s *Service, kek []byte, sms bool) (*Mobile, error) {
	k, err := keys.Derive(kek, "mobile-code")
	if err != nil {
		return nil, fmt.Errorf("account: mobile code key: %w", err)
	}
	return &Mobile{Service: s, codeKey: k, SMS: sms}, nil
}

// Limits of the mobile credential.
const (
	CodeTTL      = 10 * time.Minute
	CodeTries    = 5
	PINLockAfter = 5
	PINLockFor   = 15 * time.Minute
	PINVoidAfter = 10
)

// SMS throttles: codes sent per number, per clinician and per source
// within a short window and within a day. A request past a limit is
// refused (ErrThrottled) — for an anonymous request only when the limit
// does not tell whether the number is a clinician's.
const (
	smsShortWindow    = 15 * time.Minute
	smsDay            = 24 * time.Hour
	smsPerNumberShort = 3
	smsPerNumberDay   = 10
	smsPerUserShort   = 3
	smsPerUserDay     = 10
	smsPerSourceShort = 10
	smsPerSourceDay   = 50
	// guessPerSource wrong PINs or codes from one source within
	// smsShortWindow lock that source out for PINLockFor.
	guessPerSource = 20
)

// Errors of the mobile use cases. Pages and the admin API show fixed
// messages for them.
var (
	// ErrSMSUnavailable: no SMS gateway is configured.
	ErrSMSUnavailable = errors.New("account: SMS cannot be sent (no gateway configured)")
	// ErrInvalidCode: the code is wrong, used, void, expired or replaced,
	// or there is none for that number.
	ErrInvalidCode = errors.New("account: the code is wrong or no longer valid; request a new one")
	// ErrNotClinician: the user is not an active clinician with a phone.
	ErrNotClinician = errors.New("account: only an active clinician with a phone number has a mobile credential")
	// ErrSamePhone: the new number is the one the user already has.
	ErrSamePhone = errors.New("account: that is already your phone number")
	// ErrPhoneTaken: another user has the number.
	ErrPhoneTaken = errors.New("account: the phone number is in use by another user")
)

// AMR values of phone sign-ins (RFC 8176): activation proves the SMS code
// and sets the PIN, a later sign-in the PIN alone.
func AMRActivation() []string { return []string{"sms", "pin"} }
func AMRPIN() []string        { return []string{"pin"} }

// Audit actions of the mobile use cases.
const (
	ActionMobileActivationRequested = "mobile.activation_requested"
	ActionMobilePhoneVerified       = "mobile.phone_verified"
	ActionMobileActivated           = "mobile.activated"
	ActionMobileCodeVoided          = "mobile.code_voided"
	ActionMobilePINLocked           = "mobile.pin_locked"
	ActionMobilePINVoided           = "mobile.pin_voided"
	ActionPhoneChangeRequested      = "user.phone_change_request"
	ActionPhoneChanged              = "user.phone_change"
	ActionSignInEnded               = "user.sign_in_end"
	// ActionMobileSMSLimit: an SMS allowance (per number, clinician or
	// source) was used up; ActionMobileGuessLimit: a source made too many
	// wrong PIN or code guesses and is locked out.
	ActionMobileSMSLimit   = "mobile.sms_limit"
	ActionMobileGuessLimit = "mobile.guess_limit"
)

// mobileUser reports whether u may hold a mobile credential for number:
// an active clinician whose phone it is.
func mobileUser(u storage.User, number string) bool {
	return u.Type == storage.UserTypeClinician && u.Status == storage.StatusActive && u.Phone != "" && u.Phone == number
}

// number parses a phone number a person typed into E.164: a *FieldError
// for "phone" when it is missing or not a valid number.
func number(phone string) (string, error) {
	n, err := NormalizePhone(strings.TrimSpace(phone))
	if err != nil {
		return "", err
	}
	if n == "" {
		return "", fieldErr("phone", "is required")
	}
	return n, nil
}

// waitAtLeast sleeps until d has passed since start, or ctx ends.
func waitAtLeast(ctx context.Context, start time.Time, d time.Duration) {
	d -= time.Since(start)
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
