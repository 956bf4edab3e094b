package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cliniconnects/identity/idp/internal/mfa"
	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// MFA runs the use cases of the second sign-in factor, an authenticator
// app (TOTP) with recovery codes: enrolment from the account page (or
// forced during sign-in), the check at sign-in, removal by the user, and
// reset by an administrator. Each change is audited and emails the user a
// notice in the same transaction.
type MFA struct {
	*Service
	keys *mfa.Keys
	// lock counts wrong codes toward the sign-in lock.
	lock *signin.Service
	// RequiredRoles are the roles whose holders must have a second factor
	// (IDP_MFA_REQUIRED_ROLES); the sign-in flow enforces it.
	RequiredRoles []storage.Role
}

// NewMFA builds the second-factor use cases on s. kek seals the TOTP
// secrets and keys the recovery-code hashes (mfa.NewKeys); lock is the
// sign-in service whose per-account lock wrong codes count toward.
func NewMFA(s *Service, kek []byte, lock *signin.Service, required []storage.Role) (*MFA, error) {
	if s == nil || lock == nil {
		return nil, errors.New("account: NewMFA needs a Service and the sign-in service")
	}
	k, err := mfa.NewKeys(kek)
	if err != nil {
		return nil, fmt.Errorf("account: MFA keys: %w", err)
	}
	return &MFA{Service: s, keys: k, lock: lock, RequiredRoles: slices.Clone(required)}, nil
}

// Errors of the second-factor use cases. Pages show fixed texts for them.
var (
	// ErrMFANotEnabled: the user has no confirmed authenticator app.
	ErrMFANotEnabled = errors.New("account: two-step sign-in is not set up")
	// ErrMFAEnabled: the user already has a confirmed authenticator app;
	// remove it before setting up another.
	ErrMFAEnabled = errors.New("account: two-step sign-in is already set up")
	// ErrNoEnrollment: there is no enrolment in progress to confirm.
	ErrNoEnrollment = errors.New("account: no authenticator app setup in progress")
	// ErrWrongCode: the code is not the app's current one, was used
	// already, or is not an unused recovery code. The same error for all.
	ErrWrongCode = errors.New("account: the code is incorrect")
	// ErrNotAllowed: the actor may not reset this user's second factor.
	ErrNotAllowed = errors.New("account: not allowed")
)

// Factor says which second factor a sign-in used.
type Factor string

const (
	// FactorTOTP: a code from the authenticator app.
	FactorTOTP Factor = "otp"
	// FactorRecoveryCode: one of the user's single-use recovery codes.
	FactorRecoveryCode Factor = "recovery_code"
)

// AMR are the authentication method references (RFC 8176) the factor adds
// to the password's "pwd": a TOTP code is "otp" and, with the password,
// "mfa"; a recovery code only "mfa".
func (f Factor) AMR() []string {
	if f == FactorTOTP {
		return []string{"otp", "mfa"}
	}
	return []string{"mfa"}
}

// Audit actions of the second factor (actor: the user, or the admin for a
// reset outside the admin API).
const (
	ActionMFAEnable = "user.mfa_enable"
	ActionMFARemove = "user.mfa_remove"
	ActionMFAReset  = "user.mfa_reset"
	// ActionMFASignIn: a sign-in passed the second factor with a code
	// from the app.
	ActionMFASignIn = "user.mfa_sign_in"
	// ActionMFARecoveryCodeUsed: a recovery code was used up (at sign-in,
	// or to remove the app).
	ActionMFARecoveryCodeUsed = "user.mfa_recovery_code_used"
	// ActionMFACodeFailed: a wrong, replayed or used code was refused.
	ActionMFACodeFailed = "user.mfa_code_failed"
)

// qrSize is the QR code's width and height in pixels.
const qrSize = 240

// MFAStatus is where a user's second factor stands.
type MFAStatus struct {
	Enabled           bool
	EnabledAt         time.Time
	RecoveryCodesLeft int
	// Pending: an enrolment was begun and not confirmed.
	Pending bool
	// Required: the user's roles require a second factor.
	Required bool
}

// Required reports whether u's roles require a second factor.
func (m *MFA) Required(u storage.User) bool {
	return slices.ContainsFunc(u.Roles, func(r storage.Role) bool { return slices.Contains(m.RequiredRoles, r) })
}

// Enabled reports whether the user has a confirmed authenticator app: the
// sign-in flow asks for a code when it does.
func (m *MFA) Enabled(ctx context.Context, userID string) (bool, error) {
	t, err := m.Store.GetTOTP(ctx, userID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("account: reading TOTP: %w", err)
	}
	return t.Confirmed(), nil
}

// Status returns the user's second-factor status.
func (m *MFA) Status(ctx context.Context, u storage.User) (MFAStatus, error) {
	st := MFAStatus{Required: m.Required(u)}
	t, err := m.Store.GetTOTP(ctx, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("account: reading TOTP: %w", err)
	case !t.Confirmed():
		st.Pending = true
		return st, nil
	}
	all, err := m.Store.MFAStatuses(ctx, []string{u.ID})
	if err != nil {
		return st, fmt.Errorf("account: reading MFA status: %w", err)
	}
	st.Enabled, st.EnabledAt, st.RecoveryCodesLeft = true, t.ConfirmedAt, all[u.ID].RecoveryCodesLeft
	return st, nil
}

// Enrollment is an authenticator app setup in progress: what the user
// scans or types into the app.
type Enrollment struct {
	// Secret is the key for typing in by hand, base32 in groups of four.
	Secret string
	// URI is the otpauth:// URI the QR code carries.
	URI string
}

// LogValue keeps the secret out of logs.
func (e Enrollment) LogValue() slog.Value { return slog.StringValue("(enrollment)") }

// QRCode is the enrolment's QR code as a PNG image.
func (e Enrollment) QRCode() ([]byte, error) { return mfa.QRCode(e.URI, qrSize) }

// EnrollmentTTL is how long a begun setup of an authenticator app can be
// confirmed: a secret shown and never confirmed stops counting as the
// setup in progress, and the user begins again with a fresh one.
const EnrollmentTTL = 30 * time.Minute

// pendingExpired reports whether t, an unconfirmed enrolment, was begun
// longer than EnrollmentTTL ago.
func (m *MFA) pendingExpired(t storage.TOTP) bool {
	return !t.Confirmed() && !m.now().Before(t.CreatedAt.Add(EnrollmentTTL))
}

// BeginEnrollment starts setting up an authenticator app for the user: a
// fresh secret, sealed, replaces any enrolment in progress. Nothing counts
// until ConfirmEnrollment. ErrMFAEnabled when the user has an app already;
// ErrNotActive.
func (m *MFA) BeginEnrollment(ctx context.Context, userID string) (Enrollment, error) {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return Enrollment{}, err
	}
	secret, err := mfa.NewSecret()
	if err != nil {
		return Enrollment{}, err
	}
	sealed, err := m.keys.Seal(u.ID, secret)
	if err != nil {
		return Enrollment{}, fmt.Errorf("account: sealing TOTP secret: %w", err)
	}
	err = m.Store.PutPendingTOTP(ctx, storage.TOTP{UserID: u.ID, Secret: sealed, CreatedAt: m.now()})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return Enrollment{}, ErrMFAEnabled
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("account: storing TOTP enrolment: %w", err)
	}
	m.log().InfoContext(ctx, "authenticator app setup begun", "user", u.ID)
	return enrollment(u, secret)
}

// PendingEnrollment returns the enrolment in progress, to show it again
// (the QR code is a separate request). ErrNoEnrollment when none, or when
// it was begun more than EnrollmentTTL ago; ErrMFAEnabled when it is
// confirmed already.
func (m *MFA) PendingEnrollment(ctx context.Context, userID string) (Enrollment, error) {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return Enrollment{}, err
	}
	t, secret, err := m.totp(ctx, m.Store, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return Enrollment{}, ErrNoEnrollment
	case err != nil:
		return Enrollment{}, err
	case t.Confirmed():
		return Enrollment{}, ErrMFAEnabled
	case m.pendingExpired(t):
		return Enrollment{}, ErrNoEnrollment
	}
	return enrollment(u, secret)
}

func enrollment(u storage.User, secret []byte) (Enrollment, error) {
	uri, err := mfa.URI(notify.Product, u.Email, secret)
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{Secret: mfa.FormatSecret(secret), URI: uri}, nil
}

// totp reads and opens the user's TOTP through st.
func (m *MFA) totp(ctx context.Context, st storage.Storage, userID string) (storage.TOTP, []byte, error) {
	t, err := st.GetTOTP(ctx, userID)
	if err != nil {
		return t, nil, err
	}
	secret, err := m.keys.Open(userID, t.Secret)
	if err != nil {
		return t, nil, fmt.Errorf("account: opening TOTP secret of %s: %w", userID, err)
	}
	return t, secret, nil
}

// ConfirmEnrollment completes the setup with a current code from the app:
// the app now guards the user's sign-in, and the user gets
// mfa.RecoveryCodeCount recovery codes, returned here once and stored only
// as keyed hashes. The code's time step counts as used. The change, its
// audit entry and the notice email commit together. A wrong code changes
// nothing (ErrWrongCode; not counted toward the lock: the user is signed
// in and has just seen the secret). ErrNoEnrollment (also for a setup begun
// more than EnrollmentTTL ago), ErrMFAEnabled,
// ErrNotActive.
func (m *MFA) ConfirmEnrollment(ctx context.Context, userID, code, source string) ([]string, error) {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	codes, err := mfa.NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	notice, err := m.render(message{kind: notify.KindMFAEnabled, to: u.Email, data: notify.Data{Name: u.Name()}})
	if err != nil {
		return nil, err
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		now := m.now()
		t, secret, err := m.totp(ctx, tx, u.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return ErrNoEnrollment
		case err != nil:
			return err
		case t.Confirmed():
			return ErrMFAEnabled
		case m.pendingExpired(t):
			return ErrNoEnrollment
		}
		step, ok, err := mfa.Match(secret, code, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWrongCode
		}
		if _, err := tx.ConfirmTOTP(ctx, u.ID, step, now); errors.Is(err, storage.ErrNotFound) {
			return ErrMFAEnabled // confirmed concurrently
		} else if err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, u.ID, m.hashCodes(u.ID, codes), now); err != nil {
			return err
		}
		if err := m.enqueue(ctx, tx, notice); err != nil {
			return err
		}
		return auditMFA(ctx, tx, now, u.ID, ActionMFAEnable, u.ID, source, nil)
	})
	if err != nil {
		return nil, err
	}
	m.queued()
	m.log().InfoContext(ctx, "authenticator app set up", "user", u.ID)
	return codes, nil
}

func (m *MFA) hashCodes(userID string, codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		n, _ := mfa.NormalizeRecoveryCode(c)
		out[i] = m.keys.HashRecoveryCode(userID, n)
	}
	return out
}

// VerifySignIn checks the second factor of u, whose password was right,
// at sign-in from source in a browser that sent device (the device
// cookie, signin.Service.DeviceCookie; "" for none): a current code from the app (accepted once: its
// time step must be later than the last one used) or an unused recovery
// code (used up here, with an audit entry and a notice email). It returns
// which factor it was.
//
// Every attempt is counted before it is checked toward the same lock as
// that browser's wrong passwords (signin.Service.SecondFactor: the
// account's, or a trusted device's own): a
// wrong, replayed or malformed code gives ErrWrongCode, or a
// *signin.LockedError when it reaches the lock; while locked, every code
// is refused with a *signin.LockedError unchecked. A right code clears the
// count. ErrMFANotEnabled (not counted) when u has no confirmed app.
func (m *MFA) VerifySignIn(ctx context.Context, u storage.User, code, source, device string) (Factor, error) {
	f, err := m.verify(ctx, u, code, source, device)
	m.observeSignIn(signin.MethodSecondFactor, err, ErrWrongCode)
	if err != nil {
		return "", err
	}
	if f == FactorTOTP {
		// A recovery code's use has its own entry already.
		if err := auditMFA(ctx, m.Store, m.now(), u.ID, ActionMFASignIn, u.ID, source, nil); err != nil {
			return "", err
		}
	}
	m.log().InfoContext(ctx, "second factor accepted", "user", u.ID, "factor", f)
	return f, nil
}

// verify checks code as u's second factor, counted toward the lock (see
// VerifySignIn); a wrong code is audited.
func (m *MFA) verify(ctx context.Context, u storage.User, code, source, device string) (Factor, error) {
	t, secret, err := m.totp(ctx, m.Store, u.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "", ErrMFANotEnabled
	case err != nil:
		return "", err
	case !t.Confirmed():
		return "", ErrMFANotEnabled
	}
	var factor Factor
	ok, err := m.lock.SecondFactor(ctx, u, device, func() (bool, error) {
		var err error
		factor, err = m.check(ctx, u, secret, code, source)
		return factor != "", err
	})
	if err != nil {
		return "", err
	}
	if !ok {
		if err := auditMFA(ctx, m.Store, m.now(), u.ID, ActionMFACodeFailed, u.ID, source, nil); err != nil {
			return "", err
		}
		return "", ErrWrongCode
	}
	return factor, nil
}

// check tells which factor code is, "" for none: a TOTP code of a step
// not used before (the step is used up here), or an unused recovery code
// (used up, audited and noticed here, in one transaction).
func (m *MFA) check(ctx context.Context, u storage.User, secret []byte, code, source string) (Factor, error) {
	if _, ok := mfa.NormalizeCode(code); ok {
		step, ok, err := mfa.Match(secret, code, m.now())
		if err != nil || !ok {
			return "", err
		}
		err = m.Store.UseTOTPStep(ctx, u.ID, step)
		switch {
		case errors.Is(err, storage.ErrReused):
			m.log().InfoContext(ctx, "second factor: TOTP code replayed", "user", u.ID)
			return "", nil
		case err != nil:
			return "", fmt.Errorf("account: using TOTP step: %w", err)
		}
		return FactorTOTP, nil
	}
	n, ok := mfa.NormalizeRecoveryCode(code)
	if !ok {
		return "", nil
	}
	notice, err := m.render(message{kind: notify.KindMFARecoveryUsed, to: u.Email, data: notify.Data{Name: u.Name()}})
	if err != nil {
		return "", err
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		now := m.now()
		if err := tx.UseRecoveryCode(ctx, u.ID, m.keys.HashRecoveryCode(u.ID, n), now); err != nil {
			return err
		}
		if err := m.enqueue(ctx, tx, notice); err != nil {
			return err
		}
		return auditMFA(ctx, tx, now, u.ID, ActionMFARecoveryCodeUsed, u.ID, source, nil)
	})
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrReused):
		m.log().InfoContext(ctx, "second factor: unknown or used recovery code", "user", u.ID)
		return "", nil
	case err != nil:
		return "", fmt.Errorf("account: using recovery code: %w", err)
	}
	m.queued()
	return FactorRecoveryCode, nil
}

// Remove turns the user's second factor off: the app and the recovery
// codes are deleted, audited and a notice emailed, in one transaction. It
// needs the current password (counted per user as on the account page:
// ErrWrongPassword, ErrThrottled) and then a current code from the app or
// an unused recovery code (counted toward the sign-in lock as at sign-in,
// device being the browser's device cookie: ErrWrongCode,
// *signin.LockedError). ErrMFANotEnabled,
// ErrNotActive. Nothing changes on any error.
func (m *MFA) Remove(ctx context.Context, userID, password, code, source, device string) error {
	u, err := m.activeUser(ctx, userID)
	if err != nil {
		return err
	}
	on, err := m.Enabled(ctx, u.ID)
	if err != nil {
		return err
	}
	if !on {
		return ErrMFANotEnabled
	}
	if err := m.reauthenticate(ctx, u, password); err != nil {
		return err
	}
	if _, err := m.verify(ctx, u, code, source, device); err != nil {
		return err
	}
	notice, err := m.render(message{kind: notify.KindMFARemoved, to: u.Email, data: notify.Data{Name: u.Name()}})
	if err != nil {
		return err
	}
	err = m.Store.InTx(ctx, func(tx storage.Storage) error {
		if err := tx.DeleteMFA(ctx, u.ID); errors.Is(err, storage.ErrNotFound) {
			return ErrMFANotEnabled // removed concurrently
		} else if err != nil {
			return err
		}
		if err := m.enqueue(ctx, tx, notice); err != nil {
			return err
		}
		return auditMFA(ctx, tx, m.now(), u.ID, ActionMFARemove, u.ID, source, nil)
	})
	if err != nil {
		return err
	}
	m.queued()
	m.log().InfoContext(ctx, "authenticator app removed", "user", u.ID)
	return nil
}

// auditMFA appends one entry about userID's second factor, with the
// source address.
func auditMFA(ctx context.Context, st storage.Storage, now time.Time, actor, action, userID, source string, changes map[string][2]any) error {
	err := st.AppendAudit(ctx, storage.AuditEntry{
		At: now, ActorID: actor, Action: action, TargetType: "user", TargetID: userID, SourceAddr: source, Changes: changes,
	})
	if err != nil {
		return fmt.Errorf("account: audit %s: %w", action, err)
	}
	return nil
}
