package storage

import (
	"context"
	"log/slog"
	"time"
)

// TOTP is a user's authenticator app: the shared secret of time-based
// one-time passwords (RFC 6238). A user has at most one, pending until a
// code from the app confirms it.
type TOTP struct {
	UserID string
	// Secret is the shared secret sealed (AES-GCM) with a key derived from
	// the key-encryption key and bound to UserID (package mfa); the plain
	// secret is never stored.
	Secret    []byte
	CreatedAt time.Time
	// ConfirmedAt is zero while the enrolment is pending. Only a confirmed
	// TOTP counts as a second factor.
	ConfirmedAt time.Time
	// LastStep is the last time step (Unix time / 30 s) whose code was
	// accepted, 0 for none. A code of this step or an earlier one is
	// refused: each code works once.
	LastStep int64
}

// Confirmed reports whether the enrolment is complete.
func (t TOTP) Confirmed() bool { return !t.ConfirmedAt.IsZero() }

// LogValue keeps the sealed secret out of logs.
func (t TOTP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", t.UserID), slog.Bool("confirmed", t.Confirmed()))
}

// MFAStatus summarises a user's confirmed second factor.
type MFAStatus struct {
	EnabledAt         time.Time // when the TOTP was confirmed
	RecoveryCodesLeft int       // unused recovery codes
}

// MFA is the storage of second factors: the TOTP secret and the recovery
// codes (stored as hashes; each works once).
type MFA interface {
	// PutPendingTOTP stores t (ConfirmedAt zero, LastStep 0) as the user's
	// enrolment in progress, replacing an earlier pending one.
	// ErrAlreadyExists when the user has a confirmed TOTP (nothing is
	// changed); ErrNotFound for an unknown user.
	PutPendingTOTP(ctx context.Context, t TOTP) error
	// GetTOTP returns the user's TOTP, pending or confirmed; ErrNotFound
	// when there is none.
	GetTOTP(ctx context.Context, userID string) (TOTP, error)
	// ConfirmTOTP confirms the user's pending TOTP at now, recording step
	// (the confirming code's) as its last used step. Exactly one caller
	// wins; ErrNotFound when nothing is pending (none, or already
	// confirmed).
	ConfirmTOTP(ctx context.Context, userID string, step int64, now time.Time) (TOTP, error)
	// UseTOTPStep records step as used by the user's confirmed TOTP when it
	// is later than the last used step, in one atomic statement: of
	// callers presenting one step exactly one wins. ErrReused when step is
	// not later; ErrNotFound when the user has no confirmed TOTP.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteMFA removes the user's TOTP (pending or confirmed) and every
	// recovery code. ErrNotFound when there was no TOTP.
	DeleteMFA(ctx context.Context, userID string) error

	// ReplaceRecoveryCodes stores hashes as the user's recovery codes
	// (created at now) in place of any earlier ones.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, now time.Time) error
	// UseRecoveryCode marks the user's code with hash used at now, in one
	// atomic statement: exactly one caller wins. ErrReused when it was used
	// before; ErrNotFound when the user has no such code.
	UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error

	// MFAStatuses returns the status of each of userIDs that has a
	// confirmed TOTP; the others are absent from the map.
	MFAStatuses(ctx context.Context, userIDs []string) (map[string]MFAStatus, error)
}
