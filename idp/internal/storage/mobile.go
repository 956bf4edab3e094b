package storage

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Sign-in methods of clients and browser sessions. A client's method picks
// its sign-in page (email + password, or mobile number + PIN); a session's
// says how it was signed in. "" reads as SignInEmail.
const (
	SignInEmail = "email"
	SignInPhone = "phone"
)

// MobileState is where a clinician's mobile credential is.
type MobileState string

const (
	// MobileNone: no PIN; the clinician activates by SMS first.
	MobileNone MobileState = "none"
	// MobilePending: an activation code was sent or confirmed, no PIN yet.
	MobilePending MobileState = "pending"
	// MobileActive: a PIN is set for the credential's phone number.
	MobileActive MobileState = "active"
	// MobileLocked: active, but too many wrong PINs; never stored (see
	// MobileCredential.StateAt).
	MobileLocked MobileState = "locked"
)

// MobileCredential is a clinician's phone-linked mobile sign-in: a PIN
// bound to the phone number it was activated for. It stops working when the
// user's number is no longer Phone.
type MobileCredential struct {
	UserID string
	// State is MobileNone, MobilePending or MobileActive as stored;
	// StateAt adds MobileLocked.
	State   MobileState
	PINHash string // argon2id PHC; "" when no PIN is set
	// Phone is the E.164 number confirmed by SMS, which the PIN is bound
	// to; "" when none was.
	Phone           string
	PhoneVerifiedAt time.Time // zero when Phone was never confirmed
	ActivatedAt     time.Time // when the current PIN was set; zero without one
	LastSignInAt    time.Time
	// PINFailures counts wrong PINs in a row (each attempt is counted
	// before it is checked; a right PIN resets it).
	PINFailures int
	LockedUntil time.Time // no PIN is checked before this
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// StateAt is the state as admins and the account page show it: an active
// credential whose lock has not run out at now is MobileLocked.
func (c MobileCredential) StateAt(now time.Time) MobileState {
	if c.State == "" {
		return MobileNone
	}
	if c.State == MobileActive && c.LockedUntil.After(now) {
		return MobileLocked
	}
	return c.State
}

// PhoneVerified reports whether phone was confirmed by an SMS code: it is
// the credential's number and its confirmation is recorded.
func (c MobileCredential) PhoneVerified(phone string) bool {
	return phone != "" && c.Phone == phone && !c.PhoneVerifiedAt.IsZero()
}

// LogValue keeps the PIN hash out of logs.
func (c MobileCredential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.UserID), slog.String("state", string(c.State)),
		slog.Int("pin_failures", c.PINFailures))
}

// PINAttempt describes one PIN attempt for CountPINAttempt.
type PINAttempt struct {
	Now time.Time
	// LockAfter: the attempt that brings PINFailures to this sets
	// LockedUntil = LockUntil.
	LockAfter int
	LockUntil time.Time
	// VoidAfter: with this many failures no attempt is counted any more
	// (the caller voids the PIN).
	VoidAfter int
}

// PurposeMobilePIN is the one-time token that lets a clinician who has just
// confirmed their number by SMS choose a PIN; its SentTo is the number.
const PurposeMobilePIN = "mobile_pin"

// Purposes of mobile codes.
const (
	CodeActivation  = "activation"   // activate (or re-activate) the credential on the user's number
	CodePhoneChange = "phone_change" // confirm a new number before the user's phone changes to it
)

// MobileCode is a one-time code sent by SMS. Only a keyed hash of the code
// is stored; it is bound to one user, one purpose and the number it went to.
type MobileCode struct {
	ID        string // random; set by CreateMobileCode when empty
	UserID    string
	Purpose   string
	Phone     string // E.164 number the code was sent to
	CodeHash  string
	CreatedAt time.Time
	ExpiresAt time.Time
	Tries     int       // codes entered against it so far
	UsedAt    time.Time // zero while unused
	VoidedAt  time.Time // zero unless replaced, exhausted or killed
}

// LogValue keeps the hash out of logs.
func (c MobileCode) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.UserID), slog.String("purpose", c.Purpose), slog.Int("tries", c.Tries))
}

// Kinds of SignIn.
const (
	SignInSession = "session" // a browser (SSO) session
	SignInTokens  = "tokens"  // a refresh token family held by a client (an app)
)

// SignIn is one place a user is signed in, for the account page and the
// admin API: a live browser session, or a live refresh token family.
type SignIn struct {
	Kind string // SignInSession or SignInTokens
	// ID names it for ending it: the session's id hash or the family id.
	ID       string
	ClientID string // SignInTokens: the client holding the family
	// Method is the session's sign-in method, or the client's.
	Method     string
	Device     string
	SignedInAt time.Time // when the user authenticated
	LastUsedAt time.Time // the session's last request; the family's last refresh
}

// LogValue keeps the id out of logs.
func (s SignIn) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", s.Kind), slog.String("client", s.ClientID), slog.String("method", s.Method))
}

// ErrLocked: CountPINAttempt found no attempt allowed now (locked, PIN void
// or none).
var ErrLocked = errors.New("storage: no attempt allowed now")

// Mobile is the storage of clinicians' mobile credentials, their SMS codes
// and what a phone change revokes.
type Mobile interface {
	// GetMobileCredential returns the user's credential, or a zero one
	// (UserID set, State MobileNone) when there is none.
	GetMobileCredential(ctx context.Context, userID string) (MobileCredential, error)
	// UpdateMobileCredential reads the user's credential (a zero one when
	// there is none), applies fn and writes the result, holding the row
	// for the whole step. fn's error is returned as is and nothing is
	// written. UserID and CreatedAt are not fn's to set. An unknown user
	// gives ErrNotFound.
	UpdateMobileCredential(ctx context.Context, userID string, fn func(*MobileCredential) error) (MobileCredential, error)
	// CountPINAttempt counts one PIN attempt before it is checked, in one
	// atomic step: only an active credential with a PIN, not locked at
	// a.Now and with fewer than a.VoidAfter failures, is counted. It
	// returns the credential as counted; ErrLocked (wrapped, with the
	// credential as it is) when no attempt is allowed. Parallel attempts
	// never get past the limits.
	CountPINAttempt(ctx context.Context, userID string, a PINAttempt) (MobileCredential, error)

	// CreateMobileCode stores c and voids the user's earlier open codes of
	// the same purpose (the newest wins). An unknown user gives
	// ErrNotFound.
	CreateMobileCode(ctx context.Context, c MobileCode) (MobileCode, error)
	// TryMobileCode counts one entry against the user's open code of
	// purpose (unused, not voided, unexpired at now, fewer than maxTries
	// tries) in one atomic step and returns it as counted, so at most
	// maxTries entries are ever checked against a code. ErrNotFound when
	// there is no such code.
	TryMobileCode(ctx context.Context, userID, purpose string, now time.Time, maxTries int) (MobileCode, error)
	// UseMobileCode marks the code used if it is open at now; exactly one
	// caller wins. ErrReused when used before, ErrNotFound otherwise.
	UseMobileCode(ctx context.Context, id string, now time.Time) (MobileCode, error)
	// VoidMobileCode voids one open code; VoidMobileCodes every open code
	// of the user (whatever the purpose), returning how many.
	VoidMobileCode(ctx context.Context, id string, now time.Time) error
	VoidMobileCodes(ctx context.Context, userID string, now time.Time) (int64, error)

	// RevokeMobileGrants revokes, for one user, every browser session
	// signed in by phone and every refresh and access token of every
	// client whose sign-in method is phone (the families stay revoked, so
	// a token stored concurrently is dead too), and expires authorization
	// codes of such clients not yet redeemed. Email sign-ins are untouched.
	RevokeMobileGrants(ctx context.Context, userID string, now time.Time) error
	// ListSignIns returns where the user is signed in at now: live browser
	// sessions and live refresh token families, most recently used first.
	ListSignIns(ctx context.Context, userID string, now time.Time) ([]SignIn, error)
}
