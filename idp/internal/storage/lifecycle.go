package storage

import (
	"context"
	"log/slog"
	"time"
)

// Purposes of one-time tokens. A token is bound to one user and one purpose.
const (
	PurposePasswordReset = "password_reset"
	PurposeInvitation    = "invitation"
	PurposeEmailChange   = "email_change"
)

// OneTimeToken is a single-use link secret (reset, invitation, email change).
// Only the SHA-256 hash of the secret is stored.
type OneTimeToken struct {
	Hash    string // hex SHA-256 of the secret in the link; primary key
	UserID  string
	Purpose string
	// SentTo is the address the link was mailed to. An invitation or reset
	// works only while it is still the user's email; an email change link
	// confirms it as the new one.
	SentTo string
	// Data is purpose-specific: for an email change, the login email it was
	// requested from (which must still be the user's when it is used).
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
	// VoidedAt is zero unless the token was voided: replaced by a newer
	// token of the same user and purpose (its CreatedAt), or revoked with
	// the user's grants (RevokeUserGrants).
	VoidedAt time.Time
}

// LogValue keeps the hash out of logs.
func (t OneTimeToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", t.UserID), slog.String("purpose", t.Purpose))
}

// Message states in the outbox.
const (
	MessagePending = "pending"
	MessageSent    = "sent"
	MessageFailed  = "failed"
)

// Message is one email (or SMS) in the durable outbox. It is written in the
// same transaction as the change that caused it and delivered by a worker.
type Message struct {
	ID      int64
	Channel string // "email" or "sms"
	To      string
	// Body is the sealed (encrypted) content: the notify package encrypts
	// subject and parts with a key derived from the KEK, since links carry
	// one-time secrets. Cleared once the message is sent.
	Body          []byte
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	ClaimedUntil  time.Time // a worker holds it until then
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
}

// LogValue keeps the body out of logs.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", m.ID), slog.String("channel", m.Channel), slog.String("status", m.Status))
}

// MessageQuery selects outbox messages for admins, oldest first.
type MessageQuery struct {
	Status string // "" for all
	After  int64  // cursor: ID of the last message of the previous page
	Limit  int    // 0 means 50; at most 500
}

// AuditEntry records one change: who did what to which record, from where.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    string // user id; "" for the system or the CLI
	Action     string // e.g. "employee.create", "user.disable", "client.rotate_secret"
	TargetType string // "user", "client", …
	TargetID   string
	SourceAddr string
	// Changes lists changed fields with old and new values; never secrets.
	// Stored as JSON: values read back as JSON decodes them (string,
	// float64, bool, nil, []any, map[string]any); empty reads back nil.
	Changes map[string][2]any
}

// AuditQuery filters the audit log. Zero fields do not filter. Newest first.
type AuditQuery struct {
	ActorID  string
	TargetID string
	Action   string
	From, To time.Time // From ≤ At < To
	Before   int64     // cursor: ID of the last entry of the previous page
	Limit    int       // 0 means 50; at most 500
}

// Lifecycle is the storage for account lifecycle by email and for audit.
type Lifecycle interface {
	// InTx runs fn with a Storage whose every call belongs to one
	// transaction, committed when fn returns nil. The whole fn may run again
	// on a serialization failure, so it must have no effect outside tx.
	// fn's error is returned as is and nothing fn did is kept — except that
	// a token family revoked because a code or refresh token was reused
	// stays revoked. A call that fails inside fn may leave the transaction
	// unusable (PostgreSQL aborts it): return its error. InTx inside fn
	// joins the same transaction; tx must not be used after fn returns, nor
	// by several goroutines at once.
	InTx(ctx context.Context, fn func(tx Storage) error) error

	// CreateOneTimeToken stores t and voids the user's earlier unused tokens
	// of the same purpose (the newest wins).
	CreateOneTimeToken(ctx context.Context, t OneTimeToken) error
	// GetOneTimeToken returns the token whatever its state.
	GetOneTimeToken(ctx context.Context, hash string) (OneTimeToken, error)
	// UseOneTimeToken marks the token used if it has purpose, is unused, not
	// voided and unexpired at now; exactly one caller wins. Otherwise
	// ErrNotFound (unknown, wrong purpose, expired, voided) or ErrReused.
	UseOneTimeToken(ctx context.Context, hash, purpose string, now time.Time) (OneTimeToken, error)

	EnqueueMessage(ctx context.Context, m Message) (int64, error)
	// ClaimMessage takes the oldest pending message due at now that no
	// worker holds, holds it until now+lease and counts the attempt.
	// ErrNotFound when none is due. Replicas never claim one message twice
	// while held.
	ClaimMessage(ctx context.Context, now time.Time, lease time.Duration) (Message, error)
	// MarkMessageSent records delivery and clears the body.
	MarkMessageSent(ctx context.Context, id int64, now time.Time) error
	// MarkMessageFailed records a failed attempt: pending again at
	// nextAttempt, or failed for good when final.
	MarkMessageFailed(ctx context.Context, id int64, lastErr string, nextAttempt time.Time, final bool) error
	ListMessages(ctx context.Context, q MessageQuery) ([]Message, error)

	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns one page, newest first, and the next cursor (0 at the end).
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, int64, error)
}
