package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/notify"
	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// codeDigits is the length of an SMS code.
const codeDigits = 6

var codeSpace = big.NewInt(1_000_000)

// newCode returns a fresh 6-digit code from crypto/rand.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, codeSpace)
	if err != nil {
		return "", fmt.Errorf("account: reading random code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeHash is what the store keeps of code: an HMAC under the code key,
// bound to the user, the purpose and the number, so that a stolen table
// neither gives the codes away (a million SHA-256s would) nor lets one row
// stand in for another.
func (m *Mobile) codeHash(userID, purpose, phone, code string) string {
	mac := hmac.New(sha256.New, m.codeKey[:])
	for _, part := range []string{userID, purpose, phone, code} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// wellFormedCode reports whether code is 6 ASCII digits.
func wellFormedCode(code string) bool {
	if len(code) != codeDigits {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// codeSMS makes a new code of purpose for u to phone: the code, the row
// to store and the SMS that carries it. No I/O.
func (m *Mobile) codeSMS(u storage.User, purpose, phone string, now time.Time) (storage.MobileCode, notify.SMS, error) {
	code, err := newCode()
	if err != nil {
		return storage.MobileCode{}, notify.SMS{}, err
	}
	text, err := notify.CodeSMS(purpose, code, CodeTTL, m.Issuer)
	if err != nil {
		return storage.MobileCode{}, notify.SMS{}, err
	}
	row := storage.MobileCode{UserID: u.ID, Purpose: purpose, Phone: phone, CodeHash: m.codeHash(u.ID, purpose, phone, code),
		CreatedAt: now, ExpiresAt: now.Add(CodeTTL)}
	return row, notify.SMS{To: phone, Body: text}, nil
}

// sendCodeTx stores a new code of purpose for u, voiding the user's
// earlier ones of that purpose, and queues its SMS to phone, in tx.
func (m *Mobile) sendCodeTx(ctx context.Context, tx storage.Storage, u storage.User, purpose, phone string, now time.Time) error {
	if !m.SMS {
		return ErrSMSUnavailable
	}
	if m.Outbox == nil {
		return errors.New("account: Service.Outbox is not set")
	}
	row, sms, err := m.codeSMS(u, purpose, phone, now)
	if err != nil {
		return err
	}
	if _, err := tx.CreateMobileCode(ctx, row); err != nil {
		return fmt.Errorf("account: storing code: %w", err)
	}
	if err := m.Outbox.EnqueueSMS(ctx, tx, sms); err != nil {
		return fmt.Errorf("account: queueing SMS: %w", err)
	}
	return nil
}

// decoyCode does the work sendCodeTx would, short of writing: a code, its
// hash, its text sealed, and a read, so that a request for a number that
// gets no code takes about as long.
func (m *Mobile) decoyCode(ctx context.Context, phone string, now time.Time) {
	row, sms, err := m.codeSMS(storage.User{ID: "decoy"}, storage.CodeActivation, phone, now)
	if err == nil && m.Outbox != nil {
		_, _ = m.Outbox.SealSMS(sms)
	}
	_, _ = m.Store.GetMobileCredential(ctx, row.UserID)
}

// checkCode counts one entry of code against u's open code of purpose and
// compares it in constant time. It returns the code row when it matches;
// ErrInvalidCode otherwise, voiding the code (and auditing that) when this
// entry used its last try. Only CodeTries entries are ever compared: the
// store counts them atomically before the comparison.
func (m *Mobile) checkCode(ctx context.Context, u storage.User, purpose, code, source string) (storage.MobileCode, error) {
	now := m.now()
	if !wellFormedCode(code) {
		return storage.MobileCode{}, ErrInvalidCode
	}
	c, err := m.Store.TryMobileCode(ctx, u.ID, purpose, now, CodeTries)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.MobileCode{}, ErrInvalidCode
	}
	if err != nil {
		return storage.MobileCode{}, fmt.Errorf("account: checking code: %w", err)
	}
	want := m.codeHash(u.ID, purpose, c.Phone, code)
	if hmac.Equal([]byte(want), []byte(c.CodeHash)) {
		return c, nil
	}
	m.log().InfoContext(ctx, "mobile: wrong code", "user", u.ID, "purpose", purpose, "tries", c.Tries)
	if c.Tries >= CodeTries {
		if err := m.Store.VoidMobileCode(ctx, c.ID, now); err != nil {
			return storage.MobileCode{}, fmt.Errorf("account: voiding exhausted code: %w", err)
		}
		err := audit(ctx, m.Store, now, Actor{Source: source}, ActionMobileCodeVoided, u.ID, map[string][2]any{"purpose": {nil, purpose}})
		if err != nil {
			return storage.MobileCode{}, err
		}
		m.log().WarnContext(ctx, "mobile: code voided after too many wrong entries", "user", u.ID, "purpose", purpose)
	}
	return storage.MobileCode{}, ErrInvalidCode
}

// Throttle keys of the mobile use cases; none is shared with the sign-in
// or reset keys.
func smsNumberKey(phone string, day bool) string { return "sms-number" + daySuffix(day) + ":" + phone }
func smsUserKey(userID string, day bool) string  { return "sms-user" + daySuffix(day) + ":" + userID }
func smsSourceKey(source string, day bool) string {
	return "sms" + daySuffix(day) + "-" + signin.SourceKey(source)
}
func guessSourceKey(source string) string { return "mobile-guess-" + signin.SourceKey(source) }
func pinNumberKey(phone string) string    { return "pin-number:" + phone }

func daySuffix(day bool) string {
	if day {
		return "-day"
	}
	return ""
}

// countSMS counts one SMS request from source against a key pair (short
// window and day); ErrThrottled when either is used up. An empty id counts
// nothing. The request that uses up an allowance is audited
// (ActionMobileSMSLimit): once per lock, so a flood cannot fill the log.
func (m *Mobile) countSMS(ctx context.Context, key func(string, bool) string, id string, short, day int, source string, now time.Time) error {
	if id == "" {
		return nil
	}
	for _, w := range []struct {
		day    bool
		limit  int
		window time.Duration
	}{{false, short, smsShortWindow}, {true, day, smsDay}} {
		t, err := m.countRequestThrottle(ctx, key(id, w.day), w.limit, w.window, now)
		if err != nil {
			return err
		}
		if t.Failures == w.limit {
			m.auditLimit(ctx, ActionMobileSMSLimit, smsCounter(key(id, false)), id, source, w.window, t, now)
		}
	}
	return nil
}

// smsCounter names the counter of an SMS throttle key for the audit log.
func smsCounter(key string) string {
	switch {
	case strings.HasPrefix(key, "sms-number"):
		return "number"
	case strings.HasPrefix(key, "sms-user"):
		return "clinician"
	}
	return "source"
}

// auditLimit records that a counter of the mobile use cases reached its
// limit and is locked until t.LockedUntil: the entry's target is the
// clinician for a per-clinician counter, its details the number for a
// per-number one. Best effort: the request's answer does not depend on
// it (a failure is logged).
func (m *Mobile) auditLimit(ctx context.Context, action, counter, id, source string, window time.Duration, t storage.Throttle, now time.Time) {
	e := storage.AuditEntry{At: now, Action: action, SourceAddr: source, Changes: map[string][2]any{
		"counter": {nil, counter}, "window": {nil, window.String()},
		"locked_until": {nil, t.LockedUntil.UTC().Format(time.RFC3339)},
	}}
	switch counter {
	case "clinician":
		e.TargetType, e.TargetID = "user", id
	case "number":
		e.Changes["phone"] = [2]any{nil, id}
	}
	if err := m.Store.AppendAudit(ctx, e); err != nil {
		m.log().ErrorContext(ctx, "mobile: writing audit entry", "action", action, "err", err)
	}
}

// guessAllowed returns ErrThrottled while the source is locked out for
// wrong PINs or codes.
func (m *Mobile) guessAllowed(ctx context.Context, source string, now time.Time) error {
	if source == "" {
		return nil
	}
	t, err := m.Store.GetThrottle(ctx, guessSourceKey(source))
	if err != nil {
		return fmt.Errorf("account: reading throttle: %w", err)
	}
	if t.LockedUntil.After(now) {
		return &signin.LockedError{RetryAfter: t.LockedUntil.Sub(now)}
	}
	return nil
}

// wrongGuess counts a wrong PIN or code against the source; the result
// tells whether the source is now locked out.
func (m *Mobile) wrongGuess(ctx context.Context, source string, now time.Time) storage.Throttle {
	if source == "" {
		return storage.Throttle{}
	}
	t, err := m.Store.RecordFailure(ctx, guessSourceKey(source), storage.Failure{
		Now: now, ResetBefore: now.Add(-smsShortWindow), LockAfter: guessPerSource, LockUntil: now.Add(PINLockFor),
	})
	if err != nil {
		m.log().ErrorContext(ctx, "mobile: counting a wrong guess of the source", "err", err)
	}
	if t.Failures == guessPerSource {
		m.auditLimit(ctx, ActionMobileGuessLimit, "source", source, source, smsShortWindow, t, now)
	}
	return t
}
